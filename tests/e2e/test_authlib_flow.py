"""Authlib, as an independent OIDC client, walks code+PKCE, ID token, userinfo, refresh and introspection."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import requests

from .live_server import REQUEST_TIMEOUT
from .rp import (
    OTHER_WEB,
    REDIRECT_URI,
    SERVICE,
    WEB,
    Authorized,
    authorize_alice,
    client_session,
    fetch_discovery,
    query_of,
    token_request,
)

with warnings.catch_warnings():
    # Authlib 1.x announces joserfc as the successor of authlib.jose; the API used here is stable.
    # (Imported after .rp, whose authlib import installs authlib's own "always" filter first.)
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, jwt

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def discovery(live_idp) -> dict:
    return fetch_discovery(live_idp)


@pytest.fixture(scope="module")
def key_set(discovery):
    response = requests.get(discovery["jwks_uri"], timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200, response.text
    return JsonWebKey.import_key_set(response.json())


@pytest.fixture
def authorized(discovery) -> Iterator[Authorized]:
    """A fresh sign-in, consent and code exchange for alice at demo-web."""
    authorized = authorize_alice(discovery)
    yield authorized
    authorized.oauth.close()


def decode_id_token(token: str, key_set, issuer: str):
    claims = jwt.decode(
        token,
        key_set,
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": WEB[0]},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
        },
    )
    claims.validate()
    return claims


def test_discovery_issuer_is_exactly_the_server_origin(live_idp, discovery):
    assert discovery["issuer"] == live_idp.base_url
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert discovery[endpoint].startswith(live_idp.base_url + "/"), (endpoint, discovery[endpoint])


def test_authorization_response_carries_code_state_and_iss(discovery, authorized):
    assert authorized.location.startswith(REDIRECT_URI + "?"), authorized.location
    query = query_of(authorized.location)
    assert query["code"]
    assert query["state"] == authorized.state
    assert query["iss"] == discovery["issuer"]


def test_code_exchange_returns_access_id_and_refresh_tokens(authorized):
    assert authorized.token["token_type"].lower() == "bearer"
    for kind in ("access_token", "id_token", "refresh_token"):
        assert authorized.token.get(kind), kind


def test_id_token_verifies_against_jwks_with_issuer_audience_and_nonce(discovery, key_set, authorized):
    claims = decode_id_token(authorized.token["id_token"], key_set, discovery["issuer"])
    assert claims["nonce"] == authorized.nonce
    assert isinstance(claims["sub"], str)
    assert not claims["sub"].isdigit(), f"sub looks like a database id: {claims['sub']!r}"
    assert isinstance(claims["auth_time"], int)


def test_userinfo_returns_alice_for_the_id_token_subject(discovery, key_set, authorized):
    claims = decode_id_token(authorized.token["id_token"], key_set, discovery["issuer"])
    response = authorized.oauth.get(discovery["userinfo_endpoint"])
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["sub"] == claims["sub"]
    assert info["email"] == "alice@example.com"
    assert info["name"]


def test_refresh_rotates_and_replaying_the_old_token_revokes_the_family(discovery, authorized):
    token_endpoint = discovery["token_endpoint"]
    old = authorized.token
    new = authorized.oauth.refresh_token(token_endpoint)
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]

    replay = token_request(
        token_endpoint, WEB, grant_type="refresh_token", refresh_token=old["refresh_token"]
    )
    assert replay.status_code == 400, replay.text
    assert replay.json()["error"] == "invalid_grant"

    after_reuse = token_request(
        token_endpoint, WEB, grant_type="refresh_token", refresh_token=new["refresh_token"]
    )
    assert after_reuse.status_code == 400, after_reuse.text
    assert after_reuse.json()["error"] == "invalid_grant"


def test_client_credentials_returns_access_token_without_id_token(discovery):
    with client_session(SERVICE) as oauth:
        token = oauth.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    assert token["access_token"]
    assert "id_token" not in token


def test_introspection_is_active_for_the_owner_and_opaque_to_another_client(discovery, authorized):
    endpoint = discovery["introspection_endpoint"]
    access_token = authorized.token["access_token"]

    own = requests.post(endpoint, data={"token": access_token}, auth=WEB, timeout=REQUEST_TIMEOUT)
    assert own.status_code == 200, own.text
    assert own.json()["active"] is True
    assert own.json()["client_id"] == WEB[0]

    other = requests.post(endpoint, data={"token": access_token}, auth=OTHER_WEB, timeout=REQUEST_TIMEOUT)
    assert other.status_code == 200, other.text
    assert other.json() == {"active": False}
