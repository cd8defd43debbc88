"""Username-or-email resolution, and the address django-axes locks out behind a proxy."""

import pytest
from django.test import RequestFactory

from idp.backends import client_ip, resolve_username
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_resolve_username(user):
    assert resolve_username("alice") == "alice"
    assert resolve_username("ALICE@example.COM") == "alice"
    assert resolve_username("nobody@example.com") == "nobody@example.com"
    UserFactory(username="twin", email="alice@example.com")
    assert resolve_username("alice@example.com") == "alice@example.com"


def test_client_ip_uses_the_proxy_entry_only_when_told(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "10.0.0.1"
    settings.IDP = {**settings.IDP, "TRUSTED_PROXIES": 1}
    assert client_ip(request) == "203.0.113.9"  # the spoofable first entry is ignored
