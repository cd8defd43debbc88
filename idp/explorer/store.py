"""Runs and their messages at rest: the run's secrets and every message sealed, exchanges read back."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import sealing
from .models import ExplorerMessage, ExplorerRun
from .records import Exchange, RecordedRequest, RecordedResponse

PURPOSE = "idp.explorer"  # the sealing key's purpose (idp.sealing)
# The most messages a run keeps. Its page shows them all, and the browser's requests to /authorize,
# /login and /device are recorded for as long as the run waits there: without a bound, one run could
# grow the table (and its page) by a message per request for an hour. A flow takes a dozen; a device
# polling every five seconds, a few more a minute.
MAX_MESSAGES = 200


def secrets_of(run: ExplorerRun) -> dict[str, str]:
    """The run's secrets (state, nonce, code_verifier, client_secret, code, tokens ...), unsealed."""
    if not run.sealed:
        return {}
    opened = sealing.unseal(run.sealed, purpose=PURPOSE)
    return json.loads(opened) if opened else {}  # a rotated SECRET_KEY without fallback: forgotten


def keep_secrets(run: ExplorerRun, **values: str | None) -> dict[str, str]:
    """Add (or, with None, forget) secrets of the run, sealed again; saves the run's ``sealed``."""
    secrets = secrets_of(run)
    for name, value in values.items():
        if value is None:
            secrets.pop(name, None)
        else:
            secrets[name] = value
    run.sealed = sealing.seal(json.dumps(secrets), purpose=PURPOSE)
    run.save(update_fields=["sealed"])
    return secrets


def is_full(run: ExplorerRun) -> bool:
    """Whether ``run`` holds ``MAX_MESSAGES`` messages: nothing more is recorded (or sent) for it."""
    return run.last_seq >= MAX_MESSAGES


def _next_seq(run: ExplorerRun) -> int | None:
    # In the caller's transaction: the row stays locked until the message is saved (PostgreSQL), or
    # the whole database does (SQLite), so two messages recorded at once never get the same number,
    # and never more than MAX_MESSAGES (None: the run is full).
    room = ExplorerRun.objects.filter(pk=run.pk, last_seq__lt=MAX_MESSAGES)
    if not room.update(last_seq=F("last_seq") + 1):
        return None
    return ExplorerRun.objects.filter(pk=run.pk).values_list("last_seq", flat=True).get()


def record_exchange(
    run: ExplorerRun,
    *,
    step: str,
    source: str,
    target: str,
    request: RecordedRequest,
    response: RecordedResponse,
    broken: str = "",
    notes: tuple[str, ...] = (),
    sent_at: datetime | None = None,
) -> Exchange | None:
    """Append one message to ``run`` (the next sequence number) and return it as an Exchange; None,
    with nothing recorded, once the run is full (``MAX_MESSAGES``)."""
    sent_at = sent_at or timezone.now()
    payload = {"request": asdict(request), "response": asdict(response), "notes": list(notes)}
    with transaction.atomic():
        seq = _next_seq(run)
        if seq is None:
            run.last_seq = max(run.last_seq, MAX_MESSAGES)
            return None
        ExplorerMessage.objects.create(
            run=run, seq=seq, step=step, source=source, target=target, status=response.status,
            broken=broken, sent_at=sent_at, sealed=sealing.seal(json.dumps(payload), purpose=PURPOSE),
        )  # fmt: skip
    run.last_seq = seq
    return Exchange(
        seq=seq, step=step, source=source, target=target, request=request, response=response,
        sent_at=sent_at, broken=broken, notes=tuple(notes),
    )  # fmt: skip


def _as_exchange(message: ExplorerMessage) -> Exchange:
    opened = sealing.unseal(message.sealed, purpose=PURPOSE)
    payload = json.loads(opened) if opened else {"request": {}, "response": {}, "notes": []}
    request, response = payload["request"], payload["response"]
    return Exchange(
        seq=message.seq,
        step=message.step,
        source=message.source,
        target=message.target,
        request=RecordedRequest(
            method=request.get("method", ""),
            url=request.get("url", ""),
            headers=tuple(tuple(pair) for pair in request.get("headers", ())),
            body=request.get("body", ""),
        ),
        response=RecordedResponse(
            status=response.get("status", message.status),
            reason=response.get("reason", ""),
            headers=tuple(tuple(pair) for pair in response.get("headers", ())),
            body=response.get("body", ""),
        ),
        sent_at=message.sent_at,
        broken=message.broken,
        notes=tuple(payload.get("notes", ())),
    )


def exchanges_of(run: ExplorerRun) -> list[Exchange]:
    """Every message of ``run``, in the order sent."""
    return [_as_exchange(message) for message in run.messages.order_by("seq")]
