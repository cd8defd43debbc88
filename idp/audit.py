"""The audit trail: every security-relevant event is recorded here, through ``record``."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Any

from django.utils import timezone

from .conf import idp_settings
from .identifiers import is_identifier
from .models import AuditEvent

Event = AuditEvent.Event

# Detail keys that could carry a credential are dropped, whatever a caller passes.
_SENSITIVE_KEY = re.compile(r"secret|password|token|code|credential|assertion|cookie", re.IGNORECASE)


def client_address(request) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or the one ``IDP['TRUSTED_PROXIES']`` proxies saw.

    Takes a Django request or an oauthlib request (whose headers are a copy of META). Lockouts and
    audit events both use it, so the two always name the same address.
    """
    if request is None:
        return None
    meta = getattr(request, "META", None)
    if meta is None:
        meta = getattr(request, "headers", None) or {}
    proxies = int(idp_settings.TRUSTED_PROXIES or 0)
    if proxies > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies and _is_address(forwarded[-proxies]):
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR") or None


def _is_address(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address: what a proxy forwards, and what an inet column holds."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def record(
    event: str, *, actor=None, client=None, request=None, client_identifier: str = "", **details: Any
) -> AuditEvent:
    """Append one event: who (``actor``), which client, from which address, when, and safe details.

    ``client_identifier`` names a client that is no longer in the database (a deleted one).
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    from .db.lookups import insert

    return insert(
        AuditEvent(
            event=event,
            actor=actor,
            actor_name=actor.get_username() if actor is not None else "",
            client=client,
            client_identifier=client.client_id if client is not None else client_identifier,
            ip_address=client_address(request),
            details={key: value for key, value in details.items() if not _SENSITIVE_KEY.search(key)},
        )
    )


def delete_expired_events(*, now=None) -> int:
    """Remove the events older than ``IDP['AUDIT_RETENTION_DAYS']``; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=idp_settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(time__lt=cutoff).delete()
    return deleted


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    amr = list(getattr(request, "idp_sign_in_methods", ("pwd",)))
    record(Event.SIGN_IN, actor=user, request=request, backend=getattr(user, "backend", ""), amr=amr)


def existing_account(username: str | None):
    """The account named ``username``, or None: what was typed for an unknown account is never kept."""
    from django.contrib.auth import get_user_model

    if not is_identifier(username):
        return None
    User = get_user_model()
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()


def on_user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """A failed sign-in names the account only if it exists: a mistyped password is never kept."""
    from django.contrib.auth import get_user_model

    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    account = existing_account(username)
    record(Event.SIGN_IN_FAILED, actor=account, request=request, known_account=account is not None)


def on_user_locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    """django-axes' lockout, once: when the failures reach the limit, not for each refused attempt after.

    django-axes signals again for every attempt made while locked out (each is still a failed
    sign-in); only the attempt that reaches the limit starts a lockout.
    """
    from axes.helpers import get_failure_limit

    failures = getattr(request, "axes_failures_since_start", None)
    if failures != get_failure_limit(request, getattr(request, "axes_credentials", None)):
        return
    account = existing_account(username)
    record(
        Event.LOCKOUT,
        actor=account,
        request=request,
        known_account=account is not None,
        failures=failures,
        locked_address=ip_address or None,
    )
