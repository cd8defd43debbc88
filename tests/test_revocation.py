"""Token revocation (RFC 7009): authenticated, only the caller's own tokens, 200 for unknown tokens."""

import pytest

from idp.models import AccessToken, RefreshToken
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db


def revoke(client, app, token, hint=None):
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    return client.post("/revoke", data, HTTP_AUTHORIZATION=basic_auth(app.client_id))


def test_revoking_an_access_token_closes_userinfo(client, web_client, tokens):
    assert revoke(client, web_client, tokens["access_token"], "access_token").status_code == 200
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 401


def test_revoking_a_refresh_token_stops_refresh(client, web_client, tokens):
    assert revoke(client, web_client, tokens["refresh_token"], "refresh_token").status_code == 200
    response = client.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unknown_token_is_200(client, web_client):
    assert revoke(client, web_client, "never-issued").status_code == 200


def test_another_clients_token_is_left_alone(client, other_client, tokens):
    assert revoke(client, other_client, tokens["access_token"]).status_code == 200
    assert AccessToken.objects.count() == 1
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1


def test_revocation_requires_client_authentication(client, web_client, tokens):
    response = client.post(
        "/revoke",
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert AccessToken.objects.count() == 1
