"""Discovery (OIDC and RFC 8414) and JWKS: exact issuer, only what works, no private key material."""

import json

import pytest
from jwcrypto import jwk

from idp.claims import claim_names_for
from idp.keys import generate_private_key_pem
from tests.conftest import (
    ISSUER,
    REDIRECT_URI,
    authorize,
    authorize_params,
    basic_auth,
    exchange,
    pkce_pair,
    query_of,
)
from tests.factories import CLIENT_SECRET, PublicClientFactory, ServiceClientFactory

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
    assert doc["grant_types_supported"] == [
        "authorization_code", "refresh_token", "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]  # fmt: skip
    assert doc["device_authorization_endpoint"] == ISSUER + "/device-authorization"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["subject_types_supported"] == ["public", "pairwise"]
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


# --- advertised == enforced: each list against the endpoint that enforces it ---------------------------


def discovery(client) -> dict:
    return client.get("/.well-known/openid-configuration").json()


def token_error(response) -> str | None:
    return response.json().get("error") if response["Content-Type"] == "application/json" else None


GRANT_TYPES_OAUTHLIB_KNOWS = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "implicit",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
]


@pytest.mark.parametrize("grant_type", GRANT_TYPES_OAUTHLIB_KNOWS)
def test_the_token_endpoint_accepts_exactly_the_advertised_grant_types(client, web_client, grant_type):
    advertised = discovery(client)["grant_types_supported"]
    response = client.post(
        "/token", {"grant_type": grant_type}, HTTP_AUTHORIZATION=basic_auth(web_client.client_id)
    )
    assert (token_error(response) != "unsupported_grant_type") is (grant_type in advertised)


def test_grant_types_follow_dots_setting_at_the_endpoint_and_in_both_documents(client, settings):
    ServiceClientFactory(client_id="svc")
    assert "client_credentials" in discovery(client)["grant_types_supported"]
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    }
    assert discovery(client)["grant_types_supported"] == ["authorization_code", "refresh_token"]
    oauth = client.get("/.well-known/oauth-authorization-server").json()
    assert oauth["grant_types_supported"] == ["authorization_code", "refresh_token"]
    response = client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth("svc")
    )
    assert token_error(response) == "unsupported_grant_type"


@pytest.mark.parametrize(
    "response_type",
    [
        "code",
        "token",
        "id_token",
        "id_token token",
        "code id_token",
        "code token",
        "code id_token token",
        "none",
    ],
)
def test_the_authorization_endpoint_issues_codes_for_exactly_the_advertised_response_types(
    logged_in, web_client, response_type
):
    advertised = discovery(logged_in)["response_types_supported"]
    params = authorize_params(
        web_client, challenge=pkce_pair()[1], response_type=response_type, prompt="consent"
    )
    response = logged_in.get("/authorize", params)
    if response_type in advertised:
        assert response.status_code == 200 and response.context["form"] is not None
    else:
        assert response.status_code == 302
        query = query_of(response["Location"])
        assert query["error"] == "unsupported_response_type" and "code" not in query


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_accepts_exactly_the_advertised_methods(logged_in, web_client, method):
    advertised = discovery(logged_in)["code_challenge_methods_supported"]
    params = authorize_params(web_client, challenge=pkce_pair()[1], code_challenge_method=method)
    response = logged_in.get("/authorize", params)
    if method in advertised:
        assert response.status_code == 200
    else:
        assert response.status_code == 302 and query_of(response["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize("mode", ["query", "fragment", "form_post"])
def test_response_modes_are_exactly_the_advertised_ones(logged_in, web_client, mode):
    advertised = discovery(logged_in)["response_modes_supported"]
    params = authorize_params(web_client, challenge=pkce_pair()[1], response_mode=mode)
    response = logged_in.get("/authorize", params)
    assert (response.status_code == 200) is (mode in advertised)


@pytest.mark.parametrize("prompt", ["none", "login", "consent", "select_account", "create", "bogus"])
def test_prompt_values_are_exactly_the_advertised_ones(logged_in, web_client, prompt):
    advertised = discovery(logged_in)["prompt_values_supported"]
    response = logged_in.get(
        "/authorize", authorize_params(web_client, challenge=pkce_pair()[1], prompt=prompt)
    )
    error = query_of(response.get("Location", "")).get("error")
    assert (error == "invalid_request") is (prompt not in advertised), (response.status_code, error)


def test_every_advertised_scope_is_granted_and_another_is_refused(logged_in, web_client, client):
    advertised = discovery(client)["scopes_supported"]
    person_scopes = [scope for scope in advertised if scope != "users:read"]
    app = PublicClientFactory(
        client_id="all-scopes", redirect_uris=REDIRECT_URI, allowed_scopes=" ".join(advertised)
    )
    authz = authorize(logged_in, app, scope=" ".join(person_scopes), prompt="consent")  # offline_access
    body = logged_in.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": authz.code,
            "redirect_uri": authz.redirect_uri,
            "code_verifier": authz.verifier,
            "client_id": app.client_id,
        },
    ).json()
    assert set(body["scope"].split()) == set(person_scopes)
    service = ServiceClientFactory(client_id="svc", allowed_scopes="users:read")
    response = client.post(
        "/token",
        {"grant_type": "client_credentials", "scope": "users:read"},
        HTTP_AUTHORIZATION=basic_auth("svc"),
    )
    assert response.json()["scope"] == "users:read" and "users:read" in advertised
    unknown = client.post(
        "/token",
        {"grant_type": "client_credentials", "scope": "admin"},
        HTTP_AUTHORIZATION=basic_auth(service.client_id),
    )
    assert token_error(unknown) == "invalid_scope" and "admin" not in advertised


