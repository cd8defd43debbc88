"""RP-initiated logout: verified requests redirect with state; anything else gets a page, never a redirect."""

import pytest

from idp.models import AccessToken
from tests.conftest import query_of

pytestmark = pytest.mark.django_db

POST_LOGOUT = "https://rp.example.com/logged-out"


def test_valid_hint_and_registered_uri_redirect_with_state_and_end_the_session(logged_in, tokens, web_client):
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT, "state": "bye"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(POST_LOGOUT)
    assert query_of(response["Location"]) == {"state": "bye"}
    assert "_auth_user_id" not in logged_in.session
    # Tokens held by the RP (or by other devices) are not destroyed by ending this browser session.
    assert AccessToken.objects.count() == 1


def test_unregistered_post_logout_uri_gets_a_page_not_a_redirect(logged_in, tokens):
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/out"},
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_modified_post_logout_uri_gets_a_page(logged_in, tokens):
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT + "?foo=bar"},
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_tampered_hint_gets_a_page(logged_in, tokens):
    header, payload, _signature = tokens["id_token"].split(".")
    response = logged_in.get(
        "/end-session", {"id_token_hint": f"{header}.{payload}.", "post_logout_redirect_uri": POST_LOGOUT}
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_garbage_hint_gets_a_page_not_a_500(logged_in):
    response = logged_in.get(
        "/end-session", {"id_token_hint": "garbage", "post_logout_redirect_uri": POST_LOGOUT}
    )
    assert response.status_code == 400


def test_unknown_client_id_gets_a_page_not_a_500(logged_in):
    response = logged_in.get("/end-session", {"client_id": "nobody", "post_logout_redirect_uri": POST_LOGOUT})
    assert response.status_code == 400
    assert "Location" not in response


def test_anonymous_request_without_parameters_shows_the_logged_out_page(client):
    response = client.get("/end-session")
    assert response.status_code == 200
    assert b"You are signed out" in response.content


def test_unverifiable_request_asks_for_confirmation(logged_in):
    response = logged_in.get("/end-session")
    assert response.status_code == 200
    assert b"Sign out?" in response.content
    assert "_auth_user_id" in logged_in.session
    confirmed = logged_in.post("/end-session", {"allow": "1"})
    assert confirmed.status_code == 200
    assert b"You are signed out" in confirmed.content
    assert "_auth_user_id" not in logged_in.session
