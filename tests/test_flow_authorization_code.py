"""The authorization code grant with PKCE, end to end through the Django test client."""

from datetime import timedelta

import pytest
from django.utils import timezone

from idp.models import Grant
from idp.subjects import sub_for
from tests.conftest import (
    ISSUER,
    REDIRECT_URI,
    authorize,
    authorize_params,
    basic_auth,
    consent_form_data,
    exchange,
    pkce_pair,
    query_of,
    verify_id_token,
)
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db


def test_happy_path_redirects_with_code_state_and_iss(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    query = query_of(authz.location)
    assert authz.location.startswith(REDIRECT_URI + "?")
    assert query["state"] == "xyz-state"
    assert query["iss"] == ISSUER
    assert Grant.objects.filter(code=authz.code, code_challenge_method="S256").exists()


def test_code_exchange_returns_tokens_with_no_store(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, web_client, authz)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert {"access_token", "id_token", "expires_in"} <= body.keys()
    assert set(body["scope"].split()) == {"openid", "profile", "email"}
    # No offline_access, no refresh token (OIDC Core 11).
    assert "refresh_token" not in body


def test_id_token_is_signed_and_carries_required_claims(logged_in, web_client, user):
    authz = authorize(logged_in, web_client)
    body = exchange(logged_in, web_client, authz).json()
    claims = verify_id_token(logged_in, body["id_token"])
    assert claims["iss"] == ISSUER
    assert claims["aud"] == web_client.client_id
    assert claims["azp"] == web_client.client_id
    assert claims["sub"] == sub_for(user, None)
    assert claims["sub"] != str(user.pk)
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["amr"] == ["pwd"]  # how this session signed in (RFC 8176)
    assert claims["exp"] > claims["iat"]
    assert "at_hash" in claims
    # Profile and email claims belong in userinfo when an access token is issued (OIDC Core 5.4).
    assert "email" not in claims and "name" not in claims


def test_auth_time_is_the_session_login_time_not_last_login(client, user, web_client):
    client.force_login(user)
    session_auth_time = client.session["idp_auth_time"]
    user.last_login = timezone.now() - timedelta(days=3)
    user.save(update_fields=["last_login"])
    body = exchange(client, web_client, authorize(client, web_client)).json()
    assert verify_id_token(client, body["id_token"])["auth_time"] == session_auth_time


def test_id_token_without_nonce_has_no_nonce(logged_in, web_client):
    body = exchange(logged_in, web_client, authorize(logged_in, web_client, nonce=None)).json()
    assert "nonce" not in verify_id_token(logged_in, body["id_token"])


def test_client_secret_post_is_accepted(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = logged_in.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": authz.code,
            "redirect_uri": authz.redirect_uri,
            "code_verifier": authz.verifier,
            "client_id": web_client.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200, response.content


def test_public_client_authenticates_with_none(logged_in, public_client):
    authz = authorize(logged_in, public_client)
    response = logged_in.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": authz.code,
            "redirect_uri": authz.redirect_uri,
            "code_verifier": authz.verifier,
            "client_id": public_client.client_id,
        },
    )
    assert response.status_code == 200, response.content
    assert "id_token" in response.json()


def test_wrong_secret_is_401_invalid_client(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = logged_in.post(
        "/token",
        {"grant_type": "authorization_code", "code": authz.code, "redirect_uri": authz.redirect_uri,
         "code_verifier": authz.verifier},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id, "wrong-secret"),
    )  # fmt: skip
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["Cache-Control"] == "no-store"


def test_wrong_code_verifier_is_invalid_grant(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, web_client, authz, code_verifier=pkce_pair()[0])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_invalid_request(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = logged_in.post(
        "/token",
        {"grant_type": "authorization_code", "code": authz.code, "redirect_uri": authz.redirect_uri},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "Code verifier required."}


def test_empty_code_verifier_is_invalid_request(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, web_client, authz, code_verifier="")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"].startswith("code_verifier must be 43 to 128 characters")


def test_code_is_single_use(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    assert exchange(logged_in, web_client, authz).status_code == 200
    second = exchange(logged_in, web_client, authz)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_code_expires_within_sixty_seconds(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    grant = Grant.objects.get(code=authz.code)
    assert grant.expires - grant.created <= timedelta(seconds=60)
    Grant.objects.filter(pk=grant.pk).update(expires=timezone.now() - timedelta(seconds=1))
    response = exchange(logged_in, web_client, authz)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_of_another_client_is_invalid_grant(logged_in, web_client, other_client):
    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, other_client, authz)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # The rightful client can still use it.
    assert exchange(logged_in, web_client, authz).status_code == 200


def test_redirect_uri_must_match_at_the_token_endpoint(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, web_client, authz, redirect_uri="http://127.0.0.1:8765/callback")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "missing challenge"),
        ({"code_challenge_method": "plain"}, "plain method"),
        ({"code_challenge_method": None}, "method defaults to plain"),
        ({"code_challenge": "too-short"}, "malformed challenge"),
    ],
)
def test_pkce_other_than_s256_is_redirected_as_invalid_request(logged_in, web_client, change, description):
    params = authorize_params(web_client, challenge=pkce_pair()[1], **change)
    response = logged_in.get("/authorize", params)
    assert response.status_code == 302, description
    query = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT_URI)
    assert query["error"] == "invalid_request"
    assert query["state"] == "xyz-state"
    assert query["iss"] == ISSUER


