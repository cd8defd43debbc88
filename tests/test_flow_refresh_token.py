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


def test_body_client_id_naming_another_client_is_refused_on_refresh(client, web_client, other_client, tokens):
    response = refresh(client, web_client, tokens["refresh_token"], client_id=other_client.client_id)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    # The refresh token was not used up: its own client still refreshes, and is the audience.
    response = refresh(client, web_client, tokens["refresh_token"], client_id=web_client.client_id)
    assert response.status_code == 200, response.content
    claims = verify_id_token(client, response.json()["id_token"])
    assert claims["aud"] == web_client.client_id and claims["azp"] == web_client.client_id


def test_previous_secret_with_another_body_client_id_is_refused_on_refresh(
    client, web_client, other_client, tokens
):
    from idp.clients import rotate_client_secret

    rotate_client_secret(web_client, grace_seconds=3600)  # basic_auth() still sends the old secret
    response = refresh(client, web_client, tokens["refresh_token"], client_id=other_client.client_id)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1


def test_refresh_token_past_its_idle_lifetime_is_refused_here_and_inactive_at_introspection(
    client, web_client, tokens, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from idp.models import AccessToken

    idle = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=idle + 1))
    introspected = client.post(
        "/introspect", {"token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=basic_auth(web_client.client_id)
    )
    assert introspected.json() == {"active": False}
    response = refresh(client, web_client, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_narrowed_away_from_offline_access_issues_no_new_refresh_token(client, web_client, tokens):
    response = refresh(client, web_client, tokens["refresh_token"], scope="openid profile")
    assert response.status_code == 200, response.content
    body = response.json()
    assert "refresh_token" not in body
    assert set(body["scope"].split()) == {"openid", "profile"}
    assert client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}").status_code == 200
    # The presented refresh token was used up (rotated away) as usual, and nothing replaced it.
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    again = refresh(client, web_client, tokens["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_refresh_token_of_a_deactivated_person_is_invalid_grant(client, web_client, tokens, user):
    user.is_active = False
    user.save()
    response = refresh(client, web_client, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_malformed_resource_is_invalid_target_and_the_refresh_token_survives(client, web_client, tokens):
    response = refresh(client, web_client, tokens["refresh_token"], resource="http://[")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_target"
    assert refresh(client, web_client, tokens["refresh_token"]).status_code == 200