def test_every_advertised_claim_is_one_the_provider_can_release(client):
    doc = discovery(client)
    releasable = {claim for scope in doc["scopes_supported"] for claim in claim_names_for([scope])}
    id_token_claims = {"iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "acr", "amr", "sid"}
    assert set(doc["claims_supported"]) == releasable | id_token_claims


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "none", "client_secret_jwt"])
def test_the_token_endpoint_authenticates_exactly_the_advertised_methods(client, method):
    advertised = discovery(client)["token_endpoint_auth_methods_supported"]
    if method == "none":
        public = PublicClientFactory(client_id="spa", redirect_uris=REDIRECT_URI)
        response = client.post(
            "/token", {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "spa"}
        )
        assert token_error(response) == "invalid_grant" and public.client_type == "public"
    else:
        ServiceClientFactory(client_id="svc")
        data, headers = {"grant_type": "client_credentials"}, {}
        if method == "client_secret_basic":
            headers["HTTP_AUTHORIZATION"] = basic_auth("svc")
        elif method == "client_secret_post":
            data.update(client_id="svc", client_secret=CLIENT_SECRET)
        else:
            data.update(
                client_id="svc",
                client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                client_assertion="a.b.c",
            )
        response = client.post("/token", data, **headers)
        assert (response.status_code == 200) is (method in advertised), response.content


def test_introspection_refuses_the_unadvertised_method_none(client, logged_in, web_client):
    advertised = discovery(client)["introspection_endpoint_auth_methods_supported"]
    assert "none" not in advertised
    token = exchange(logged_in, web_client, authorize(logged_in, web_client)).json()["access_token"]
    PublicClientFactory(client_id="spa", redirect_uris=REDIRECT_URI)
    response = client.post("/introspect", {"token": token, "client_id": "spa"})
    assert response.status_code == 401


def test_id_tokens_are_signed_with_the_advertised_algorithm(client, tokens):
    from jwcrypto import jws

    token = jws.JWS()
    token.deserialize(tokens["id_token"])
    assert [token.jose_header["alg"]] == discovery(client)["id_token_signing_alg_values_supported"]


def test_clients_may_cache_the_documents_and_jwks_for_dots_jwks_max_age(client, settings):
    assert client.get("/.well-known/openid-configuration")["Cache-Control"] == "public, max-age=3600"
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_JWKS_MAX_AGE_SECONDS": 60}
    response = client.get("/.well-known/openid-configuration")
    assert response["Cache-Control"] == "public, max-age=60"
    assert client.get("/.well-known/jwks.json")["Cache-Control"] == "public, max-age=60"
