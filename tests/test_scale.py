"""What keeps the provider fast with millions of rows: an index under every lookup, bounded cleanup."""

import re
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from idp.models import AccessToken, Consent, Grant, IDToken, RefreshToken
from tests.conftest import authorize, exchange

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
    # What `manage.py cleartokens` selects, batch by batch.
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


def _token(user, application, *, expires):
    return AccessToken.objects.create(
        user=user, application=application, token="", token_checksum=uuid.uuid4().hex * 2, expires=expires
    )


def test_cleartokens_removes_expired_rows_in_bounded_batches(settings, logged_in, user, web_client):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2,
        "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0,
    }
    live = exchange(logged_in, web_client, authorize(logged_in, web_client))
    assert live.status_code == 200
    past = timezone.now() - timedelta(hours=2)
    for _ in range(5):
        _token(user, web_client, expires=past)
    Grant.objects.update(expires=past)  # the used code of the live token, too
    with CaptureQueriesContext(connection) as ctx:
        call_command("cleartokens")
    assert AccessToken.objects.count() == 1  # only the live one
    assert AccessToken.objects.get().expires > timezone.now()
    assert not Grant.objects.exists()
    deletes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('DELETE FROM "idp_accesstoken"')]
    assert len(deletes) == 3  # 5 expired tokens, 2 per statement
    batches = [re.search(r"IN \(([^)]*)\)", sql).group(1).split(",") for sql in deletes]
    assert sorted(len(ids) for ids in batches) == [1, 2, 2]


def test_cleanup_batches_default_to_short_transactions():
    from oauth2_provider.settings import oauth2_settings

    assert oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_SIZE == 1000
    assert 0 < oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL <= 0.1
