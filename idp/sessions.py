"""When and how this browser session authenticated: the source of ``auth_time`` (not ``last_login``)."""

from __future__ import annotations

import time

from django.http import HttpRequest

AUTH_TIME_KEY = "idp_auth_time"
AMR_KEY = "idp_amr"


def record_authentication(request: HttpRequest, *, methods: tuple[str, ...] = ("pwd",)) -> None:
    """Remember in the session that the user authenticated now, and how (RFC 8176 ``amr`` values)."""
    request.session[AUTH_TIME_KEY] = int(time.time())
    request.session[AMR_KEY] = list(methods)


def authentication_time(request: HttpRequest) -> int | None:
    """Seconds since the epoch at which this session's user authenticated, if known."""
    value = request.session.get(AUTH_TIME_KEY)
    return int(value) if value is not None else None


def on_user_logged_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """``user_logged_in`` receiver: every login through Django's ``login()`` is recorded."""
    if request is not None and hasattr(request, "session"):
        record_authentication(request)
