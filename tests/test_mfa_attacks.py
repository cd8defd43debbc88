"""A second reviewer's attacks on the second step: other ways in, hostile input, replays."""

import pytest

from idp.sessions import AMR_KEY
from tests.factories import PASSWORD
from tests.test_mfa_sign_in import enroll_totp

pytestmark = pytest.mark.django_db


def test_the_admin_sign_in_does_not_skip_the_second_factor(client, user):
    user.is_staff = True
    user.save()
    enroll_totp(user)
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    # The admin's sign-in is the provider's: password, then the second step.
    assert response.status_code == 302
    follow = client.get("/admin/login/?next=/admin/")
    assert follow.status_code == 302 and follow["Location"].startswith("/login?")
    assert AMR_KEY not in client.session


@pytest.mark.parametrize("name", ["Phone\x00", "x" * 100_000, "\ufeff\u202e"])
def test_hostile_device_names_are_not_a_server_error(client, user, name):
    client.force_login(user)
    response = client.post("/account/security/totp", {"name": name})
    assert response.status_code == 302
    device, _secret = enroll_totp(user)
    client.force_login(user)
    session = client.session
    session[AMR_KEY] = ["pwd", "otp", "mfa"]
    session.save()
    response = client.post(f"/account/security/totp/{device.pk}/rename", {"name": name})
    assert response.status_code == 302
    device.refresh_from_db()
    assert "\x00" not in device.name and len(device.name) <= 64


@pytest.mark.parametrize("superuser", [False, True])
def test_an_operator_cannot_reset_their_own_factors_in_the_admin(user, superuser):
    """That would turn two-step sign-in off without the fresh sign-in /account/security asks for."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    from idp.mfa.factors import has_second_factor
    from tests.factories import UserFactory

    operator = UserFactory(username="helpdesk", is_staff=True, is_superuser=superuser)
    operator.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "change_user"]
        )
    )
    enroll_totp(operator)
    browser = Client()
    browser.force_login(operator)
    browser.post(
        "/admin/accounts/user/", {"action": "reset_second_factors", "_selected_action": [operator.pk]}
    )
    assert has_second_factor(operator)
