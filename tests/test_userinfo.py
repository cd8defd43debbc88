"""Userinfo: bearer header or form body, claims by scope, RFC 6750 errors, no ID token as bearer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from idp.models import AccessToken
from idp.subjects import sub_for
from tests.conftest import authorize, exchange

pytestmark = pytest.mark.django_db


def test_get_with_bearer_header_returns_claims_of_granted_scopes(client, tokens, user):
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["sub"] == sub_for(user, None)
    assert body["email"] == "alice@example.com"
    assert body["email_verified"] is True
    assert body["name"] == "Alice Liddell"
    assert body["preferred_username"] == "alice"
    # Not granted: phone, address.
    assert "phone_number" not in body and "address" not in body


def test_post_with_bearer_header(client, tokens):
    response = client.post("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200
    assert "sub" in response.json()


def test_post_with_token_in_form_body(client, tokens):
    response = client.post("/userinfo", {"access_token": tokens["access_token"]})
    assert response.status_code == 200
    assert "sub" in response.json()


def test_token_in_url_query_is_refused(client, tokens):
    response = client.get("/userinfo", {"access_token": tokens["access_token"]})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_missing_token_is_401_with_bearer_challenge(client):
    response = client.get("/userinfo")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_invalid_token_is_401_invalid_token(client):
    response = client.get("/userinfo", HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_expired_token_is_401_invalid_token(client, tokens):
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_id_token_is_not_accepted_as_an_access_token(client, tokens):
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['id_token']}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_all_scopes_release_address_and_phone(logged_in, web_client, user):
    authz = authorize(logged_in, web_client, scope="openid profile email address phone")
    token = exchange(logged_in, web_client, authz).json()["access_token"]
    body = logged_in.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["phone_number"] == "+441234567890"
    assert body["phone_number_verified"] is True
    assert body["address"]["locality"] == "Oxford"
    assert body["address"]["country"] == "United Kingdom"


def test_openid_alone_releases_only_sub(logged_in, web_client, user):
    authz = authorize(logged_in, web_client, scope="openid")
    token = exchange(logged_in, web_client, authz).json()["access_token"]
    assert logged_in.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}").json() == {
        "sub": sub_for(user, None)
    }


def test_token_without_openid_is_403_insufficient_scope(logged_in, client, web_client):
    from idp.models import AccessToken

    body = exchange(logged_in, web_client, authorize(logged_in, web_client))
    AccessToken.objects.update(scope="profile email")
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body.json()['access_token']}")
    assert response.status_code == 403, response.content
    assert response.json()["error"] == "insufficient_scope"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="insufficient_scope"' in challenge
    assert 'scope="openid"' in challenge


def test_token_of_a_deactivated_person_is_401_invalid_token(client, tokens, user):
    user.is_active = False
    user.save()
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("access_token=abc", "application/x-www-form-urlencoded; charset=latin-1"),
        ("access_token=abc&access_token=def", "application/x-www-form-urlencoded"),
        ("access_token=abc", "multipart/form-data"),
    ],
    ids=["other-charset", "repeated-parameter", "multipart-without-boundary"],
)
def test_unreadable_or_repeated_form_is_400_invalid_request_in_json(client, tokens, body, content_type):
    response = client.post(
        "/userinfo", body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_request"'
