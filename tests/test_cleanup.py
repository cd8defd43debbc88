"""idp.cleanup: what DOT's cleartokens removes, in bounded batches, without counting the rows first."""

import re
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import clear_expired as dot_clear_expired
from oauth2_provider.models import get_device_grant_model

from idp.cleanup import clear_expired
from idp.models import AccessToken, Grant, IDToken, RefreshToken
from tests.conftest import authorize, exchange

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
IDLE = timedelta(days=30)  # OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]


@pytest.fixture
def fast_batches(settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 2,
        "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0,
    }


def _token(model, user, app, **fields):
    return model.objects.create(
        user=user, application=app, token="", token_checksum=uuid.uuid4().hex * 2, **fields
    )


def _access(user, app, *, expires, id_token=None):
    return _token(AccessToken, user, app, expires=expires, id_token=id_token)


def _refresh(user, app, *, access=None, revoked=None):
    return _token(RefreshToken, user, app, access_token=access, revoked=revoked, token_family=uuid.uuid4())


def _id_token(user, app, *, expires):
    return IDToken.objects.create(user=user, application=app, jti=uuid.uuid4(), expires=expires)


def _grant(user, app, *, expires):
    return Grant.objects.create(
        user=user,
        application=app,
        code=uuid.uuid4().hex,
        expires=expires,
        redirect_uri="https://rp.example/cb",
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )


@pytest.fixture
def every_kind_of_row(user, web_client):
    """Live and expired rows of every kind DOT's clear_expired distinguishes, 2-3 of each."""
    now = timezone.now()
    for _ in range(3):
        # Access tokens alone: expired ones go, live ones stay; with their ID tokens.
        _access(
            user, web_client, expires=now - HOUR, id_token=_id_token(user, web_client, expires=now - HOUR)
        )
        _access(
            user, web_client, expires=now + HOUR, id_token=_id_token(user, web_client, expires=now + HOUR)
        )
        # ID tokens whose access token is gone.
        _id_token(user, web_client, expires=now - HOUR)
        _id_token(user, web_client, expires=now + HOUR)
        # An expired access token kept by its live refresh token; one idle for longer than the lifetime.
        _refresh(user, web_client, access=_access(user, web_client, expires=now - HOUR))
        _refresh(user, web_client, access=_access(user, web_client, expires=now - IDLE - HOUR))
        # Rotated (revoked) refresh tokens: recent ones stay for reuse detection, old ones go.
        _refresh(user, web_client, revoked=now - HOUR)
        _refresh(user, web_client, revoked=now - IDLE - HOUR)
        # An orphan: not revoked, access token deleted out of band.
        _refresh(user, web_client)
        _grant(user, web_client, expires=now - HOUR)
        _grant(user, web_client, expires=now + HOUR)


def _remaining() -> dict[str, set]:
    return {
        model.__name__: set(model.objects.values_list("pk", flat=True))
        for model in (AccessToken, RefreshToken, IDToken, Grant)
    }


def test_clear_expired_removes_exactly_what_dot_removes(every_kind_of_row, fast_batches):
    before = _remaining()
    with transaction.atomic():
        dot_clear_expired()
        after_dot = _remaining()
        transaction.set_rollback(True)
    assert _remaining() == before

    counts = clear_expired()

    assert _remaining() == after_dot
    assert sum(counts.values()) == sum(len(before[k] - after_dot[k]) for k in before)
    assert counts == {
        "revoked refresh tokens": 3,
        "orphaned refresh tokens": 3,
        "idle refresh tokens": 3,
        # the 3 alone, then the 3 the idle refresh tokens kept
        "access tokens": 6,
        "ID tokens": 6,
        "codes": 3,
        "device grants": 0,  # DOT's leaves them forever
        "explorer runs": 0,
    }
    assert all(
        token.expires > timezone.now() for token in AccessToken.objects.filter(refresh_token__isnull=True)
    )


def test_cleanup_deletes_in_bounded_batches_without_counting(fast_batches, logged_in, user, web_client):
    live = exchange(logged_in, web_client, authorize(logged_in, web_client))
    assert live.status_code == 200
    past = timezone.now() - 2 * HOUR
    for _ in range(5):
        _access(user, web_client, expires=past)
    Grant.objects.update(expires=past)  # the used code of the live token, too

    with CaptureQueriesContext(connection) as ctx:
        call_command("idp_cleartokens")

    assert AccessToken.objects.count() == 1  # only the live one
    assert AccessToken.objects.get().expires > timezone.now()
    assert not Grant.objects.exists()
    statements = [q["sql"] for q in ctx.captured_queries]
    assert not [sql for sql in statements if "COUNT(" in sql.upper()]
    deletes = [sql for sql in statements if sql.startswith('DELETE FROM "idp_accesstoken"')]
    assert len(deletes) == 3  # 5 expired tokens, 2 per statement
    batches = [re.search(r"IN \(([^)]*)\)", sql).group(1).split(",") for sql in deletes]
    assert sorted(len(ids) for ids in batches) == [1, 2, 2]


def test_cleanup_command_says_what_it_deleted(every_kind_of_row, fast_batches, capsys):
    call_command("idp_cleartokens")
    out = capsys.readouterr().out
    assert "6 access tokens" in out and "3 codes" in out and "3 orphaned refresh tokens" in out


def test_cleanup_batches_default_to_short_transactions():
    from oauth2_provider.settings import oauth2_settings

    assert oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_SIZE == 1000
    assert 0 < oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL <= 0.1


DeviceGrant = get_device_grant_model()


def test_expired_device_grants_are_deleted_and_live_ones_kept(client, device_client, fast_batches):
    for _ in range(3):
        client.post(
            "/device-authorization", "client_id=tv-client", content_type="application/x-www-form-urlencoded"
        )
    expired = DeviceGrant.objects.order_by("pk")[:2]
    DeviceGrant.objects.filter(pk__in=[g.pk for g in expired]).update(expires=timezone.now() - HOUR)

    assert clear_expired()["device grants"] == 2
    assert DeviceGrant.objects.count() == 1


def test_expired_explorer_runs_go_with_their_messages(fast_batches):
    from idp.explorer.models import ExplorerMessage, ExplorerRun
    from idp.explorer.records import RecordedRequest, RecordedResponse
    from idp.explorer.store import record_exchange

    now = timezone.now()
    runs = {
        label: ExplorerRun.objects.create(browser="b" * 64, flow="web", client_id="c", expires=expires)
        for label, expires in (("old", now - HOUR), ("live", now + HOUR))
    }
    for run in runs.values():
        request = RecordedRequest(method="GET", url="http://127.0.0.1:8000/x")
        response = RecordedResponse(status=200)
        record_exchange(run, step="discovery", source="rp", target="keys", request=request, response=response)

    assert clear_expired()["explorer runs"] == 1

    assert list(ExplorerRun.objects.all()) == [runs["live"]]
    assert list(ExplorerMessage.objects.values_list("run_id", flat=True)) == [runs["live"].pk]
