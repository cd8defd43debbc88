"""Hostile request values (NUL and control characters, absurd lengths) get each endpoint's normal error."""

import base64
from urllib.parse import urlencode

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.test import Client, RequestFactory

from tests.conftest import REDIRECT_URI, basic_auth, pkce_pair
from tests.factories import CLIENT_SECRET, PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

JWT_SHAPED = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def authorize_query(client_id: str) -> dict[str, str]:
    _, challenge = pkce_pair()
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


@pytest.mark.parametrize("client_id", ["abc\x00def", "\x00", "web-client\x00", "x" * 5000, "a\x1fb"])
def test_authorize_with_a_hostile_client_id_shows_the_unknown_client_page(logged_in, web_client, client_id):
    response = logged_in.get("/authorize", authorize_query(client_id))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Location" not in response


def test_end_session_with_a_nul_client_id_shows_the_error_page(client):
    response = client.get("/end-session", {"client_id": "\x00"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_revoke_with_a_nul_client_id_is_invalid_client(client):
    response = client.post("/revoke", {"token": "x", "client_id": "\x00"})
    assert response.status_code == 400  # RFC 6749 §5.2: no Authorization header, no 401
    assert response.json()["error"] == "invalid_client"


def test_revoke_of_a_jwt_shaped_token_by_an_unknown_public_client_is_invalid_client(client):
    response = client.post("/revoke", {"token": JWT_SHAPED, "client_id": "nobody\x00"})
    assert response.status_code == 400  # RFC 6749 §5.2: no Authorization header, no 401
    assert response.json()["error"] == "invalid_client"


def test_revoke_of_a_nul_token_by_its_client_is_200(client, web_client):
    response = client.post("/revoke", {"token": "abc\x00"}, HTTP_AUTHORIZATION=basic_auth("web-client"))
    assert response.status_code == 200


def test_token_with_a_real_client_id_and_nul_in_the_body_is_invalid_client(client, web_client):
    response = client.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": "x",
            "redirect_uri": REDIRECT_URI,
            "client_id": "web-client\u00e9\x00",
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 400  # RFC 6749 §5.2: no Authorization header, no 401
    assert response.json()["error"] == "invalid_client"


def test_token_with_nul_in_basic_credentials_is_invalid_client(client, web_client):
    credential = base64.b64encode(f"web-client%00:{CLIENT_SECRET}".encode()).decode()
    response = client.post(
        "/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {credential}",
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
def test_a_basic_credential_that_is_not_ascii_is_invalid_client(client, web_client, path):
    response = client.post(
        path, {"grant_type": "client_credentials", "token": "x"}, HTTP_AUTHORIZATION="Basic \xe9t\xe9"
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("code", ["abc\x00", "\x00" * 300])
def test_token_with_a_nul_code_is_invalid_grant(client, web_client, code):
    response = client.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": "v" * 43,
        },
        HTTP_AUTHORIZATION=basic_auth("web-client"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_with_a_nul_token_is_invalid_grant(client, web_client):
    response = client.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": "abc\x00"},
        HTTP_AUTHORIZATION=basic_auth("web-client"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_introspection_of_a_nul_token_is_inactive(client, web_client):
    response = client.post("/introspect", {"token": "abc\x00"}, HTTP_AUTHORIZATION=basic_auth("web-client"))
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_userinfo_with_a_nul_bearer_token_is_invalid_token(client):
    response = client.get("/userinfo", HTTP_AUTHORIZATION="Bearer abc\x00")
    assert response.status_code == 401


@pytest.mark.parametrize("username", ["alice\x00", "alice@example.com\x00", "\x00@x"])
def test_login_with_a_nul_username_is_refused_like_a_wrong_password(client, user, username):
    response = client.post("/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("username", ["alice\x00", "alice@example.com\x00", "a" * 5000])
def test_authenticate_with_a_username_that_names_no_account_is_refused(user, username):
    request = RequestFactory().post("/login", {"username": username, "password": PASSWORD})
    assert authenticate(request, username=username, password=PASSWORD) is None


def test_login_page_for_an_authorization_of_a_nul_client_id_is_the_plain_form(client, web_client):
    next_url = "/authorize?" + urlencode(authorize_query("web-client\x00"))
    response = client.get("/login", {"next": next_url})
    assert response.status_code == 200
    assert response.context["client"] is None


def test_password_reset_with_a_nul_email_shows_the_form_again_and_sends_nothing(client, user):
    response = client.post("/password-reset", {"email": "alice@example.com\x00"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert mail.outbox == []


@pytest.fixture
def operator(db):
    browser = Client()
    browser.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return browser


@pytest.mark.parametrize(
    "changelist",
    [
        "accounts/user",
        "idp/application",
        "idp/accesstoken",
        "idp/refreshtoken",
        "idp/grant",
        "idp/idtoken",
        "idp/consent",
        "idp/auditevent",
    ],
)
def test_admin_search_for_nul_finds_nothing(operator, changelist):
    response = operator.get(f"/admin/{changelist}/", {"q": "a\x00b"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        # The grant type is refused before oauthlib reads anything else.
        (
            "/token",
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "This grant type is not supported here.",
            },
        ),
        # DOT hands oauthlib the whole URL, and oauthlib refuses any query at the revocation endpoint.
        (
            "/revoke",
            400,
            {"error": "invalid_request", "error_description": "URL query parameters are not allowed"},
        ),
        # Introspection authenticates the client from the path alone and reads only the body.
        ("/introspect", 200, {"active": False}),
    ],
)
def test_broken_percent_encoding_in_the_query_gets_a_json_answer(client, web_client, path, status, body):
    response = client.post(
        f"{path}?a=%zz&b=%",
        "grant_type=unknown&token=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth("web-client"),
    )
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == body


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_broken_percent_encoding_in_the_query_at_userinfo_is_invalid_token(client, method):
    response = client.generic(method, "/userinfo?a=%zz&b=%", HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
