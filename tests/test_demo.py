"""Demo data: loaded idempotently with the documented credentials."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from idp.models import Application, User

pytestmark = pytest.mark.django_db


def test_demo_loader_is_idempotent_and_uses_documented_credentials():
    call_command("idp_load_demo")
    call_command("idp_load_demo")
    assert User.objects.count() == 3
    assert Application.objects.count() == 4
    assert User.objects.get(username="alice").check_password("alice-demo-password")
    assert User.objects.get(username="admin").is_superuser
    web = Application.objects.get(client_id="demo-web")
    assert check_password("demo-web-secret", web.client_secret)
    assert web.redirect_uris.split() == ["http://127.0.0.1:8765/callback", "http://127.0.0.1:8765/callback2"]
    assert web.post_logout_redirect_uris == "http://127.0.0.1:8765/logged-out"
    assert web.skip_authorization is False
    spa = Application.objects.get(client_id="demo-spa")
    assert (spa.client_type, spa.allowed_origins) == ("public", "http://127.0.0.1:8765")
    service = Application.objects.get(client_id="demo-service")
    assert service.authorization_grant_type == "client-credentials"
    assert check_password("demo-service-secret", service.client_secret)


def test_alice_has_a_full_profile():
    call_command("idp_load_demo")
    alice = User.objects.get(username="alice")
    assert alice.email_verified and alice.phone_number and alice.street_address


def test_demo_clients_carry_consent_page_branding():
    call_command("idp_load_demo")
    web = Application.objects.get(client_id="demo-web")
    assert web.is_verified and web.policy_uri == "http://127.0.0.1:8765/privacy"
    assert Application.objects.get(client_id="demo-web-2").is_verified is False
