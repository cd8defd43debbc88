"""RP-initiated logout: verified requests redirect with state; anything else gets a page, never a redirect."""

import base64
import json

import pytest

from idp.models import AccessToken
from tests.conftest import query_of

pytestmark = pytest.mark.django_db

POST_LOGOUT = "https://rp.example.com/logged-out"


def confirmation_form_data(page) -> dict[str, str]:
    """What the confirmation page's own form posts back, without the button."""
    data = {name: value for name, value in page.context["form"].initial.items() if value}
    return {**data, page.context["logout_marker"]: "1"}


def enforcing_csrf(client):
    """``client`` as a browser is treated: Django's CSRF check applies to its POSTs."""
    client.handler.enforce_csrf_checks = True
    return client


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


@pytest.mark.parametrize("junk", ["\x7f\x7f", "%", " ", "="])
def test_a_hint_with_junk_inserted_is_not_taken_for_the_genuine_one(logged_in, tokens, junk):
    """jwcrypto's lenient base64 skips characters outside the alphabet (found by the fuzz test)."""
    header, payload, signature = tokens["id_token"].split(".")
    hint = f"{header}.{junk}{payload}.{signature}"
    response = logged_in.get("/end-session", {"id_token_hint": hint, "post_logout_redirect_uri": POST_LOGOUT})
    assert response.status_code == 400
    assert "Location" not in response
    assert "_auth_user_id" in logged_in.session  # still signed in


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
    confirmed = logged_in.post("/end-session", {**confirmation_form_data(response), "allow": "1"})
    assert confirmed.status_code == 200
    assert b"You are signed out" in confirmed.content
    assert "_auth_user_id" not in logged_in.session


def test_post_from_the_relying_party_without_csrf_token_signs_out_and_redirects_with_state(
    logged_in, tokens, web_client
):
    # RP-Initiated Logout 1.0 §2: the OP MUST support POST; the RP's form carries no CSRF token of ours.
    response = enforcing_csrf(logged_in).post(
        "/end-session",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": POST_LOGOUT,
            "state": "bye",
            "client_id": web_client.client_id,
            "ui_locales": "en",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(POST_LOGOUT)
    assert query_of(response["Location"]) == {"state": "bye"}
    assert "_auth_user_id" not in logged_in.session


def test_post_from_the_relying_party_with_unregistered_uri_gets_a_page_and_keeps_the_session(
    logged_in, tokens
):
    response = enforcing_csrf(logged_in).post(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert "_auth_user_id" in logged_in.session


def test_unverifiable_post_from_the_relying_party_asks_for_confirmation(logged_in):
    response = enforcing_csrf(logged_in).post("/end-session", {"allow": "1"})
    assert response.status_code == 200
    assert b"Sign out?" in response.content
    assert "_auth_user_id" in logged_in.session


def test_confirmation_form_post_without_csrf_token_is_refused_and_keeps_the_session(logged_in):
    page = logged_in.get("/end-session")
    response = enforcing_csrf(logged_in).post("/end-session", {**confirmation_form_data(page), "allow": "1"})
    assert response.status_code == 403
    assert "_auth_user_id" in logged_in.session


def test_confirmation_form_post_with_csrf_token_signs_out(logged_in):
    page = enforcing_csrf(logged_in).get("/end-session")
    token = logged_in.cookies["csrftoken"].value
    response = logged_in.post(
        "/end-session", {**confirmation_form_data(page), "allow": "1", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert b"You are signed out" in response.content
    assert "_auth_user_id" not in logged_in.session


@pytest.mark.parametrize("method", ["get", "post"])
def test_disabled_client_signs_out_without_redirecting_to_the_client(logged_in, tokens, web_client, method):
    web_client.is_active = False
    web_client.save(update_fields=["is_active"])
    response = getattr(logged_in, method)(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT, "state": "bye"},
    )
    assert response.status_code == 200
    assert "Location" not in response
    assert b"You are signed out" in response.content
    assert "_auth_user_id" not in logged_in.session


def test_disabled_client_confirmation_does_not_redirect_to_the_client(logged_in, web_client):
    web_client.is_active = False
    web_client.save(update_fields=["is_active"])
    params = {"client_id": web_client.client_id, "post_logout_redirect_uri": POST_LOGOUT, "state": "bye"}
    page = logged_in.get("/end-session", params)
    assert b"Sign out?" in page.content
    response = logged_in.post("/end-session", {**confirmation_form_data(page), "allow": "1"})
    assert response.status_code == 200
    assert "Location" not in response
    assert "_auth_user_id" not in logged_in.session


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_post_logout_uri_that_is_not_a_uri_gets_a_page_not_a_500(logged_in, web_client, method):
    response = getattr(logged_in, method)(
        "/end-session", {"client_id": web_client.client_id, "post_logout_redirect_uri": "http://["}
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert "_auth_user_id" in logged_in.session


@pytest.mark.parametrize("kid", [["x"], {"a": 1}, 5])
def test_a_hint_whose_kid_is_not_a_string_gets_a_page_not_a_500(client, web_client, kid):
    """The ``kid`` of an unverified header is looked up among the published keys: a list or an
    object (unhashable) must find no key, not raise."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    hint = f"{part({'alg': 'RS256', 'kid': kid})}.{part({'aud': web_client.client_id})}.AAAA"
    response = client.get("/end-session", {"id_token_hint": hint})
    assert response.status_code == 400
