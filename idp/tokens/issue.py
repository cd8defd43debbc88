"""Issuing: the rows of a token response, saved in one transaction that also claims what was used."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import router, transaction
from oauth2_provider.models import set_token_value

from ..audit import Event, record
from ..db import lookups
from .codes import claim_code, claim_device_grant
from .reuse import revoke_reused_code, revoke_reused_refresh_token
from .stored import AccessToken, Grant, IDToken, RefreshToken

# What a token request's hooks saved: its access token and refresh token (either may be None).
Saved = tuple[object | None, object | None]


def new_id_token(request, *, jti: str, expires) -> IDToken:
    """The row of an ID token being issued, unsaved: ``save_issued`` inserts it with the tokens."""
    scope = request.scope or " ".join(request.scopes)
    return IDToken(user=request.user, scope=scope, expires=expires, jti=jti, application=request.client)


def save_access_token(
    request, *, value: str, scope: str, expires, id_token, source_refresh_token
) -> AccessToken:
    """Insert an access token (as its checksum) with the resources and claims request it serves."""
    access_token = AccessToken(
        user=request.user,
        scope=scope,
        expires=expires,
        id_token=id_token,
        application=request.client,
        source_refresh_token=source_refresh_token,
        resource=getattr(request, "resource", None) or [],
        claims=_claims_request(request),
    )
    set_token_value(access_token, value)
    lookups.insert(access_token)
    return access_token


def save_refresh_token(request, *, value: str, access_token, previous) -> RefreshToken:
    """Insert a refresh token in ``previous``'s family (or a new one), keeping the original sign-in."""
    refresh_token = RefreshToken(
        user=request.user,
        application=request.client,
        access_token=access_token,
        token_family=previous.token_family if previous else uuid.uuid4(),
        resource=getattr(request, "resource", None) or [],
        auth_time=getattr(request, "auth_time", None),
        amr=" ".join(getattr(request, "amr", None) or []),
        claims=_claims_request(request),
        sid=getattr(request, "sid", None) or "",
    )
    set_token_value(refresh_token, value)
    lookups.insert(refresh_token)
    return refresh_token


def _claims_request(request) -> dict:
    claims = getattr(request, "claims", None)
    return claims if isinstance(claims, dict) else {}


class _Replayed(Exception):
    """The code or refresh token being exchanged was used by a concurrent request first."""


def save_issued(
    token: dict,
    *,
    request,
    save: Callable[[], Saved],
    code=None,
    presented=None,
    id_token=None,
    device_grant=None,
) -> str | None:
    """Save one token response in one transaction that also claims the code, device grant or refresh
    token it used.

    ``save`` stores the access and refresh token (DOT's ``_save_bearer_token``) and returns them. A
    code is marked used by the statement that links it to its tokens; a ``presented`` refresh token
    is re-read under a row lock (SQLite's immediate transactions serialise the same way). A request
    that finds either already used lost a race with another use of the same credential: that is a
    replay, so its tokens are rolled back, the earlier ones revoked, and the reason returned.
    """
    try:
        with transaction.atomic(using=router.db_for_write(AccessToken)):
            if presented is not None and not (
                RefreshToken.objects.select_for_update()
                .filter(pk=presented.pk, revoked__isnull=True)
                .values_list("pk", flat=True)
                .first()
            ):
                raise _Replayed
            if id_token is not None:
                lookups.insert(id_token)
            access_token, refresh_token = save()
            if presented is not None and "refresh_token" not in token:
                # The refresh narrowed the scope away from offline_access (idp.server): DOT leaves
                # the presented refresh token alive when none replaces it; it is used up as usual.
                presented.revoke()
            if code is not None and not claim_code(
                code,
                access_token_id=access_token.pk if access_token else None,
                token_family=refresh_token.token_family if refresh_token else None,
            ):
                raise _Replayed
            if device_grant is not None and not claim_device_grant(device_grant):
                raise _Replayed
            record(
                Event.TOKEN_ISSUED,
                actor=request.user,
                client=request.client,
                request=request,
                grant_type=request.grant_type,
                scope=token.get("scope", ""),
                refresh="refresh_token" in token,
                expires_in=token.get("expires_in"),
            )
            return None
    except _Replayed:
        pass
    if device_grant is not None:
        return "The device code was already used."
    if code is not None:
        used = Grant.objects.select_related("user").get(pk=code.pk)  # with the first use's tokens
        revoke_reused_code(used, client=request.client, request=request, race=True)
        return "The authorization code was already used."
    revoke_reused_refresh_token(presented, client=request.client, request=request, race=True)
    return "The refresh token was already used."
