"""Revocation: by the client (RFC 7009), by an operator, and everything a person or client holds."""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.models import get_device_grant_model
from oauth2_provider.models import (
    revoke_access_token as revoke_access_token_and_its_refresh_token,
)

from ..audit import Event, record
from .stored import AccessToken, Grant, RefreshToken, checksum


def revoke_tokens_issued_from(grant) -> None:
    """Revoke every token issued from an authorization code: its access token and refresh family."""
    if grant.token_family is not None:
        RefreshToken.revoke_family(grant.token_family)
    if grant.access_token_id is not None:
        AccessToken.objects.filter(pk=grant.access_token_id).delete()


def revoke_by_client(value: str, *, hint: str | None, client, request=None) -> None:
    """RFC 7009: ``client`` revokes one of its own tokens; recorded when a live one was found.

    An access token takes its refresh token along (§2.1 allows it; otherwise the refresh token would
    mint a new one). Another client's token is treated as unknown, and the answer is the same.
    """
    if getattr(client, "pk", None) is None:
        return
    lookup = {"token_checksum": checksum(value), "application_id": client.pk}
    found = []
    for model in (RefreshToken, AccessToken) if hint == "refresh_token" else (AccessToken, RefreshToken):
        found = list(model.objects.filter(**lookup))
        if found:
            break
    live = [token for token in found if not isinstance(token, RefreshToken) or token.revoked is None]
    for token in live:
        if isinstance(token, RefreshToken):
            token.revoke()
        else:
            revoke_access_token_and_its_refresh_token(token)
    if live:
        record(Event.TOKEN_REVOKED, client=client, request=request, via="revocation endpoint")


def revoke_by_operator(row, *, actor, request=None) -> bool:
    """An operator revokes one access token, refresh token or code (with what it became); recorded once.

    An access token takes its refresh token along. False if a refresh token was already revoked.
    """
    if isinstance(row, RefreshToken):
        if row.revoked is not None:
            return False
        row.revoke()
        kind = "refresh"
    elif isinstance(row, Grant):
        revoke_tokens_issued_from(row)
        kind = "authorization code"
    else:
        revoke_access_token_and_its_refresh_token(row)
        kind = "access"
    record(
        Event.TOKEN_REVOKED, actor=actor, client=row.application, request=request,
        user=row.user.get_username() if row.user else None, via="admin", kind=kind,
    )  # fmt: skip
    if isinstance(row, Grant):
        row.delete()
    return True


def revoke_tokens(*, user=None, client=None, refresh_only: bool = False) -> int:
    """Revoke the live refresh tokens (whole families) that ``client`` holds for ``user`` and, unless
    ``refresh_only``, the access tokens too; return how many tokens were live.

    Give ``user``, ``client`` or both: all of a person's tokens, all of a client's, or one pairing.
    A family's access tokens go with it, also when ``refresh_only``; so does a device grant
    approved (or, for a client, asked for) and not yet collected. The caller records why.
    """
    if user is None and client is None:
        raise ValueError("revoke_tokens needs a user, a client or both.")
    owner = {"user": user} if client is None else {"application": client, **({"user": user} if user else {})}
    with transaction.atomic():
        live_refresh = RefreshToken.objects.filter(**owner, revoked__isnull=True)
        access = AccessToken.objects.filter(**owner)
        count = live_refresh.count() + (0 if refresh_only else access.count())
        for family in set(live_refresh.exclude(token_family=None).values_list("token_family", flat=True)):
            RefreshToken.revoke_family(family)  # also deletes the access tokens of the family
        for token in live_refresh.filter(token_family=None):
            token.revoke()
        if not refresh_only:
            access.delete()
        # A device grant approved but not yet collected would still mint tokens at its next poll.
        DeviceGrant = get_device_grant_model()
        DeviceGrant.objects.filter(**owner, used_at__isnull=True).exclude(status=DeviceGrant.DENIED).update(
            status=DeviceGrant.DENIED
        )
    return count


def revoke_session_refresh_tokens(sid: str, *, clients) -> int:
    """A browser session ended: revoke the refresh-token families ``clients`` received in it.

    Every refresh token here is offline access (``idp.server`` issues them only for ``offline_access``),
    which outlives the session that granted it; so only clients whose policy says so
    (``logout_ends_offline_access``) are passed. The caller records the event.
    """
    if not sid or not clients:
        return 0
    with transaction.atomic():
        live = RefreshToken.objects.filter(sid=sid, application__in=clients, revoked__isnull=True)
        families = set(live.exclude(token_family=None).values_list("token_family", flat=True))
        count = live.count()
        for family in families:
            RefreshToken.revoke_family(family)
        for token in live.filter(token_family=None):
            token.revoke()
    return count
