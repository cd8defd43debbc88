"""The logout outbox: logout tokens owed, and one delivery pass with retries, backoff and audit events."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from ..audit import Event, record
from ..conf import idp_settings
from ..subjects import sub_for
from .models import LogoutDelivery
from .tokens import make_logout_token
from .transport import DeliveryError, post_logout_token, private_targets_allowed

MAX_DELAY = 3600
# A worker takes rows for this long: another worker skips them meanwhile; a crashed one's come back.
LEASE = timedelta(minutes=2)


def enqueue_logouts(*, user, sid: str, clients) -> int:
    """Owe each of ``clients`` with a back-channel logout URI a logout token for ``user``'s session
    ``sid``; return how many. Run in the transaction that ends the session: both happen, or neither."""
    rows = [
        LogoutDelivery(application=client, user=user, sub=sub_for(user, client), sid=sid)
        for client in clients
        if client.backchannel_logout_uri
    ]
    LogoutDelivery.objects.bulk_create(rows)
    return len(rows)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: ``BACKCHANNEL_LOGOUT_RETRY_DELAY`` doubling, to an hour."""
    base = max(1, int(idp_settings.BACKCHANNEL_LOGOUT_RETRY_DELAY))
    return timedelta(seconds=min(MAX_DELAY, base * 2 ** max(0, attempts - 1)))


def _claim_due(limit: int, now) -> list[LogoutDelivery]:
    """Take up to ``limit`` due rows for this worker (skipping rows other workers hold on PostgreSQL)."""
    with transaction.atomic():
        due = LogoutDelivery.objects.select_related("application").filter(
            delivered__isnull=True, given_up__isnull=True, next_attempt__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.order_by("next_attempt", "pk")[:limit])
        LogoutDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(next_attempt=now + LEASE)
    return rows


def attempt(row: LogoutDelivery, *, now=None) -> bool:
    """Sign a fresh logout token and POST it once; record the outcome (and give up after the last try)."""
    now = now or timezone.now()
    client = row.application
    row.attempts += 1
    details = {"sid": row.sid, "attempt": row.attempts}
    try:
        if not client.backchannel_logout_uri:
            raise DeliveryError("the client has no back-channel logout URI any more")
        if not client.is_active:
            raise DeliveryError("the client is disabled")
        token = make_logout_token(client_id=client.client_id, sub=row.sub, sid=row.sid)
        status = post_logout_token(
            client.backchannel_logout_uri,
            token,
            allow_private=private_targets_allowed(),
            timeout=float(idp_settings.BACKCHANNEL_LOGOUT_TIMEOUT),
        )
    except DeliveryError as exc:
        row.last_error = str(exc)[:255]
        final = row.attempts >= int(idp_settings.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS) or not (
            client.backchannel_logout_uri and client.is_active
        )
        if final:
            row.given_up = now
        else:
            row.next_attempt = now + retry_delay(row.attempts)
        row.save(update_fields=["attempts", "last_error", "given_up", "next_attempt"])
        record(Event.LOGOUT_ATTEMPT_FAILED, client=client, error=row.last_error, **details)
        if final:
            record(Event.LOGOUT_GAVE_UP, client=client, error=row.last_error, **details)
        return False
    row.delivered, row.last_error = now, ""
    row.save(update_fields=["attempts", "last_error", "delivered"])
    record(Event.LOGOUT_DELIVERED, client=client, status=status, **details)
    return True


def deliver_due(*, limit: int = 100) -> tuple[int, int]:
    """One pass over the due logout tokens: (delivered, failed) attempts."""
    rows = _claim_due(limit, timezone.now())
    delivered = sum(attempt(row) for row in rows)
    return delivered, len(rows) - delivered
