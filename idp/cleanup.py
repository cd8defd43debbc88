"""Removal of expired codes, tokens and ID tokens in short, bounded batches (`manage.py idp_cleartokens`).

It deletes exactly what django-oauth-toolkit's ``clear_expired`` (``manage.py cleartokens``)
deletes, but DOT's loop counts every remaining expired row before each batch (the time grows with
the square of the backlog), and its "token without a refresh token" is a LEFT JOIN that PostgreSQL
answers by hashing the whole refresh token table, once per count and per batch. This loop only asks
for the next batch, and asks with NOT EXISTS, which the other table's index answers row by row.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_device_grant_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings

from .explorer.models import ExplorerRun

logger = logging.getLogger(__name__)


def expired_selections(*, now) -> list[tuple[str, type[models.Model], models.Q, str | None]]:
    """What is expired at ``now``, as DOT's ``clear_expired`` selects it.

    Each is (label, model, condition, walk_by): ``walk_by`` names the indexed column to walk in order
    where the index also holds rows that stay (expired access tokens that live refresh tokens still
    need, ID tokens of such access tokens).
    """
    refresh_token_model = get_refresh_token_model()
    selections = []
    refresh_expire_at = None
    if delta := refresh_token_expire_timedelta():
        refresh_expire_at = now - delta
    # Revoked refresh tokens are what reuse detection recognises: with it on, they stay until they
    # would have expired anyway; without it, until the grace period for a lost response is over.
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        refresh_revoked_at = refresh_expire_at
    else:
        refresh_revoked_at = now - timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0)
    if refresh_revoked_at:
        selections.append(
            ("revoked refresh tokens", refresh_token_model, models.Q(revoked__lte=refresh_revoked_at), None)
        )
    # A refresh token whose access token was deleted out of band could still mint tokens.
    selections.append(
        (
            "orphaned refresh tokens",
            refresh_token_model,
            models.Q(revoked__isnull=True, access_token__isnull=True),
            None,
        )
    )
    if refresh_expire_at:
        selections.append(
            (
                "idle refresh tokens",
                refresh_token_model,
                models.Q(revoked__isnull=True, access_token__expires__lte=refresh_expire_at),
                None,
            )
        )
    # "Without a refresh token / access token" as NOT EXISTS, not DOT's LEFT JOIN ... IS NULL:
    # PostgreSQL probes the other table's index for each candidate row instead of hashing all of it.
    access_token_model = get_access_token_model()
    no_refresh_token = ~Exists(refresh_token_model._default_manager.filter(access_token=OuterRef("pk")))
    no_access_token = ~Exists(access_token_model._default_manager.filter(id_token=OuterRef("pk")))
    selections += [
        ("access tokens", access_token_model, no_refresh_token & models.Q(expires__lt=now), "expires"),
        ("ID tokens", get_id_token_model(), no_access_token & models.Q(expires__lt=now), "expires"),
        ("codes", get_grant_model(), models.Q(expires__lt=now), None),
        # Device grants (RFC 8628), answered or not: DOT's clear_expired leaves them forever.
        ("device grants", get_device_grant_model(), models.Q(expires__lt=now), None),
        # The flow explorer's runs (an hour each), with their recorded messages.
        ("explorer runs", ExplorerRun, models.Q(expires__lt=now), None),
    ]
    return selections


def delete_in_batches(
    model: type[models.Model], condition: models.Q, *, size: int, pause: float, walk_by: str | None = None
) -> int:
    """Delete the rows matching ``condition``, ``size`` at a time, each batch its own transaction.

    With ``walk_by``, each batch starts where the last one ended in (``walk_by``, pk) order, so the
    rows that stay are read once in all, not once per batch.
    """
    manager = model._default_manager
    deleted, after = 0, None
    while True:
        rows = manager.filter(condition)
        if walk_by is None:
            ids = list(rows.values_list("pk", flat=True)[:size])
        else:
            if after is not None:
                value, pk = after
                rows = rows.filter(
                    models.Q(**{f"{walk_by}__gt": value}) | models.Q(pk__gt=pk), **{f"{walk_by}__gte": value}
                )
            batch = list(rows.order_by(walk_by, "pk").values_list(walk_by, "pk")[:size])
            ids = [pk for _, pk in batch]
            after = batch[-1] if batch else after
        if ids:
            # One transaction (Django's delete makes it). The condition again: a row that stopped
            # matching since the select is kept.
            _, by_model = manager.filter(condition, pk__in=ids).delete()
            deleted += by_model.get(model._meta.label, 0)
        if len(ids) < size:
            return deleted
        time.sleep(pause)


def clear_expired(*, now=None) -> dict[str, int]:
    """Delete everything expired at ``now`` (default: the present); return how many rows of each kind."""
    now = now or timezone.now()
    size = oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_SIZE
    pause = oauth2_settings.CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL
    counts = {}
    for label, model, condition, walk_by in expired_selections(now=now):
        counts[label] = delete_in_batches(model, condition, size=size, pause=pause, walk_by=walk_by)
        logger.info("%s expired %s deleted", counts[label], label)
    return counts
