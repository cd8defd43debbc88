"""Authentication backend: sign in with a username or an email address (and a password)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .identifiers import is_identifier


def resolve_username(identifier: str) -> str:
    """The username that ``identifier`` names: itself, or the owner of that email address if exactly one.

    An unknown identifier comes back unchanged, so a caller cannot tell from the result whether an
    account exists.
    """
    identifier = (identifier or "").strip()
    if "@" not in identifier or not is_identifier(identifier):
        return identifier
    User = get_user_model()
    if User.objects.filter(**{User.USERNAME_FIELD: identifier}).exists():
        return identifier
    owners = list(
        User.objects.filter(email__iexact=identifier).values_list(User.USERNAME_FIELD, flat=True)[:2]
    )
    return owners[0] if len(owners) == 1 else identifier


class UsernameOrEmailBackend(ModelBackend):
    """Django's model backend (timing-safe for unknown accounts), also accepting a unique email address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not is_identifier(username):
            # Names no account (a NUL byte would make PostgreSQL refuse the lookup): refused like an
            # unknown account, after the same password hashing, so the time taken tells nothing.
            get_user_model()().set_password(password)
            return None
        return super().authenticate(request, username=resolve_username(username), password=password)

    def get_user(self, user_id):
        """The signed-in person of a session, read on every request through a compiled query."""
        from .db.lookups import user as find_user

        try:
            user = find_user(user_id)
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None


def lockout_username(request, credentials: dict | None) -> str:
    """django-axes' key for "this account": an email address counts against the account it names."""
    credentials = credentials or {}
    identifier = credentials.get("username") or (request.POST.get("username") if request else "") or ""
    # What names no account (NUL, control characters, absurd length) shares one key django-axes can store.
    return resolve_username(identifier) if is_identifier(identifier) else ""


def client_ip(request) -> str:
    """django-axes' key for "this address": the same client address the audit log records."""
    from .audit import client_address

    return client_address(request) or ""


def forgive_own_failures(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: a finished sign-in (every factor given) clears that account's failures only.

    django-axes' ``AXES_RESET_ON_SUCCESS`` also clears the failures of the whole address: anyone with
    an account could sign in as themselves between guesses at another's password or codes.
    """
    from axes.utils import reset

    reset(username=user.get_username())
