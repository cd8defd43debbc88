"""Account lifecycle: a deactivated person loses every token, a new password ends their refresh tokens;
password-reset emails are rate-limited.

Wired to the user model's ``pre_save``/``post_save`` in ``IdpConfig.ready()``, not called from the
admin or the password views: every way a person is changed ends in ``save()`` (the admin, Django's
password change and reset forms, ``manage.py changepassword``, the shell), so none of them can
forget it. Only ``QuerySet.update()`` bypasses model signals; nothing in this project deactivates
people or sets passwords that way.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .api.throttling import exceeded_limits, named_limits  # the API's window counters
from .audit import Event, client_address, record
from .browser_sessions import end_sessions_of
from .conf import idp_settings
from .tokens import revoke_tokens

logger = logging.getLogger("idp.accounts")

# Who is changing accounts in this request, for the audit events the signals record.
_changed_by: ContextVar[tuple[object, object]] = ContextVar("idp_account_changed_by", default=(None, None))


@contextmanager
def changes_by(request, *, actor=None) -> Iterator[None]:
    """Attribute the account changes made inside to ``actor`` (default: the request's user)."""
    reset = _changed_by.set((actor or getattr(request, "user", None), request))
    try:
        yield
    finally:
        _changed_by.reset(reset)


def deactivate_person_tokens(user) -> None:
    """A person was deactivated: every token they hold is revoked, recorded once; every browser session
    of theirs ends (its apps owed a logout token)."""
    revoked = revoke_tokens(user=user)
    actor, request = _changed_by.get()
    end_sessions_of(user, reason="account deactivated", actor=actor, request=request)
    record(Event.USER_DEACTIVATED, actor=actor, request=request, user=user.get_username(), revoked=revoked)


def end_refresh_tokens_after_password_change(user) -> None:
    """A person's password changed: their refresh tokens are revoked (RFC 9700 §4.14.2), recorded once.

    Their browser sessions end too (Django's session hash check would refuse them at the next request
    anyway), and the apps used in each are owed a logout token.
    """
    revoked = revoke_tokens(user=user, refresh_only=True)
    actor, request = _changed_by.get()
    end_sessions_of(user, reason="password changed", actor=actor, request=request)
    record(Event.PASSWORD_CHANGED, actor=actor, request=request, user=user.get_username(), revoked=revoked)


def password_reset_allowed(request, *, email: str) -> bool:
    """Count a password-reset request against ``IDP['PASSWORD_RESET_RATES']``; False once over a limit.

    Counted per email address (hashed: the cache never holds addresses people typed) and per client
    address, whether or not an account has that email, so the limits reveal nothing either.
    """
    email_key = hashlib.sha256(_email_identity(email).encode()).hexdigest()
    idents = {"email": email_key, "address": client_address(request) or "unknown"}
    counted = named_limits("idp_password_reset", idp_settings.PASSWORD_RESET_RATES, idents)
    over = [key.split(":")[1] for key, _ in exceeded_limits(counted, what="Password-reset limits")]
    if over:
        logger.warning("Password-reset email not sent: over the %s limit", " and ".join(over))
    return not over


def _email_identity(email: str) -> str:
    """The one key for every spelling of an address Django's reset form would mail the same person.

    The form matches ``email__iexact`` (``UPPER()`` on PostgreSQL, where the long s U+017F is ``S``),
    then compares NFKC case folds: the long-s spelling of ``sam@example.com`` reaches that account.
    """
    return unicodedata.normalize("NFKC", email.strip()).casefold()


# --- signal receivers (connected in IdpConfig.ready) ---------------------------------------------

_WATCHED = frozenset({"is_active", "password"})


def remember_stored_account(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Before a person is saved: note whether this save deactivates them or changes their password."""
    instance._idp_account_changes = ()
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not _WATCHED & set(update_fields):
        return  # e.g. last_login at every sign-in: no extra query
    stored = sender._default_manager.filter(pk=instance.pk).values("is_active", "password").first()
    if stored is None:
        return
    changes = []
    if stored["is_active"] and not instance.is_active:
        changes.append("deactivated")
    # Django re-hashing a password it just checked (a new hasher or more iterations) saves with
    # update_fields=["password"] after clearing _password: the same password, not a change.
    rehashed = (
        update_fields is not None
        and set(update_fields) == {"password"}
        and getattr(instance, "_password", None) is None
    )
    if stored["password"] != instance.password and not rehashed:
        changes.append("password")
    instance._idp_account_changes = tuple(changes)


def apply_account_changes(sender, instance, created=False, raw=False, **kwargs) -> None:
    """After a person is saved: revoke what the change ends (see ``remember_stored_account``)."""
    changes = getattr(instance, "_idp_account_changes", ())
    instance._idp_account_changes = ()
    if "deactivated" in changes:
        deactivate_person_tokens(instance)
    elif "password" in changes:
        end_refresh_tokens_after_password_change(instance)


def record_person_deleted(sender, instance, **kwargs) -> None:
    """A person was deleted (their tokens and consents go with them): recorded once."""
    actor, request = _changed_by.get()
    if actor is not None and getattr(actor, "pk", None) == instance.pk:
        actor = None  # the row it would point at is gone
    record(Event.USER_DELETED, actor=actor, request=request, user=instance.get_username())


def record_client_deleted(sender, instance, **kwargs) -> None:
    """A client was deleted (its tokens and consents go with it): recorded once, by its client_id."""
    actor, request = _changed_by.get()
    record(
        Event.CLIENT_DELETED, actor=actor, request=request, client_identifier=instance.client_id,
        name=instance.name, kind=getattr(instance, "kind", ""),
    )  # fmt: skip
