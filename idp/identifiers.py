"""Which request values can be identifiers: any other value names nothing and never reaches the database."""

from __future__ import annotations

import re

# The longest identifier stored here: DOT's client_id and authorization code (255), an email (254),
# a username (150); tokens are looked up by their SHA-256 checksum.
MAX_LENGTH = 255

# C0 and C1 control characters (NUL included: PostgreSQL text cannot hold it, so psycopg refuses the
# whole query) and lone surrogates (not encodable as UTF-8). Invalid UTF-8 in a request is already
# decoded by Django to U+FFFD, which is an ordinary character that simply matches nothing.
_NEVER_IN_IDENTIFIERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def is_identifier(value: object, *, max_length: int = MAX_LENGTH) -> bool:
    """True if ``value`` could be a client ID, code, username, email or checksum this provider stored.

    A lookup of anything else is answered "unknown" without a query, so each endpoint gives its
    usual error (``invalid_client``, the unknown-client page, a refused sign-in) for hostile input.
    """
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and _NEVER_IN_IDENTIFIERS.search(value) is None
    )
