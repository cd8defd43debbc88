"""The signing key admin: lists keys without private material; rotation for superusers only, audited."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from idp.key_rotation import rotate_key
from idp.key_storage import decrypt_private_key
from idp.keys import active_key
from idp.models import AuditEvent, SigningKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/idp/signingkey/"
ROTATE_URL = "/admin/idp/signingkey/rotate/"


@pytest.fixture
def superuser():
    browser = Client()
    browser.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return browser


@pytest.fixture
def viewer():
    """Staff allowed to view keys, not a superuser."""
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_signingkey"))
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_list_shows_every_key_and_its_schedule_but_no_private_material(superuser):
    key = rotate_key()
    page = superuser.get(LIST_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert key.kid in html and active_key().thumbprint() in html and "environment" in html
    assert "next" in html and "Rotate a key" in html
    pem = decrypt_private_key(key.encrypted_private_key, kid=key.kid, alg=key.alg)
    assert "PRIVATE KEY" not in html and pem.splitlines()[1] not in html
    assert key.encrypted_private_key[3:40] not in html  # not even the ciphertext
    detail = superuser.get(f"{LIST_URL}{key.pk}/change/")
    assert detail.status_code == 200 and key.encrypted_private_key[3:40] not in detail.content.decode()


def test_a_superuser_rotates_and_the_event_names_them(superuser):
    response = superuser.post(ROTATE_URL, {"alg": "ES256"})
    assert response.status_code == 302
    key = SigningKey.objects.get(alg="ES256")
    assert key.state == "active"  # the first ES256 key signs at once
    event = AuditEvent.objects.get(event="key_activated", details__kid=key.kid)
    assert event.actor_name == "root"


def test_an_emergency_rotation_must_be_confirmed(superuser):
    old = active_key().thumbprint()
    page = superuser.post(ROTATE_URL, {"alg": "RS256", "emergency": "on"})
    assert page.status_code == 200 and "type EMERGENCY" in page.content.decode()
    assert not SigningKey.objects.exists()
    response = superuser.post(ROTATE_URL, {"alg": "RS256", "emergency": "on", "confirm": "EMERGENCY"})
    assert response.status_code == 302
    assert SigningKey.objects.get(kid=old).state == "revoked"
    assert AuditEvent.objects.get(event="key_revoked").actor_name == "root"


def test_a_second_rotation_while_one_waits_is_a_form_error(superuser):
    rotate_key()
    page = superuser.post(ROTATE_URL, {"alg": "RS256"})
    assert page.status_code == 200 and "already published" in page.content.decode()


def test_staff_who_are_not_superusers_see_the_keys_but_cannot_rotate(viewer):
    page = viewer.get(LIST_URL)
    assert page.status_code == 200 and "Rotate a key" not in page.content.decode()
    assert viewer.get(ROTATE_URL).status_code == 403
    assert viewer.post(ROTATE_URL, {"alg": "ES256"}).status_code == 403
    assert not SigningKey.objects.exists()


def test_even_a_superuser_cannot_add_change_or_delete_a_key_in_the_admin(superuser):
    key = rotate_key()
    state = key.state
    assert superuser.get(f"{LIST_URL}add/").status_code == 403
    assert superuser.post(f"{LIST_URL}{key.pk}/change/", {"state": "revoked"}).status_code == 403
    assert superuser.get(f"{LIST_URL}{key.pk}/delete/").status_code == 403
    superuser.post(LIST_URL, {"action": "delete_selected", "_selected_action": [key.pk]})  # not offered
    key.refresh_from_db()
    assert key.state == state and SigningKey.objects.count() == 1
