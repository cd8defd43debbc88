"""Back-channel logout and sessions against hostile input: relying parties, addresses and sids."""

from __future__ import annotations

import pytest
from django.test import Client

from idp.session_models import BrowserSession
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    response = client.post("/login", {"username": user.get_username(), "password": "correct horse battery"})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("sid", ["a%00b", "%00", "x" * 5000, "%C0%80", "%ED%A0%80"])
def test_a_hostile_sid_in_the_end_session_address_is_not_found_not_a_500(sid):
    person = UserFactory(username="dora", password="correct horse battery")
    browser = signed_in(person)
    response = browser.post(f"/account/sessions/{sid}/end")
    assert response.status_code == 404
    assert BrowserSession.objects.filter(user=person, ended__isnull=True).count() == 1
