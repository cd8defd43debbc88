"""This process's signing and published keys, rebuilt only after a key change any process announces."""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from jwcrypto import jwk
from jwcrypto.common import base64url_encode

from .key_storage import KeyDecryptionError, decrypt_private_key

logger = logging.getLogger(__name__)

# RS256 first: OpenID Connect requires it, and it is every client's default.
ALGORITHMS = ("RS256", "ES256")
# How often a process asks the shared cache whether the keys changed, in seconds.
CHECK_INTERVAL = 1.0
# The version stamp a key change sets in the shared cache (any value: it only has to differ).
VERSION_KEY = "idp:signing-keys:version"
# The database is read again at least this often, in seconds, whatever the version stamp says: without
# a reachable cache, with a cache each process keeps for itself (LocMem: ``make serve`` without
# REDIS_URL), or after an announcement the cache lost.
RELOAD_WITHOUT_CACHE = 30.0
# Where stored keys appear in JWKS: the signing keys first.
STATE_ORDER = {"active": 0, "next": 1, "retired": 2, "revoked": 3}


class SigningKeyUnavailable(ImproperlyConfigured):
    """No usable active key for an algorithm: none exists, or it cannot be decrypted."""


class StoredKey(NamedTuple):
    kid: str
    alg: str
    state: str
    public_jwk: str  # JSON text
    encrypted_private_key: str


class Signer(NamedTuple):
    kid: str
    alg: str
    jwk: jwk.JWK  # the private key, as jwcrypto holds it
    private_key: object  # the same, as ``cryptography`` signs with it
    header: str  # the JWS protected header, base64url-encoded


@dataclass(frozen=True)
class KeySet:
    """The active key of each algorithm, every published public key by ``kid``, and the JWKS bytes."""

    signers: dict[str, Signer]
    public: dict[str, jwk.JWK]
    jwks: bytes
    problems: tuple[str, ...]
    algorithms: tuple[str, ...]  # those an ID token can be signed with now: with an active key


class _Seen(NamedTuple):
    version: str | None
    stored: tuple[StoredKey, ...] | None
    checked: float  # time.monotonic() of the last look at the version stamp
    loaded: float  # ... of the last database read


_seen = _Seen(None, None, 0.0, 0.0)
# The stored keys the last key set was built from, and that key set: reused while they are the same
# object (settings are read only to build; a change to them forgets it, see ``forget_built``).
_built: tuple[tuple[StoredKey, ...], KeySet] | None = None


@functools.lru_cache(maxsize=32)
def load_pem(pem: str) -> jwk.JWK:
    """A configured (environment or file) RSA private key; ImproperlyConfigured if it is not one."""
    try:
        key = jwk.JWK.from_pem(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"A configured signing key is not a valid unencrypted PEM: {exc}") from exc
    if key.get("kty") != "RSA":
        raise ImproperlyConfigured("Signing keys configured in the environment must be RSA keys (RS256).")
    return key


def public_jwk(key: jwk.JWK, *, alg: str) -> dict:
    """The published form of ``key``: its public parameters, ``kid`` (RFC 7638 thumbprint), use, alg."""
    return {**json.loads(key.export_public()), "kid": key.thumbprint(), "use": "sig", "alg": alg}


def _read_stored() -> tuple[StoredKey, ...]:
    from .key_models import SigningKey

    rows = SigningKey.objects.values_list("kid", "alg", "state", "public_jwk", "encrypted_private_key")
    stored = [StoredKey(kid, alg, state, json.dumps(public), enc) for kid, alg, state, public, enc in rows]
    return tuple(sorted(stored, key=lambda key: (STATE_ORDER.get(key.state, 9), key.kid)))


def _version() -> str | None:
    try:
        version = cache.get(VERSION_KEY)
        if version is None:  # a fresh or flushed cache: the first process to ask sets one
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
        return version
    except Exception:  # the cache is down: fall back to reading the database now and then
        logger.warning("The cache is unreachable: signing keys are re-read every %ss", RELOAD_WITHOUT_CACHE)
        return None


def stored_keys() -> tuple[StoredKey, ...]:
    """The keys in the database as this process last read them: read again when the version stamp in
    the shared cache changed (looked at no more than once every ``CHECK_INTERVAL`` seconds), and at
    least every ``RELOAD_WITHOUT_CACHE`` seconds in any case."""
    global _seen
    seen, now = _seen, time.monotonic()
    if seen.stored is not None and now - seen.checked < CHECK_INTERVAL:
        return seen.stored
    version = _version()
    stale = seen.stored is None or version != seen.version
    if now - seen.loaded >= RELOAD_WITHOUT_CACHE:  # a stamp this process cannot see change
        stale = True
    if not stale:
        _seen = seen._replace(checked=now)
        return seen.stored
    try:
        stored = _read_stored()
    except DatabaseError:  # not migrated yet, or the database is away: keep what we had, retry soon
        if seen.stored is None:
            return ()
        _seen = seen._replace(checked=now)
        return seen.stored
    if stored == seen.stored:  # unchanged: keep the object the built key set is keyed on
        stored = seen.stored
    _seen = _Seen(version, stored, now, now)
    return stored


