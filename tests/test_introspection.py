"""Token introspection (RFC 7662): client authentication, own tokens only, resource servers see all."""

import pytest

from idp.models import AccessToken
from idp.subjects import sub_for
from tests.conftest import basic_auth
from tests.factories import ApplicationFactory, PublicClientFactory

pytestmark = pytest.mark.django_db


def introspect(client, app, token, **extra):
    return client.post("/introspect", {"token": token, **extra}, HTTP_AUTHORIZATION=basic_auth(app.client_id))


def test_own_access_token_is_described(client, web_client, tokens, user):
    response = introspect(client, web_client, tokens["access_token"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == web_client.client_id
    assert body["sub"] == sub_for(user, None)
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    assert body["exp"] > body["iat"]


def test_own_refresh_token_is_described(client, web_client, tokens):
    body = introspect(client, web_client, tokens["refresh_token"], token_type_hint="refresh_token").json()
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"


def test_another_clients_token_is_inactive(client, other_client, tokens):
    assert introspect(client, other_client, tokens["access_token"]).json() == {"active": False}


def test_resource_server_may_introspect_any_token(client, tokens):
    api = ApplicationFactory(client_id="api", is_resource_server=True)
    assert introspect(client, api, tokens["access_token"]).json()["active"] is True


def test_unknown_and_expired_tokens_give_only_active_false(client, web_client, tokens):
    assert introspect(client, web_client, "nope").json() == {"active": False}
    AccessToken.objects.update(expires="2000-01-01T00:00:00Z")
    assert introspect(client, web_client, tokens["access_token"]).json() == {"active": False}


def test_unauthenticated_caller_is_401_invalid_client(client, web_client, tokens):
    response = client.post("/introspect", {"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    wrong = client.post(
        "/introspect",
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id, "x"),
    )
    assert wrong.status_code == 401


def test_public_client_cannot_introspect(client, tokens):
    spa = PublicClientFactory(client_id="spa-x")
    response = client.post("/introspect", {"token": tokens["access_token"], "client_id": spa.client_id})
    assert response.status_code == 401


def test_missing_token_parameter_is_invalid_request(client, web_client):
    response = client.post("/introspect", {}, HTTP_AUTHORIZATION=basic_auth(web_client.client_id))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_get_is_not_allowed(client, web_client, tokens):
    response = client.get("/introspect", {"token": tokens["access_token"]})
    assert response.status_code == 405


def test_tokens_of_a_deactivated_person_are_inactive(client, web_client, tokens, user):
    user.is_active = False
    user.save()
    for value in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(client, web_client, value).json() == {"active": False}


def test_refresh_token_is_described_with_its_idle_expiry(client, web_client, tokens, settings):
    access = AccessToken.objects.get()
    body = introspect(client, web_client, tokens["refresh_token"]).json()
    idle = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    assert body["exp"] == int(access.expires.timestamp()) + idle


def test_caller_naming_another_client_in_the_body_is_invalid_request(
    client, web_client, other_client, tokens
):
    response = client.post(
        "/introspect",
        {"token": tokens["access_token"], "client_id": other_client.client_id},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
