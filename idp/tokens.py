"""The token lifecycle: checksums, codes claimed once, issued tokens saved together, and every revocation.

Every way tokens end, each recorded once:
- a code used twice: ``revoke_reused_code`` (``code_reuse``), from ``check_code`` or a lost race in
  ``save_issued``;
- a refresh token used twice: ``revoke_reused_refresh_token`` (``refresh_token_reuse``), detected by
  ``detect_refresh_token_reuse`` (a refused token that was rotated away) or a lost race in ``save_issued``;
- a client revokes one of its tokens (RFC 7009): ``revoke_by_client`` (``token_revoked``);
- an operator revokes a token or a code in the admin: ``revoke_by_operator`` (``token_revoked``);
- a person disconnects an app, an operator disables a client, a person is deactivated or changes
  password: ``revoke_tokens``, called by ``consent.revoke_consent``, ``clients.set_client_active`` and
  ``accounts``, which record the event for what they did (``consent_revoked``, ``client_disabled``,
  ``user_deactivated``, ``password_changed``, each with what was revoked).
Whether a stored token still counts is ``idp.token_checks``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from django.db import connections, router, transaction
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    set_token_value,
)
from oauth2_provider.models import (
    revoke_access_token as revoke_access_token_and_its_refresh_token,
)

from .audit import Event, record
from .db import lookups
from .token_checks import person_may_use_tokens

AccessToken = get_access_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()

# What a token request's hooks saved: its access token and refresh token (either may be None).
Saved = tuple[object | None, object | None]


def checksum(value: str) -> str:
    """How a stored token is found: by the SHA-256 of its value (DOT's ``token_checksum``)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# --- codes ---------------------------------------------------------------------------------------


def find_code(code) -> object | None:
    """The Grant for an authorization code, with its person (one compiled query), or None."""
    return lookups.grant(code)


def check_code(grant, *, client, request=None) -> bool:
    """Whether ``client`` may exchange ``grant`` now: its own, unused, unexpired, its person still active.

    A second use of a code is an attack or a bug: it fails, and every token issued from the code is
    revoked (RFC 6749 §4.1.2).
    """
    if grant is None or grant.application_id != client.pk:
        return False
    if grant.used_at is not None:
        revoke_reused_code(grant, client=client, request=request)
        return False
    return not grant.is_expired() and person_may_use_tokens(grant.user)


_claim_sql: dict[str, str] = {}


def claim_code(grant, *, access_token_id: int | None, token_family) -> bool:
    """Mark an unused code used and remember the tokens it became; False if it was already used.

    One statement, run in the transaction that saves those tokens: of two requests racing with the
    same code, the second waits for the first to commit and then matches no row.
    """
    model = type(grant)
    alias = router.db_for_write(model, instance=grant)
    connection = connections[alias]
    opts = model._meta
    used_at, family = opts.get_field("used_at"), opts.get_field("token_family")
    if alias not in _claim_sql:
        quote = connection.ops.quote_name
        # Only quoted names from the model go into the text; every value is a parameter.
        _claim_sql[alias] = (
            f"UPDATE {quote(opts.db_table)} SET {quote(used_at.column)} = %s, "  # noqa: S608
            f"{quote(opts.get_field('access_token').column)} = %s, {quote(family.column)} = %s "
            f"WHERE {quote(opts.pk.column)} = %s AND {quote(used_at.column)} IS NULL"
        )
    now = timezone.now()
    params = [
        used_at.get_db_prep_save(now, connection),
        access_token_id,
        family.get_db_prep_save(token_family, connection),
        grant.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql[alias], params)
        claimed = cursor.rowcount == 1
    if claimed:
        grant.used_at, grant.access_token_id, grant.token_family = now, access_token_id, token_family
    return claimed


# --- issuing -------------------------------------------------------------------------------------


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
    token: dict, *, request, save: Callable[[], Saved], code=None, presented=None, id_token=None
) -> str | None:
    """Save one token response in one transaction that also claims the code or refresh token it used.

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
    if code is not None:
        used = Grant.objects.select_related("user").get(pk=code.pk)  # with the first use's tokens
        revoke_reused_code(used, client=request.client, request=request, race=True)
        return "The authorization code was already used."
    revoke_reused_refresh_token(presented, client=request.client, request=request, race=True)
    return "The refresh token was already used."


# --- revoking ------------------------------------------------------------------------------------


def revoke_tokens_issued_from(grant) -> None:
    """Revoke every token issued from an authorization code: its access token and refresh family."""
    if grant.token_family is not None:
        RefreshToken.revoke_family(grant.token_family)
    if grant.access_token_id is not None:
        AccessToken.objects.filter(pk=grant.access_token_id).delete()


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
    A family's access tokens go with it, also when ``refresh_only``. The caller records why.
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
    return count
