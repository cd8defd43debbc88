"""Demo data: loaded idempotently with the documented credentials."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from idp.models import Application
from project.accounts.models import User

pytestmark = pytest.mark.django_db


def test_demo_loader_is_idempotent_and_uses_documented_credentials():
    call_command("idp_load_demo")
    call_command("idp_load_demo")
    assert User.objects.count() == 3
    assert Application.objects.count() == 7
    assert User.objects.get(username="alice").check_password("alice-demo-password")
    assert User.objects.get(username="admin").is_superuser
    web = Application.objects.get(client_id="demo-web")
    assert check_password("demo-web-secret", web.client_secret)
    assert web.backchannel_logout_uri == "http://127.0.0.1:8765/backchannel-logout"  # logout tokens, make run
    assert web.redirect_uris.split() == ["http://127.0.0.1:8765/callback", "http://127.0.0.1:8765/callback2"]
    assert web.post_logout_redirect_uris == "http://127.0.0.1:8765/logged-out"
    assert web.skip_authorization is False
    spa = Application.objects.get(client_id="demo-spa")
    assert (spa.client_type, spa.allowed_origins) == ("public", "http://127.0.0.1:8765")
    assert "http://127.0.0.1:8765/spa/callback" in spa.redirect_uris.split()
    service = Application.objects.get(client_id="demo-service")
    assert service.authorization_grant_type == "client-credentials"
    assert check_password("demo-service-secret", service.client_secret)


def test_alice_has_a_full_profile():
    call_command("idp_load_demo")
    alice = User.objects.get(username="alice")
    assert alice.email_verified and alice.phone_number and alice.street_address


def test_demo_clients_get_the_api_scopes():
    call_command("idp_load_demo")
    scopes = {app.client_id: set(app.allowed_scopes.split()) for app in Application.objects.all()}
    assert "consents:manage" in scopes["demo-web"] and "consents:manage" in scopes["demo-spa"]
    assert scopes["demo-service"] == {"users:read"}
    assert "users:read" not in scopes["demo-web"] | scopes["demo-spa"]


def test_demo_spa_may_redirect_to_the_api_docs_of_this_issuer(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "http://127.0.0.1:9000"}
    call_command("idp_load_demo")
    spa = Application.objects.get(client_id="demo-spa")
    assert spa.redirect_uris.split() == [
        "http://127.0.0.1:8765/spa/callback",
        "http://127.0.0.1:9000/api/docs/oauth2-redirect.html",
    ]


def test_demo_clients_carry_consent_page_branding():
    call_command("idp_load_demo")
    web = Application.objects.get(client_id="demo-web")
    assert web.is_verified and web.policy_uri == "http://127.0.0.1:8765/privacy"
    assert Application.objects.get(client_id="demo-web-2").is_verified is False


def test_demo_device_client_completes_the_device_grant(client):
    """The README's curl walk-through, in the test client: demo-device is a public device client."""
    call_command("idp_load_demo")
    device = Application.objects.get(client_id="demo-device")
    assert (device.kind, device.client_type) == ("device", "public")
    assert device.authorization_grant_type == "urn:ietf:params:oauth:grant-type:device_code"
    started = client.post(
        "/device-authorization",
        "client_id=demo-device&scope=openid+profile+offline_access",
        content_type="application/x-www-form-urlencoded",
    )
    assert started.status_code == 200, started.content
    client.force_login(User.objects.get(username="alice"))
    page = client.post("/device", {"user_code": started.json()["user_code"]})
    client.post("/device", {"allow": "1", "shown": page.context["shown"]})
    client.logout()
    tokens = client.post(
        "/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started.json()["device_code"],
            "client_id": "demo-device",
        },
    )
    assert tokens.status_code == 200, tokens.content
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens.json())


def test_the_flow_explorer_playground_clients_redirect_to_its_callback(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "http://127.0.0.1:9000"}
    call_command("idp_load_demo")
    web = Application.objects.get(client_id="explorer-web")
    spa = Application.objects.get(client_id="explorer-spa")
    assert (web.client_type, spa.client_type) == ("confidential", "public")
    assert check_password("explorer-web-secret", web.client_secret)
    for client in (web, spa):
        assert client.redirect_uris.split() == ["http://127.0.0.1:9000/developers/flows/callback"]
        assert "offline_access" in client.allowed_scopes.split()
