"""What keeps the provider fast with millions of rows: an index under every lookup, bounded cleanup."""

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from idp.models import AccessToken, Consent, Grant, IDToken, RefreshToken

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LOOKUPS = {
    # The flow's reads (idp.hot_path) and reuse detection.
    "access token by checksum": lambda: AccessToken.objects.filter(token_checksum="x"),
    "refresh token by checksum": lambda: RefreshToken.objects.filter(token_checksum="x"),
    "refresh token family": lambda: RefreshToken.objects.filter(token_family=uuid.uuid4()),
    "code": lambda: Grant.objects.filter(code="x"),
    "consent": lambda: Consent.objects.filter(user_id=1, application_id=1),
    "tokens of a person at a client": lambda: AccessToken.objects.filter(user_id=1, application_id=1),
    # What `manage.py idp_cleartokens` selects, batch by batch.
    "expired access tokens": lambda: AccessToken.objects.filter(expires__lt=NOW),
    "expired ID tokens": lambda: IDToken.objects.filter(expires__lt=NOW),
    "expired codes": lambda: Grant.objects.filter(expires__lt=NOW),
    "revoked refresh tokens": lambda: RefreshToken.objects.filter(revoked__lte=NOW),
}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plans")
@pytest.mark.parametrize("name", LOOKUPS)
def test_every_lookup_uses_an_index(name):
    """SQLite's plan names an index for every lookup: no full scan, however many rows there are."""
    plan = LOOKUPS[name]().explain()
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