def test_unknown_client_gets_an_error_page_and_no_redirect(logged_in):
    response = logged_in.get(
        "/authorize",
        {"response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT_URI, "scope": "openid"},
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert b"cannot be completed" in response.content


def test_unregistered_redirect_uri_gets_an_error_page(logged_in, web_client):
    params = authorize_params(web_client, challenge=pkce_pair()[1], redirect_uri="https://evil.example/cb")
    response = logged_in.get("/authorize", params)
    assert response.status_code == 400
    assert "Location" not in response


@pytest.mark.parametrize(
    "variant",
    [REDIRECT_URI + "/", REDIRECT_URI + "?x=1", REDIRECT_URI.replace("https", "http"), REDIRECT_URI.upper()],
)
def test_redirect_uri_matching_is_exact(logged_in, web_client, variant):
    params = authorize_params(web_client, challenge=pkce_pair()[1], redirect_uri=variant)
    response = logged_in.get("/authorize", params)
    assert response.status_code == 400
    assert "Location" not in response


def test_missing_redirect_uri_is_an_error_page_even_with_one_registered(logged_in, public_client):
    params = authorize_params(public_client, challenge=pkce_pair()[1], redirect_uri=None)
    response = logged_in.get("/authorize", params)
    assert response.status_code == 400
    assert "Location" not in response


def test_error_page_does_not_echo_html(logged_in):
    response = logged_in.get(
        "/authorize",
        {"response_type": "code", "client_id": "<script>alert(1)</script>", "redirect_uri": REDIRECT_URI},
    )
    assert response.status_code == 400
    assert b"<script>alert(1)</script>" not in response.content


def test_deny_returns_access_denied_with_state_and_iss(logged_in, web_client):
    params = authorize_params(web_client, challenge=pkce_pair()[1])
    page = logged_in.get("/authorize", params)
    response = logged_in.post("/authorize", {**consent_form_data(page), "deny": "1"})
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query == {"error": "access_denied", "state": "xyz-state", "iss": ISSUER}
    assert not Grant.objects.exists()


def test_consent_page_names_the_client_and_scopes(logged_in, web_client):
    page = logged_in.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1]))
    assert page.status_code == 200
    assert web_client.name.encode() in page.content
    assert b'data-scope="email"' in page.content
    assert page["X-Frame-Options"] == "DENY"


def test_anonymous_user_is_sent_to_login(client, web_client):
    response = client.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1]))
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "response_type", ["token", "id_token", "id_token token", "code id_token", "code token"]
)
def test_implicit_and_hybrid_are_refused(logged_in, web_client, response_type):
    params = authorize_params(web_client, challenge=pkce_pair()[1], response_type=response_type)
    response = logged_in.get("/authorize", params)
    assert response.status_code == 302
    query = query_of(response["Location"]) or query_of("?" + response["Location"].split("#", 1)[-1])
    assert query["error"] == "unsupported_response_type"
    assert query["iss"] == ISSUER
    assert "access_token" not in response["Location"]