def forget_keys() -> None:
    """This process reads the keys again at its next use."""
    global _seen, _built
    _seen, _built = _Seen(None, None, 0.0, 0.0), None


def forget_built(*, setting: str, **kwargs) -> None:
    """``setting_changed`` receiver: the key set is built again after the settings it reads change."""
    global _built
    if setting in {"OAUTH2_PROVIDER", "IDP"}:
        _built = None


def announce_key_change() -> None:
    """After the current transaction commits: a new version stamp, so that every process reads the
    keys again within ``CHECK_INTERVAL`` seconds, and this one at once."""

    def announce() -> None:
        try:
            cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        except Exception:
            logger.error("The cache is unreachable: other processes see the key change within %ss",
                         RELOAD_WITHOUT_CACHE)  # fmt: skip
        forget_keys()

    forget_keys()  # this process, at once (a rolled-back change is simply read again)
    transaction.on_commit(announce)


def _signer(private: jwk.JWK, *, kid: str, alg: str) -> Signer:
    header = json.dumps({"typ": "JWT", "alg": alg, "kid": kid}, separators=(",", ":"))
    return Signer(kid, alg, private, private.get_op_key("sign"), base64url_encode(header.encode()))


@functools.lru_cache(maxsize=8)
def build_key_set(
    stored: tuple[StoredKey, ...], active_pem: str, retired_pems: tuple[str, ...], kek: str
) -> KeySet:
    """The key set from the stored keys and the configured PEMs (``OIDC_RSA_PRIVATE_KEY`` and
    ``OIDC_RSA_PRIVATE_KEYS_INACTIVE``), computed once per combination.

    A stored active key signs for its algorithm; the configured active key signs RS256 only while no
    stored RS256 key is active. Every key is published but revoked ones, configured ones included.
    """
    revoked = {key.kid for key in stored if key.state == "revoked"}
    signers: dict[str, Signer | None] = {}
    problems: list[str] = []
    published: dict[str, dict] = {}
    for key in stored:
        if key.state == "revoked":
            continue
        if key.state == "active" and key.alg not in signers:
            try:
                pem = decrypt_private_key(key.encrypted_private_key, kid=key.kid, alg=key.alg, kek=kek)
                signers[key.alg] = _signer(jwk.JWK.from_pem(pem.encode()), kid=key.kid, alg=key.alg)
            except (KeyDecryptionError, ValueError, TypeError) as exc:
                problems.append(str(exc))
                logger.error("Active signing key unusable: %s", exc)
                signers[key.alg] = None  # stays unusable: never silently replaced by another key
        published[key.kid] = json.loads(key.public_jwk)
    for position, pem in enumerate((active_pem, *retired_pems)):
        if not pem:
            continue
        private = load_pem(pem)
        kid = private.thumbprint()
        if kid in revoked:
            continue
        if position == 0 and "RS256" not in signers:
            signers["RS256"] = _signer(private, kid=kid, alg="RS256")
        published.setdefault(kid, public_jwk(private, alg="RS256"))
    usable = {alg: signer for alg, signer in signers.items() if signer is not None}
    order = [usable[alg].kid for alg in ALGORITHMS if alg in usable]  # RS256's signer first
    keys = [published[kid] for kid in order] + [jwk_ for kid, jwk_ in published.items() if kid not in order]
    return KeySet(
        signers=usable,
        public={entry["kid"]: jwk.JWK(**entry) for entry in keys},
        jwks=json.dumps({"keys": keys}).encode(),
        problems=tuple(problems),
        algorithms=tuple(alg for alg in ALGORITHMS if alg in usable),
    )


def current_key_set() -> KeySet:
    """The key set this process uses now: a comparison or two per call between key changes."""
    global _built
    stored, built = stored_keys(), _built
    if built is not None and built[0] is stored:
        return built[1]
    from oauth2_provider.settings import oauth2_settings  # not at import: project/settings.py imports us

    from .conf import idp_settings

    key_set = build_key_set(
        stored,
        oauth2_settings.OIDC_RSA_PRIVATE_KEY or "",
        tuple(oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE or ()),
        idp_settings.KEY_ENCRYPTION_KEY or "",
    )
    _built = (stored, key_set)
    return key_set
