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
