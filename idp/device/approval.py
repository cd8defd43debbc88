"""The person's side of a device grant: a typed user code checked (guesses limited), then Allow or Deny."""

from __future__ import annotations

import enum
import math
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_device_grant_model

from ..api.throttling import exceeded_limits, named_limits
from ..audit import Event, client_address, record
from ..conf import idp_settings
from ..consent import record_consent
from ..sessions import how_signed_in
from .codes import find_by_user_code


class CodeProblem(enum.Enum):
    """Why a typed user code leads nowhere; the page says so, never an error page."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    TOO_MANY = "too_many"


def _limits(request) -> list[tuple[str, int, int]]:
    """RFC 8628 §5.1: the codes one person, and one address, may submit in a window."""
    who = {"person": request.user.pk, "address": client_address(request)}
    return named_limits("idp_device_user_code", idp_settings.DEVICE_USER_CODE_RATES, who)


def check_user_code(request, typed: str | None) -> tuple[object | None, CodeProblem | None, int]:
    """The pending device grant a person's typed code names, or why not (and minutes to wait).

    Every submission counts against the person's and the address's limits, right or wrong: with
    20^8 codes and ten tries an hour, guessing a live code is hopeless (RFC 8628 §5.1). Over a limit,
    the code is not even looked up.
    """
    over = exceeded_limits(_limits(request), what="Device user-code limits")
    if over:
        return None, CodeProblem.TOO_MANY, math.ceil(max(ttl for _, ttl in over) / 60)
    grant = find_by_user_code(typed)
    if grant is None:
        return None, CodeProblem.UNKNOWN, 0
    if grant.is_expired():
        return None, CodeProblem.EXPIRED, 0
    if grant.status != grant.AUTHORIZATION_PENDING or grant.used_at is not None:
        return None, CodeProblem.USED, 0
    return grant, None, 0


def answer(grant_pk: int, *, request, allow: bool) -> tuple[object | None, CodeProblem | None]:
    """Record the signed-in person's Allow or Deny for a pending, unexpired grant, exactly once.

    Allowing remembers the consent (so the client is listed, and can be disconnected, under Connected
    apps) and records ``device_approved``; denying records ``device_denied``. The device learns the
    answer at its next poll.
    """
    model = get_device_grant_model()
    signed_in = how_signed_in(request)
    auth_time = signed_in["auth_time"]
    with transaction.atomic():
        updated = model.objects.filter(
            pk=grant_pk, status=model.AUTHORIZATION_PENDING, used_at__isnull=True, expires__gt=timezone.now()
        ).update(
            status=model.AUTHORIZED if allow else model.DENIED,
            user=request.user,
            auth_time=datetime.fromtimestamp(auth_time, tz=UTC) if auth_time is not None else timezone.now(),
            amr=" ".join(signed_in["amr"]),
        )
        grant = model.objects.select_related("application").filter(pk=grant_pk).first()
        if grant is None:
            return None, CodeProblem.UNKNOWN
        if not updated:
            return None, CodeProblem.EXPIRED if grant.is_expired() else CodeProblem.USED
        if allow:
            record_consent(request.user, grant.application, scopes=grant.scope.split(), request=request)
        record(
            Event.DEVICE_APPROVED if allow else Event.DEVICE_DENIED,
            actor=request.user,
            client=grant.application,
            request=request,
            scope=grant.scope,
        )
    return grant, None
