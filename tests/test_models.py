"""Application redirect matching: exact for every client, RFC 8252 loopback port variance for native apps."""

import pytest

from tests.conftest import authorize, authorize_params, exchange, pkce_pair, query_of
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

LOOPBACK = "http://127.0.0.1:8765/callback"
OTHER_PORTS = [
    "http://127.0.0.1:8766/callback",
    "http://127.0.0.1/callback",
    "http://127.0.0.1:08765/callback",
    "http://127.0.0.1:80/callback",
]


def ask(client, app, redirect_uri):
    return client.get(
        "/authorize", authorize_params(app, challenge=pkce_pair()[1], redirect_uri=redirect_uri)
    )


@pytest.mark.parametrize("kind", ["web", "spa"])
@pytest.mark.parametrize("redirect_uri", OTHER_PORTS)
def test_a_loopback_redirect_uri_on_another_port_is_refused_for_web_and_spa(logged_in, kind, redirect_uri):
    client_type = "confidential" if kind == "web" else "public"
    app = ApplicationFactory(kind=kind, client_type=client_type, redirect_uris=LOOPBACK)
    response = ask(logged_in, app, redirect_uri)
    assert response.status_code == 400 and "Location" not in response


def test_the_registered_loopback_redirect_uri_itself_is_accepted(logged_in):
    app = ApplicationFactory(redirect_uris=LOOPBACK)
    assert ask(logged_in, app, LOOPBACK).status_code == 200


@pytest.fixture
def native(db):
    return ApplicationFactory(
        client_id="native-app", kind="native", client_type="public", client_secret="", redirect_uris=LOOPBACK
    )


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:8766/callback", "http://127.0.0.1:51234/callback"]
)
def test_a_native_app_may_use_any_loopback_port(logged_in, native, redirect_uri):
    authz = authorize(logged_in, native, redirect_uri=redirect_uri)
    assert authz.location.startswith(redirect_uri + "?")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8766/other",
        "http://127.0.0.1:8766/callback?x=1",
        "http://localhost:8765/callback",
        "https://127.0.0.1:8765/callback",
        "http://127.0.0.1:8766/callback#f",
        "http://user@127.0.0.1:8766/callback",
        "http://127.0.0.1:99999/callback",
        "http://127.0.0.1:x/callback",
        "http://[/callback",
    ],
)
def test_a_native_app_varies_only_the_port(logged_in, native, redirect_uri):
    response = ask(logged_in, native, redirect_uri)
    assert response.status_code == 400 and "Location" not in response


def test_a_native_loopback_uri_never_matches_a_shorter_request_overlapping_it(logged_in):
    app = ApplicationFactory(
        kind="native", client_type="public", client_secret="", redirect_uris="http://127.0.0.1/127.0.0.1"
    )
    response = ask(logged_in, app, "http://127.0.0.1")
    assert response.status_code == 400 and "Location" not in response
    assert ask(logged_in, app, "http://127.0.0.1:8000/127.0.0.1").status_code == 200


def test_the_code_is_redeemed_only_with_the_port_it_was_issued_for(logged_in, native):
    authz = authorize(logged_in, native, redirect_uri="http://127.0.0.1:8766/callback")
    response = logged_in.post(
        "/token",
        {"grant_type": "authorization_code", "code": authz.code, "redirect_uri": LOOPBACK,
         "code_verifier": authz.verifier, "client_id": native.client_id},
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_loopback_post_logout_uri_on_another_port_gets_a_page_not_a_redirect(logged_in):
    app = ApplicationFactory(
        redirect_uris="https://rp.example.com/callback", post_logout_redirect_uris=LOOPBACK
    )
    body = exchange(logged_in, app, authorize(logged_in, app)).json()
    for uri in OTHER_PORTS:
        response = logged_in.get(
            "/end-session", {"id_token_hint": body["id_token"], "post_logout_redirect_uri": uri}
        )
        assert response.status_code == 400 and "Location" not in response, uri
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": body["id_token"], "post_logout_redirect_uri": LOOPBACK, "state": "s"},
    )
    assert response.status_code == 302 and query_of(response["Location"]) == {"state": "s"}
