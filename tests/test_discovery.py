"""Discovery (OIDC and RFC 8414) and JWKS: exact issuer, only what works, no private key material."""

import json

import pytest
from jwcrypto import jwk

from idp.keys import generate_private_key_pem
from tests.conftest import ISSUER

pytestmark = pytest.mark.django_db


def test_openid_configuration_issuer_is_exact_and_endpoints_absolute(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    doc = response.json()
    assert doc["issuer"] == ISSUER
    for name in (
        "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint",
        "revocation_endpoint", "introspection_endpoint",
    ):  # fmt: skip
        assert doc[name].startswith(ISSUER + "/"), name
    assert doc["authorization_endpoint"] == ISSUER + "/authorize"


def test_openid_configuration_advertises_only_what_works(client):
    doc = client.get("/.well-known/openid-configuration").json()
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["grant_types_supported"] == ["authorization_code", "refresh_token", "client_credentials"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["subject_types_supported"] == ["public"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "none",
    }  # fmt: skip
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email", "address", "phone", "offline_access"} <= set(
        doc["scopes_supported"]
    )
    assert {"sub", "email", "email_verified", "address", "phone_number", "name"} <= set(
        doc["claims_supported"]
    )
    assert doc["request_parameter_supported"] is False
    assert doc["request_uri_parameter_supported"] is False
    assert "token" not in doc["response_types_supported"]
    assert "implicit" not in doc["grant_types_supported"] and "password" not in doc["grant_types_supported"]


def test_oauth_authorization_server_metadata_matches(client):
    oidc = client.get("/.well-known/openid-configuration").json()
    oauth = client.get("/.well-known/oauth-authorization-server").json()
    assert oauth["issuer"] == ISSUER
    for key, value in oauth.items():
        assert oidc[key] == value, key


def test_issuer_follows_the_setting(client, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    doc = client.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == "https://id.example.com"
    assert doc["token_endpoint"] == "https://id.example.com/token"


def test_jwks_publishes_public_keys_only(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256" and key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
    assert jwk.JWK(**key).has_private is False


def test_jwks_also_publishes_retired_keys(client, settings):
    retired = generate_private_key_pem()
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [retired]}
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 2
    assert keys[1]["kid"] == jwk.JWK.from_pem(retired.encode()).thumbprint()
    assert len({k["kid"] for k in keys}) == 2
    assert all("d" not in k for k in keys)
    assert json.loads(client.get("/.well-known/jwks.json").content) == {"keys": keys}
