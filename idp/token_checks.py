"""Whether a stored token still counts: one predicate per kind, used by every endpoint that checks one."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from oauth2_provider.models import refresh_token_expire_timedelta


def person_may_use_tokens(user) -> bool:
    """A token issued for a person works only while that person's account is active (None: a service)."""
    return user is None or bool(getattr(user, "is_active", False))


def access_token_is_live(token) -> bool:
    """Not expired, and its person (if any) still active."""
    return not token.is_expired() and person_may_use_tokens(token.user)


def refresh_token_expires(token) -> datetime | None:
    """When a live refresh token dies of idleness (DOT's rule: the idle lifetime after its access token
    expires), or None if refresh tokens never idle out."""
    idle = refresh_token_expire_timedelta()
    if idle is None or token.access_token is None:
        return None
    return token.access_token.expires + idle


def refresh_token_is_live(token) -> bool:
    """Not revoked, still bound to an access token, not idle past its lifetime, its person active.

    The token endpoint (``IdpOAuth2Validator.validate_refresh_token``) and introspection both ask
    this, so they cannot disagree about a refresh token.
    """
    if token.revoked is not None or token.access_token is None:
        return False
    expires = refresh_token_expires(token)
    if expires is not None and expires <= timezone.now():
        return False
    return person_may_use_tokens(token.user)
