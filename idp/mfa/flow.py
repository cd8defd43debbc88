"""The second sign-in step: who is pending, finishing a sign-in or a step-up, and factor-change notices."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from ..audit import Event, record
from ..conf import idp_settings
from ..sessions import AMR_KEY, authentication_methods, authentication_time
from . import acr
from .factors import has_second_factor, remove_all_factors

logger = logging.getLogger("idp.mfa")

PENDING_KEY = "idp_mfa_pending"
ACR_KEY = "idp_acr"
# How long the password step stays good for the second step.
PENDING_SECONDS = 600
# "A fresh sign-in": removing the last factor or turning MFA off needs one this recent.
FRESH_SECONDS = 300

__all__ = [
    "begin_second_step",
    "finish_sign_in",
    "fresh_sign_in_required",
    "has_second_factor",
    "pending_user",
    "record_factor_change",
    "reset_factors",
    "safe_next",
]


def safe_next(request: HttpRequest, url: str | None) -> str:
    """``url`` if it stays on this site, else the default after signing in (never an open redirect)."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return (
        reverse(settings.LOGIN_REDIRECT_URL)
        if ":" in settings.LOGIN_REDIRECT_URL
        else settings.LOGIN_REDIRECT_URL
    )


def begin_second_step(request: HttpRequest, user, *, next_url: str, backend: str, methods=("pwd",)) -> str:
    """Hold ``user`` (who passed the password step) in the session; the URL of the second step.

    Nobody is signed in until ``finish_sign_in``: the session only says who may give a second factor.
    """
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": str(user.pk),
        "backend": backend,
        "methods": list(methods),
        "since": int(time.time()),
        "next": safe_next(request, next_url),
    }
    return f"{reverse('idp:login-verify')}"


def _pending(request: HttpRequest) -> dict | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    return pending


def pending_user(request: HttpRequest):
    """Who must give a second factor now: the person held after the password step, else (a step-up)
    the signed-in person; None if neither."""
    pending = _pending(request)
    if pending is not None:
        User = get_user_model()
        user = User._default_manager.filter(pk=pending["user"]).first()
        if user is not None and user.is_active:
            return user
        return None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def pending_next(request: HttpRequest) -> str | None:
    """Where the sign-in held in the session goes on to, if one is held."""
    pending = _pending(request)
    return pending["next"] if pending else None


def finish_sign_in(
    request: HttpRequest, user, *, methods: list[str], next_url: str | None = None, backend: str | None = None
) -> str:
    """Complete the sign-in (or the step-up) with the ``amr`` values of the factor just used; where to go.

    - After the password step: sign in now (``login()``, a new session key, auth_time now), amr
      ``pwd`` + ``methods`` (+ ``mfa``).
    - A step-up of the signed-in person: amr gains ``methods`` (+ ``mfa``); auth_time stays, since
      the first factor was not given again (the rule ``max_age`` reads).
    - Anyone else (passwordless passkey): sign in with ``methods`` alone (+ ``mfa`` when the
      authenticator verified the user).
    """
    pending = _pending(request)
    if pending is not None and pending["user"] == str(user.pk):
        target = next_url or pending["next"]
        amr = acr.with_mfa([*pending.get("methods", ["pwd"]), *methods])
        request.session.pop(PENDING_KEY, None)
        _login(request, user, amr=amr, backend=pending.get("backend") or backend)
    elif request.user.is_authenticated and request.user.pk == user.pk:
        target = next_url
        amr = acr.with_mfa([*authentication_methods(request), *methods])
        request.session[AMR_KEY] = amr
        record(Event.STEP_UP, actor=user, request=request, amr=amr)
    else:
        target = next_url
        amr = acr.with_mfa(methods)
        request.session.pop(PENDING_KEY, None)
        _login(request, user, amr=amr, backend=backend)
    request.session[ACR_KEY] = acr.acr_for(amr)
    return safe_next(request, target)


def _login(request: HttpRequest, user, *, amr: list[str], backend: str | None) -> None:
    # idp.sessions and idp.audit read these while login() signals: the session and the one
    # sign-in event both say how the person signed in.
    request.idp_sign_in_methods = tuple(amr)
    login(request, user, backend=backend or _default_backend())


def _default_backend() -> str:
    backends = [path for path in settings.AUTHENTICATION_BACKENDS if not path.startswith("axes.")]
    return backends[0]


def fresh_sign_in_required(request: HttpRequest, *, seconds: int = FRESH_SECONDS) -> bool:
    """Whether this session signed in too long ago for a sensitive change (sign in again first)."""
    signed_in_at = authentication_time(request)
    return signed_in_at is None or time.time() - signed_in_at > seconds


def record_factor_change(request: HttpRequest | None, user, *, event: str, detail: dict) -> None:
    """An enrollment, rename, removal or reset of a factor: one audit event, and an email to the person."""
    actor = getattr(request, "user", None) if request is not None else None
    record(event, actor=actor if actor is not None and actor.is_authenticated else user, request=request,
           user=user.get_username(), **detail)  # fmt: skip
    _notify(user, event=event, detail=detail)


def _notify(user, *, event: str, detail: dict) -> None:
    address = getattr(user, user.get_email_field_name(), "") if hasattr(user, "get_email_field_name") else ""
    if not address:
        return
    context = {
        "site_name": idp_settings.SITE_NAME,
        "person": user.get_full_name() if hasattr(user, "get_full_name") else "",
        "what": Event(event).label,
        "detail": detail,
    }
    subject = render_to_string("idp/email/factor_changed_subject.txt", context).strip()
    body = render_to_string("idp/email/factor_changed.txt", context)
    try:
        send_mail(subject, body, None, [address])
    except Exception:  # an unreachable mail server must not undo the change
        logger.warning("Could not send the factor-change notice (%s)", event, exc_info=True)


def reset_factors(user, *, actor, request: HttpRequest | None = None) -> dict[str, int]:
    """An operator removes every factor of ``user`` (e.g. a lost phone): audited, the person told."""
    removed = remove_all_factors(user)
    record(Event.FACTORS_RESET, actor=actor, request=request, user=user.get_username(), removed=removed)
    _notify(user, event=Event.FACTORS_RESET, detail={"removed": removed})
    return removed
