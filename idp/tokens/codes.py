"""Authorization codes: found by value, checked before an exchange, claimed exactly once."""

from __future__ import annotations

from django.db import connections, router
from django.utils import timezone

from ..db import lookups
from ..token_checks import person_may_use_tokens
from .reuse import revoke_reused_code


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


def claim_device_grant(device_grant) -> bool:
    """Mark an approved device grant used; False if another token request used it first.

    Run in the transaction that saves the tokens, like ``claim_code``: of two polls racing with the
    same device code, the second waits for the first to commit and then matches no row.
    """
    now = timezone.now()
    claimed = (
        type(device_grant)
        .objects.filter(pk=device_grant.pk, used_at__isnull=True, status=device_grant.AUTHORIZED)
        .update(used_at=now)
    )
    if claimed:
        device_grant.used_at = now
    return claimed == 1
