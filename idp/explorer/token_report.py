"""A token explained: a JWT decoded, its signature verified against a JWKS, its claims checked and glossed."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import JWException, base64url_decode, base64url_encode

from .meanings import CLAIMS

# RFC 7515 §7.1: three base64url segments (see idp.id_tokens: jwcrypto's decoding is lenient).
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# The hash of a signature algorithm, as at_hash uses it (OIDC Core 3.1.3.6; EdDSA: SHA-512, Ed25519).
HASH_OF_ALG = {
    **dict.fromkeys(("RS256", "PS256", "ES256", "HS256"), hashlib.sha256),
    **dict.fromkeys(("RS384", "PS384", "ES384", "HS384"), hashlib.sha384),
    **dict.fromkeys(("RS512", "PS512", "ES512", "HS512", "EdDSA"), hashlib.sha512),
}
# Public-key signatures only: ``none`` and the HMAC algorithms (a shared secret) are never accepted.
SIGNATURE_ALGS = frozenset(HASH_OF_ALG) - {"HS256", "HS384", "HS512"}
TIME_CLAIMS = frozenset({"exp", "iat", "nbf", "auth_time", "updated_at"})
CLOCK_SKEW_SECONDS = 60
JWT = "A JSON Web Token: a header and claims anyone can read, and a signature proving who wrote them."
OPAQUE = (
    "An opaque token: a random string that means nothing outside this server. Only the server can say "
    "what it stands for: ask its introspection endpoint (RFC 7662)."
)


@dataclass(frozen=True)
class Check:
    """One check of a token: its name (``signature``, ``iss``, ``at_hash``...), passed or not, and why."""

    name: str
    ok: bool
    sentence: str


@dataclass(frozen=True)
class Claim:
    """A claim as shown: its name, its value as text (times with their date), and a one-line meaning."""

    name: str
    value: str
    meaning: str


@dataclass(frozen=True)
class TokenReport:
    """What a token is (``jwt``, ``opaque`` or ``malformed``), and for a JWT its header, claims and checks."""

    kind: str
    summary: str
    header: dict[str, Any]
    claims: tuple[Claim, ...] = ()
    kid: str = ""
    alg: str = ""
    checks: tuple[Check, ...] = ()

    @property
    def verified(self) -> bool:
        """Whether the signature verified against the JWKS."""
        return any(check.name == "signature" and check.ok for check in self.checks)

    @property
    def ok(self) -> bool:
        """Whether every check passed (False for a token with no checks)."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    def check(self, name: str) -> Check | None:
        """The check called ``name``, if it was made."""
        return next((check for check in self.checks if check.name == name), None)


def explain_jwt(
    token: str,
    *,
    jwks: dict,
    issuer: str,
    client_id: str,
    nonce: str | None = None,
    access_token: str | None = None,
    now: datetime | None = None,
) -> TokenReport:
    """``token`` explained for the client ``client_id`` of ``issuer``: a JWT's signature verified with
    ``jwks``, then ``iss``, ``aud``, ``azp``, ``exp``, ``iat``, ``nonce`` (when the run sent one) and
    ``at_hash`` (when the access token issued with it is given) checked; an opaque token said to be one."""
    if not isinstance(token, str) or "." not in token:
        return TokenReport(kind="opaque", summary=OPAQUE, header={})
    decoded = _decoded(token)
    if isinstance(decoded, str):
        return TokenReport(kind="malformed", summary=decoded, header={})
    header, claims = decoded
    moment = now or datetime.now(tz=UTC)
    alg, kid = header.get("alg"), header.get("kid")
    checks = (
        _signature(token, alg=alg, kid=kid, jwks=jwks),
        _equal("iss", claims.get("iss"), issuer, what="the issuer this app trusts"),
        *_audience(claims, client_id),
        _expiry(claims.get("exp"), moment),
        _issued_at(claims.get("iat"), moment),
        *([_equal("nonce", claims.get("nonce"), nonce, what="the nonce the app sent")] if nonce else []),
        *([_at_hash(claims.get("at_hash"), access_token, alg=alg)] if access_token else []),
    )
    return TokenReport(
        kind="jwt",
        summary=JWT,
        header=header,
        claims=tuple(_claim(name, value) for name, value in claims.items()),
        kid=kid if isinstance(kid, str) else "",
        alg=alg if isinstance(alg, str) else "",
        checks=checks,
    )


