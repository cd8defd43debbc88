"""The logout outbox: logout tokens owed, and one delivery pass with retries, backoff and audit events."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

from django.db import connections, transaction
from django.utils import timezone

from ..audit import Event, record
from ..conf import idp_settings
from ..subjects import sub_for
from .models import LogoutDelivery
from .tokens import make_logout_token
from .transport import DeliveryError, post_logout_token, private_targets_allowed

logger = logging.getLogger("idp.logout")
MAX_DELAY = 3600
# A worker takes rows for this long: another worker skips them meanwhile; a crashed one's come back.
LEASE = timedelta(minutes=2)
AT_ONCE_THREADS = 4  # first-attempt threads running at once in a process (deliver_soon)
_at_once = threading.BoundedSemaphore(AT_ONCE_THREADS)


def enqueue_logouts(*, user, sid: str, clients) -> int:
    """Owe each of ``clients`` with a back-channel logout URI a logout token for ``user``'s session
    ``sid``; return how many. Run in the transaction that ends the session: both happen, or neither.

    Once that commits, ``deliver_soon`` makes the first attempts at once, beside the response
    (``IDP['BACKCHANNEL_LOGOUT_DELIVER_AT_ONCE']``); the worker makes the retries.
    """
    rows = [
        LogoutDelivery(application=client, user=user, sub=sub_for(user, client), sid=sid)
        for client in clients
        if client.backchannel_logout_uri
    ]
    LogoutDelivery.objects.bulk_create(rows)
    pks = [row.pk for row in rows if row.pk is not None]
    if pks and idp_settings.BACKCHANNEL_LOGOUT_DELIVER_AT_ONCE:
        transaction.on_commit(lambda: deliver_soon(pks))
    return len(rows)


def deliver_soon(pks: list[int]) -> threading.Thread | None:
    """First attempts for these rows in a thread of their own: nobody waits for a relying party.

    At most ``AT_ONCE_THREADS`` such threads (each with a database connection) run in a process; beyond
    them the rows are left, still due, to the worker (None): ending hundreds of sessions at once must
    not open hundreds of connections.
    """
    if not _at_once.acquire(blocking=False):
        return None

    def run() -> None:
        try:
            for row in _claim_each(pks):
                attempt(row)
        except Exception:  # the worker retries; a thread must not die loudly mid-request
            logger.exception("Back-channel logout: first attempt failed; the worker will retry")
        finally:
            connections.close_all()
            _at_once.release()

    thread = threading.Thread(target=run, name="idp-logout-delivery", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # no thread to be had: the worker will do
        _at_once.release()
        return None
    return thread


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: ``BACKCHANNEL_LOGOUT_RETRY_DELAY`` doubling, to an hour."""
    base = max(1, int(idp_settings.BACKCHANNEL_LOGOUT_RETRY_DELAY))
    return timedelta(seconds=min(MAX_DELAY, base * 2 ** max(0, attempts - 1)))


def _claim(pks, now) -> list[LogoutDelivery]:
    """Take those of ``pks`` still due, each by one conditional UPDATE (moving it a lease ahead): of two
    workers, or a worker and ``deliver_soon``, exactly one gets each row, on any database."""
    due = LogoutDelivery.objects.filter(delivered__isnull=True, given_up__isnull=True, next_attempt__lte=now)
    lease = max(LEASE, timedelta(seconds=2 * float(idp_settings.BACKCHANNEL_LOGOUT_TIMEOUT)))  # > one attempt
    taken = [pk for pk in pks if due.filter(pk=pk).update(next_attempt=now + lease)]
    return list(LogoutDelivery.objects.select_related("application").filter(pk__in=taken).order_by("pk"))


def _claim_each(pks) -> Iterator[LogoutDelivery]:
    """Each of ``pks`` still due, taken just before its attempt: a lease covers one attempt (bounded by
    the timeout), never a batch of them (unbounded), so it cannot run out while the row waits its turn."""
    for pk in pks:
        yield from _claim([pk], timezone.now())


def _due_pks(limit: int, now) -> list[int]:
    """Up to ``limit`` rows due for this worker, oldest first (taken one by one, by ``_claim_each``)."""
    due = LogoutDelivery.objects.filter(delivered__isnull=True, given_up__isnull=True, next_attempt__lte=now)
    return list(due.order_by("next_attempt", "pk").values_list("pk", flat=True)[:limit])


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
    outcomes = [attempt(row) for row in _claim_each(_due_pks(limit, timezone.now()))]
    return sum(outcomes), len(outcomes) - sum(outcomes)
