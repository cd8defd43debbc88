"""Client secrets are stored hashed with a cheap hasher fit for long random secrets."""

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher

from tests.factories import CLIENT_SECRET, ApplicationFactory

pytestmark = pytest.mark.django_db


def test_client_secret_is_stored_hashed_with_the_client_secret_hasher():
    app = ApplicationFactory()
    app.refresh_from_db()
    assert CLIENT_SECRET not in app.client_secret
    assert identify_hasher(app.client_secret).algorithm == "idp_client_secret"
    assert check_password(CLIENT_SECRET, app.client_secret)
    assert not check_password(CLIENT_SECRET + "x", app.client_secret)


def test_two_clients_with_the_same_secret_get_different_hashes():
    first, second = ApplicationFactory(), ApplicationFactory()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.client_secret != second.client_secret


def test_people_still_get_argon2(user):
    assert identify_hasher(user.password).algorithm == "argon2"
