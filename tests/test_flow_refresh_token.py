"""Refresh tokens: rotation on use, reuse detection revoking the family, ID tokens kept consistent."""

import pytest

from idp.models import RefreshToken
from tests.conftest import basic_auth, verify_id_token

pytestmark = pytest.mark.django_db


def refresh(client, app, refresh_token, **extra):
    return client.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
        HTTP_AUTHORIZATION=basic_auth(app.client_id),
    )


def test_refresh_rotates_the_refresh_token(client, web_client, tokens):
    response = refresh(client, web_client, tokens["refresh_token"])
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]


def test_refreshed_id_token_keeps_iss_sub_aud_and_auth_time(client, web_client, tokens):
    first = verify_id_token(client, tokens["id_token"])
    second = verify_id_token(client, refresh(client, web_client, tokens["refresh_token"]).json()["id_token"])
    for claim in ("iss", "sub", "aud", "azp", "auth_time"):
        assert second[claim] == first[claim], claim


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client, web_client, tokens):
    rotated = refresh(client, web_client, tokens["refresh_token"]).json()
    replay = refresh(client, web_client, tokens["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The attacker's replay also kills the legitimate holder's newer token.
    after = refresh(client, web_client, rotated["refresh_token"])
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    userinfo = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {rotated['access_token']}")
    assert userinfo.status_code == 401


def test_refresh_token_of_another_client_is_invalid_grant(client, web_client, other_client, tokens):
    response = refresh(client, other_client, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # It stays valid for its own client.
    assert refresh(client, web_client, tokens["refresh_token"]).status_code == 200


def test_refresh_cannot_widen_the_scope(client, web_client, tokens):
    response = refresh(client, web_client, tokens["refresh_token"], scope="openid profile email phone")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_unknown_refresh_token_is_invalid_grant(client, web_client, tokens):
    response = refresh(client, web_client, "not-a-token")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
