"""Reuse detection: a code or a refresh token presented a second time revokes what it became.

A code used twice (RFC 6749 §4.1.2) and a rotated refresh token presented again (RFC 9700 §4.14.2)
mean a leak or a broken client: everything issued from it is revoked, and the event recorded once.
"""

from __future__ import annotations

from ..audit import Event, record
from .revoke import revoke_tokens_issued_from
from .stored import RefreshToken, checksum


def revoke_reused_code(grant, *, client, request=None, race: bool = False) -> None:
    """A code came back after its exchange: every token it became is revoked, recorded once."""
    revoke_tokens_issued_from(grant)
    record(
        Event.CODE_REUSE, actor=grant.user, client=client, request=request, **({"race": True} if race else {})
    )


def detect_refresh_token_reuse(value: str, *, client, request=None) -> None:
    """Refresh-token reuse: a token the token endpoint refused is one of ``client``'s revoked ones.

    A rotated (or revoked) refresh token presented again means it leaked, or the client is broken
    (RFC 9700 §4.14.2): its whole family goes.
    """
    reused = (
        RefreshToken.objects.filter(token_checksum=checksum(value), revoked__isnull=False, application=client)
        .select_related("user")
        .first()
    )
    if reused is not None:
        revoke_reused_refresh_token(reused, client=client, request=request)


def revoke_reused_refresh_token(token, *, client, request=None, race: bool = False) -> None:
    """A refresh token was used twice: its whole family is revoked, recorded once.

    Revoking a family twice changes nothing: DOT's ``validate_refresh_token`` may have done it
    already (``REFRESH_TOKEN_REUSE_PROTECTION``).
    """
    RefreshToken.revoke_family(token.token_family)
    record(
        Event.REFRESH_TOKEN_REUSE, actor=token.user, client=client, request=request,
        **({"race": True} if race else {}),
    )  # fmt: skip