def test_password_grant_is_refused(client, web_client, user):
    response = client.post(
        "/token",
        {"grant_type": "password", "username": "alice", "password": "a-test-password-for-people"},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    # Refused by grant type before the client is even looked at: not in OAUTH2_GRANT_TYPES_SUPPORTED.
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in response.json()


def test_prompt_none_without_session_is_login_required(client, web_client):
    params = authorize_params(web_client, challenge=pkce_pair()[1], prompt="none")
    response = client.get("/authorize", params)
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query["error"] == "login_required"
    assert query["state"] == "xyz-state"
    assert query["iss"] == ISSUER


def test_prompt_none_that_would_need_consent_is_consent_required(logged_in, web_client):
    params = authorize_params(web_client, challenge=pkce_pair()[1], prompt="none")
    response = logged_in.get("/authorize", params)
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query["error"] == "consent_required"
    assert query["iss"] == ISSUER


def test_bad_request_is_refused_before_anyone_signs_in(client, web_client):
    unregistered = authorize_params(
        web_client, challenge=pkce_pair()[1], redirect_uri="https://evil.example/cb"
    )
    response = client.get("/authorize", unregistered)
    assert response.status_code == 400 and "Location" not in response
    no_pkce = authorize_params(web_client, challenge="x", code_challenge=None, code_challenge_method=None)
    response = client.get("/authorize", no_pkce)
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"  # back to the client, not to login


# --- the authenticated client is the audience (H-1) ----------------------------------------------


def test_body_client_id_naming_another_client_is_refused_and_issues_nothing(
    logged_in, web_client, other_client
):
    from idp.models import AccessToken

    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, web_client, authz, client_id=other_client.client_id)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"
    assert not AccessToken.objects.exists()
    assert Grant.objects.get(code=authz.code).used_at is None


def test_body_client_id_equal_to_the_basic_client_is_accepted_and_is_the_audience(logged_in, web_client):
    response = exchange(
        logged_in, web_client, authorize(logged_in, web_client), client_id=web_client.client_id
    )
    assert response.status_code == 200, response.content
    claims = verify_id_token(logged_in, response.json()["id_token"])
    assert claims["aud"] == web_client.client_id and claims["azp"] == web_client.client_id


def test_previous_secret_with_another_body_client_id_is_refused(logged_in, web_client, other_client):
    from idp.clients import rotate_client_secret
    from idp.models import AccessToken
    from tests.factories import CLIENT_SECRET

    authz = authorize(logged_in, web_client)
    rotate_client_secret(web_client, grace_seconds=3600)
    response = logged_in.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": authz.code,
            "redirect_uri": authz.redirect_uri,
            "code_verifier": authz.verifier,
            "client_id": other_client.client_id,
        },
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id, CLIENT_SECRET),
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert not AccessToken.objects.exists()
    # The previous secret alone still works during its grace period, and names its own client.
    response = exchange(logged_in, web_client, authz)
    assert response.status_code == 200, response.content
    assert verify_id_token(logged_in, response.json()["id_token"])["aud"] == web_client.client_id


def test_two_client_authentication_methods_are_invalid_request(logged_in, web_client):
    from tests.factories import CLIENT_SECRET

    authz = authorize(logged_in, web_client)
    response = exchange(
        logged_in, web_client, authz, client_id=web_client.client_id, client_secret=CLIENT_SECRET
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert exchange(logged_in, web_client, authz).status_code == 200


# --- PKCE verifier syntax (L-6), RFC 7636 §4.1 ------------------------------------------------------


@pytest.mark.parametrize("verifier", ["abc", "a" * 129, "a" * 42 + " ", "a" * 50 + "+/="])
def test_malformed_code_verifier_is_invalid_request(logged_in, web_client, verifier):
    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, web_client, authz, code_verifier=verifier)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert Grant.objects.get(code=authz.code).used_at is None


@pytest.mark.parametrize("length", [43, 128])
def test_code_verifier_of_43_and_128_characters_is_accepted(logged_in, web_client, length):
    import base64
    import hashlib

    verifier = ("A-._~z09" * 20)[:length]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = logged_in.get("/authorize", authorize_params(web_client, challenge=challenge))
    if response.status_code == 200:
        response = logged_in.post("/authorize", {**consent_form_data(response), "allow": "1"})
    code = query_of(response["Location"])["code"]
    token = logged_in.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert token.status_code == 200, token.content


# --- a deactivated person (M-1, token side) -----------------------------------------------------------


def test_code_of_a_deactivated_person_is_invalid_grant(logged_in, web_client, user):
    authz = authorize(logged_in, web_client)
    user.is_active = False
    user.save()
    response = exchange(logged_in, web_client, authz)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


# --- RFC 8707 resource at the token endpoint (M-6) --------------------------------------------------


def test_malformed_resource_at_the_token_endpoint_is_invalid_target(logged_in, web_client):
    from idp.models import AccessToken

    authz = authorize(logged_in, web_client)
    response = exchange(logged_in, web_client, authz, resource="http://[")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_target"
    assert not AccessToken.objects.exists()
