"""Shared fixtures: people, clients, and helpers that walk the authorization code flow."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from jwcrypto import jwk, jwt

from oidc_selftest.pkce import pkce_pair
from tests.factories import (
    CLIENT_SECRET,
    ApplicationFactory,
    PublicClientFactory,
    ServiceClientFactory,
    UserFactory,
)

REDIRECT_URI = "https://rp.example.com/callback"
ISSUER = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _oauth2_provider(settings):
    """Every test runs with the same known issuer, whatever PORT or IDP_ISSUER the shell has, and DOT
    builds its oauthlib server per request, so a test that changes DOT's settings sees them applied."""
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": ISSUER,
        "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: no counters or one-time secrets left by another."""
    from django.core.cache import cache

    from idp.key_set import forget_keys

    cache.clear()
    forget_keys()  # signing keys another test stored were rolled back with its transaction


@pytest.fixture
def user(db):
    return UserFactory(
        username="alice",
        first_name="Alice",
        last_name="Liddell",
        email="alice@example.com",
        phone_number="+441234567890",
        phone_number_verified=True,
        locality="Oxford",
        country="United Kingdom",
    )


@pytest.fixture
def web_client(db):
    return ApplicationFactory(client_id="web-client")


@pytest.fixture
def other_client(db):
    return ApplicationFactory(client_id="other-client")


@pytest.fixture
def public_client(db):
    return PublicClientFactory(client_id="spa-client", redirect_uris=REDIRECT_URI)


@pytest.fixture
def service_client(db):
    return ServiceClientFactory(client_id="service-client")


@pytest.fixture
def device_client(db):
    """A public client of the device grant (RFC 8628): a TV app, a CLI."""
    return PublicClientFactory(
        client_id="tv-client",
        kind="native",
        authorization_grant_type="urn:ietf:params:oauth:grant-type:device_code",
        redirect_uris="",
    )


def basic_auth(client_id: str, secret: str = CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Authorization:
    code: str
    verifier: str
    redirect_uri: str
    location: str


def authorize_params(app, *, challenge: str, **extra) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": "xyz-state",
        "nonce": "n-0S6_WzA2Mj",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {key: value for key, value in params.items() if value is not None}


def authorize(client, app, **extra) -> Authorization:
    """Ask for a code as the logged-in user of ``client`` and approve the consent page."""
    verifier, challenge = pkce_pair()
    params = authorize_params(app, challenge=challenge, **extra)
    response = client.get("/authorize", params)
    if response.status_code == 200:  # the consent page: approve it
        response = client.post("/authorize", {**consent_form_data(response), "allow": "1"})
    assert response.status_code == 302, response.content[:500]
    query = query_of(response["Location"])
    assert "code" in query, response["Location"]
    return Authorization(query["code"], verifier, params["redirect_uri"], response["Location"])


def consent_form_data(page) -> dict[str, str]:
    """What the consent page's form posts back, without the button."""
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    return {**data, page.context["consent_marker"]: "1"}


def exchange(client, app, authz: Authorization, **extra):
    data = {
        "grant_type": "authorization_code",
        "code": authz.code,
        "redirect_uri": authz.redirect_uri,
        "code_verifier": authz.verifier,
    }
    data.update(extra)
    return client.post("/token", data, HTTP_AUTHORIZATION=basic_auth(app.client_id))


def verify_id_token(client, token: str) -> dict:
    """Verify ``token`` against the JWKS served by the provider and return its claims."""
    keyset = jwk.JWKSet.from_json(client.get("/.well-known/jwks.json").content)
    verified = jwt.JWT(jwt=token, key=keyset, algs=["RS256"], check_claims={"exp": None})
    return json.loads(verified.claims)


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def tokens(logged_in, web_client):
    """A token response for ``user`` at ``web_client``: openid profile email, and offline_access."""
    authz = authorize(logged_in, web_client, scope="openid profile email offline_access", prompt="consent")
    response = exchange(logged_in, web_client, authz)
    assert response.status_code == 200, response.content
    return response.json()


def admin_form_data(page, **changes) -> dict:
    """The admin change form's current values as POST data, with ``changes`` applied."""
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = changes[name] if name in changes else form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        elif isinstance(value, list | tuple):
            value = [getattr(item, "pk", item) for item in value]
        data[name] = value
    return data
