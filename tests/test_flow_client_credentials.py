"""The client credentials grant for services: no user, no ID token, no person-related scope."""

import pytest

from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db


def test_service_client_gets_an_access_token_without_id_token(client, service_client):
    response = client.post(
        "/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(service_client.client_id),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert "access_token" in body
    assert "id_token" not in body
    assert "refresh_token" not in body


def test_service_client_cannot_obtain_openid(client, service_client):
    response = client.post(
        "/token",
        {"grant_type": "client_credentials", "scope": "openid profile"},
        HTTP_AUTHORIZATION=basic_auth(service_client.client_id),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_service_token_does_not_open_userinfo(client, service_client):
    token = client.post(
        "/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(service_client.client_id),
    ).json()["access_token"]
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    # A valid token without the openid scope: RFC 6750 §3.1 insufficient_scope, not invalid_token.
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert response["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')
    assert 'scope="openid"' in response["WWW-Authenticate"]


def test_web_client_may_not_use_client_credentials(client, web_client):
    response = client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth(web_client.client_id)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_service_client_with_wrong_secret_is_401(client, service_client):
    response = client.post(
        "/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(service_client.client_id, "nope"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_malformed_resource_is_invalid_target(client, service_client):
    response = client.post(
        "/token",
        {"grant_type": "client_credentials", "resource": "http://["},
        HTTP_AUTHORIZATION=basic_auth(service_client.client_id),
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_target"
