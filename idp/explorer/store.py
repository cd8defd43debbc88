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


def _next_seq(run: ExplorerRun) -> int:
    # In the caller's transaction: the row stays locked until the message is saved (PostgreSQL), or
    # the whole database does (SQLite), so two messages recorded at once never get the same number.
    ExplorerRun.objects.filter(pk=run.pk).update(last_seq=F("last_seq") + 1)
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
) -> Exchange:
    """Append one message to ``run`` (the next sequence number) and return it as an Exchange."""
    sent_at = sent_at or timezone.now()
    payload = {"request": asdict(request), "response": asdict(response), "notes": list(notes)}
    with transaction.atomic():
        seq = _next_seq(run)
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
