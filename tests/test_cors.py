"""CORS at the token endpoint: registered https and loopback origins of a usable client, nothing else."""

import pytest

from tests.conftest import authorize
from tests.factories import PublicClientFactory

pytestmark = pytest.mark.django_db

DEV_SPA = "http://127.0.0.1:8765"
PROD_SPA = "https://spa.example.com"


@pytest.fixture
def spa(db):
    return PublicClientFactory(client_id="dev-spa", allowed_origins=f"{DEV_SPA} {PROD_SPA}")


def redeem(client, app, *, origin: str, code: str | None = None):
    """The token request a single-page app's fetch() sends, with the browser's Origin header."""
    authz = authorize(client, app)
    return client.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": code or authz.code,
            "redirect_uri": authz.redirect_uri,
            "code_verifier": authz.verifier,
            "client_id": app.client_id,
        },
        HTTP_ORIGIN=origin,
    )


def preflight(client, *, origin: str):
    return client.options(
        "/token",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


@pytest.mark.parametrize("origin", [DEV_SPA, PROD_SPA])
def test_registered_origin_may_read_the_token_response(logged_in, spa, origin):
    response = redeem(logged_in, spa, origin=origin)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == origin
    assert "Origin" in response["Vary"]


def test_registered_loopback_origin_may_read_an_error_response(logged_in, spa):
    response = redeem(logged_in, spa, origin=DEV_SPA, code="not-a-code")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response["Access-Control-Allow-Origin"] == DEV_SPA


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:8766",
        "http://localhost:8765",
        "https://evil.example",
        "https://127.0.0.1:8765",
        "null",
    ],
)
def test_unregistered_origin_gets_no_cors_header(logged_in, spa, origin):
    response = redeem(logged_in, spa, origin=origin)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_http_origin_off_loopback_is_refused_even_if_registered(logged_in, db):
    # Stored without the admin's validation (a fixture, an import, DOT's own forms): still no CORS.
    app = PublicClientFactory(client_id="legacy-spa", allowed_origins="http://spa.example.com")
    response = redeem(logged_in, app, origin="http://spa.example.com")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in preflight(logged_in, origin="http://spa.example.com")


def test_origin_of_another_client_gets_no_cors_header(logged_in, spa, public_client):
    response = redeem(logged_in, public_client, origin=DEV_SPA)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_disabled_client_gets_no_cors_header(logged_in, spa):
    response = redeem(logged_in, spa, origin=DEV_SPA)
    spa.is_active = False
    spa.save(update_fields=["is_active"])
    refused = logged_in.post(
        "/token",
        {"grant_type": "authorization_code", "code": "x", "client_id": spa.client_id},
        HTTP_ORIGIN=DEV_SPA,
    )
    assert response["Access-Control-Allow-Origin"] == DEV_SPA
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Origin" not in preflight(logged_in, origin=DEV_SPA)


@pytest.mark.parametrize("origin", [DEV_SPA, PROD_SPA])
def test_preflight_from_a_registered_origin_allows_a_form_post(client, spa, origin):
    response = preflight(client, origin=origin)
    assert response.status_code == 204 and response.content == b""
    assert response["Access-Control-Allow-Origin"] == origin
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"].lower()
    assert "Origin" in response["Vary"]


def test_preflight_from_an_unregistered_origin_gets_no_cors_headers(client, spa):
    response = preflight(client, origin="http://127.0.0.1:9999")
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response
