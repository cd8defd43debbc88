"""Logout tokens (Back-Channel Logout 1.0 §2.4): their claims, signed with the active key."""

from __future__ import annotations

import time
import uuid

from ..conf import idp_settings
from ..keys import sign_jwt

EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token is used at once; two minutes allows for clock skew between us and the relying party.
LIFETIME = 120


def logout_token_claims(*, client_id: str, sub: str, sid: str, now: int | None = None) -> dict:
    """``iss``, ``aud``, ``iat``, ``exp``, a fresh ``jti``, the logout event, ``sub`` and ``sid`` (when the
    session has one); never a ``nonce`` (§2.4: it would let the token pass as an ID token)."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": idp_settings.ISSUER,
        "aud": client_id,
        "iat": issued,
        "exp": issued + LIFETIME,
        "jti": str(uuid.uuid4()),
        "events": {EVENT: {}},
        "sub": sub,
    }
    if sid:
        claims["sid"] = sid
    return claims


def make_logout_token(*, client_id: str, sub: str, sid: str) -> str:
    """A logout token as a compact JWS, typed ``logout+jwt`` (§2.4's recommendation, as in RFC 8725 §3.11)."""
    return sign_jwt(logout_token_claims(client_id=client_id, sub=sub, sid=sid), typ="logout+jwt")