def at_hash(access_token: str, *, alg: str) -> str:
    """OIDC Core 3.1.3.6: the base64url of the left half of the hash (``alg``'s) of the access token."""
    digest = HASH_OF_ALG[alg](access_token.encode("ascii")).digest()
    return base64url_encode(digest[: len(digest) // 2])


def _decoded(token: str) -> tuple[dict, dict] | str:
    """The header and claims of a compact JWS, or what is wrong with it."""
    if not COMPACT_JWS.fullmatch(token):
        return "Not a JSON Web Token: a JWT is three base64url segments separated by dots."
    segments = token.split(".")
    try:
        if any(base64url_encode(base64url_decode(segment)) != segment for segment in segments):
            return "Not a JSON Web Token: a segment is not canonical base64url."
        header, claims = (json.loads(base64url_decode(segment)) for segment in segments[:2])
    except ValueError:
        return "Not a JSON Web Token: its header or claims are not JSON."
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return "Not a JSON Web Token: its header and claims must be JSON objects."
    return header, claims


def _signature(token: str, *, alg: Any, kid: Any, jwks: dict) -> Check:
    if alg not in SIGNATURE_ALGS:
        return Check("signature", False, f"alg {alg!r} is not a public-key signature algorithm: refused.")
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return Check("signature", False, "No JWKS to verify the signature with: the run has not fetched it.")
    try:
        key_set = jwk.JWKSet()
        key_set.import_keyset(json.dumps(jwks))
    except (JWException, TypeError, ValueError):
        return Check("signature", False, "The JWKS could not be read, so the signature cannot be verified.")
    if isinstance(kid, str):
        key = key_set.get_key(kid)
        if key is None:
            return Check(
                "signature",
                False,
                f"No key in the JWKS has kid {kid}: the keys may have been rotated (fetch the JWKS again), "
                "or another server signed the token.",
            )
        candidates = [key]
    else:
        candidates = list(key_set)
    for key in candidates:
        key_alg = key.get("alg")
        if key_alg and key_alg != alg:
            if isinstance(kid, str):
                return Check(
                    "signature", False, f"Key {kid} is for {key_alg}, but the token says {alg}: refused."
                )
            continue
        try:
            verifier = jws.JWS()
            verifier.deserialize(token)
            verifier.verify(key, alg=alg)
        except (JWException, ValueError, TypeError):
            continue
        return Check(
            "signature",
            True,
            f"The {alg} signature verifies with the JWKS's public key {key.get('kid') or '(no kid)'}: "
            "the server signed exactly these claims.",
        )
    return Check(
        "signature",
        False,
        f"The {alg} signature does not verify: the token was changed after it was signed, or another key "
        "signed it.",
    )


def _equal(name: str, value: Any, expected: str, *, what: str) -> Check:
    if value == expected:
        return Check(name, True, f"{name} is {expected}, {what}.")
    if value is None:
        return Check(name, False, f"The token has no {name}; expected {expected}, {what}.")
    return Check(name, False, f"{name} is {json.dumps(value)}, not {expected}, {what}.")


def _audience(claims: dict, client_id: str) -> tuple[Check, Check]:
    aud, azp = claims.get("aud"), claims.get("azp")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id in audiences:
        aud_check = Check("aud", True, f"aud names this app, {client_id}.")
    else:
        aud_check = Check(
            "aud", False, f"aud is {json.dumps(aud)}: the token is not for {client_id}; refuse it."
        )
    if azp is None:
        if len(audiences) > 1:
            return aud_check, Check("azp", False, "Several audiences and no azp: which app is it for?")
        return aud_check, Check("azp", True, "No azp: with a single audience none is needed.")
    if azp == client_id:
        return aud_check, Check("azp", True, f"azp is {client_id}, the app the token was issued to.")
    return aud_check, Check(
        "azp", False, f"azp is {json.dumps(azp)}, not {client_id}: issued to another app."
    )


def _expiry(exp: Any, now: datetime) -> Check:
    if not _is_time(exp):
        return Check("exp", False, "The token has no valid exp: it must say when it expires.")
    delta = exp - now.timestamp()
    if delta > 0:
        return Check("exp", True, f"Valid until {_date(exp)}, {_duration(delta)} from now.")
    return Check("exp", False, f"Expired at {_date(exp)}, {_duration(-delta)} ago: refuse it.")


def _issued_at(iat: Any, now: datetime) -> Check:
    if not _is_time(iat):
        return Check("iat", False, "The token has no valid iat: it must say when it was issued.")
    delta = now.timestamp() - iat
    if delta >= -CLOCK_SKEW_SECONDS:
        return Check("iat", True, f"Issued at {_date(iat)}, {_duration(max(delta, 0))} ago.")
    return Check("iat", False, f"Issued at {_date(iat)}, in the future: the clocks disagree.")


def _at_hash(value: Any, access_token: str, *, alg: Any) -> Check:
    if value is None:
        return Check("at_hash", True, "No at_hash: optional in the code flow (OIDC Core 3.1.3.6).")
    if alg not in HASH_OF_ALG:
        return Check("at_hash", False, f"at_hash cannot be checked for alg {alg!r}.")
    expected = at_hash(access_token, alg=alg)
    if value == expected:
        return Check(
            "at_hash",
            True,
            f"at_hash matches the access token issued with it ({alg}: left half of the hash).",
        )
    return Check(
        "at_hash", False, f"at_hash is {json.dumps(value)}, but the access token hashes to {expected}."
    )


def _claim(name: str, value: Any) -> Claim:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if name in TIME_CLAIMS and _is_time(value):
        text = f"{text} ({_date(value)})"
    return Claim(name, text, CLAIMS.get(name, "Not a standard claim."))


def _is_time(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 253402300800


def _date(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = int(seconds)
    return f"{count} second{'s' if count != 1 else ''}"
