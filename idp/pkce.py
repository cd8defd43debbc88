"""PKCE policy (RFC 7636, OAuth 2.1 §7.5.1): S256 always, or a nonce for clients the operator allowed."""

from __future__ import annotations

import re
from collections.abc import Iterable

# RFC 7636 §4.1 and §4.2: a code_verifier, and an S256 code_challenge, are 43 to 128 unreserved characters.
_UNRESERVED_43_TO_128 = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def pkce_required(client) -> bool:
    """Always, except for a confidential client the operator allowed to send a nonce instead."""
    return not (
        client is not None
        and client.allow_nonce_instead_of_pkce
        and client.client_type == client.CLIENT_CONFIDENTIAL
    )


def pkce_problem(
    client,
    *,
    code_challenge: str | None,
    code_challenge_method: str | None,
    nonce: str | None,
    scopes: Iterable[str],
) -> str | None:
    """What is wrong with an authorization request's PKCE, or None.

    The authorization endpoint asks when the request arrives, the validator again when its code is
    saved. Without a ``code_challenge``, a client that need not use PKCE protects its code with the
    nonce of an OpenID request instead.
    """
    if not code_challenge and not pkce_required(client) and nonce and "openid" in scopes:
        return None
    if code_challenge_method != "S256":
        return "PKCE is required, with code_challenge_method=S256 (plain is not accepted)."
    if not _UNRESERVED_43_TO_128.fullmatch(code_challenge or ""):
        return "code_challenge must be 43-128 unreserved characters."
    return None


def code_verifier_problem(code_verifier) -> str | None:
    """What is wrong with a token request's ``code_verifier`` itself, or None (also when there is none)."""
    if code_verifier is None:
        return None
    if isinstance(code_verifier, str) and _UNRESERVED_43_TO_128.fullmatch(code_verifier):
        return None
    return "code_verifier must be 43 to 128 characters: letters, digits, '-', '.', '_', '~'."


def downgrade_problem(code_challenge: str, *, code_verifier) -> str | None:
    """A verifier for a code issued without a challenge, which oauthlib ignores (RFC 9700 §4.8.2: downgrade).

    A code issued with a challenge needs its verifier: oauthlib checks that one against the challenge.
    """
    if not code_challenge and code_verifier is not None:
        return "code_verifier sent for a code issued without a code_challenge."
    return None
