"""Signing keys: generate, load from the environment, publish (JWKS), find by ``kid``, sign."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk
from jwcrypto.common import base64url_encode

from .key_files import ensure_key_file
from .key_set import SigningKeyUnavailable, current_key_set
from .key_set import load_pem as _load

__all__ = ["SigningKeyUnavailable"]

ALGORITHM = "RS256"
KEY_SIZE = 2048


def generate_private_key_pem(*, size: int = KEY_SIZE, alg: str = ALGORITHM) -> str:
    """A new private key as unencrypted PKCS#8 PEM text: RSA (``size`` bits) for RS256, P-256 for ES256."""
    if alg == "ES256":
        key = jwk.JWK.generate(kty="EC", crv="P-256")
    else:
        key = jwk.JWK.generate(kty="RSA", size=size)
    return key.export_to_pem(private_key=True, password=None).decode()


def _normalise_pem(text: str) -> str:
    # Environment variables often carry PEMs with literal "\n" escapes.
    return text.replace("\\n", "\n").strip() + "\n"


def load_signing_keys(
    *,
    pem: str | None,
    path: str | None,
    retired_paths: list[str],
    dev_dir: Path | None,
    required: bool = True,
) -> tuple[str, list[str]]:
    """Resolve the active signing key and the retired ones, as PEM texts.

    The active key comes from ``pem`` (the key itself), else ``path`` (a file holding it), else, in
    development only, ``dev_dir/signing.pem``, generated on first run. Retired keys come from
    ``retired_paths`` and, in development, ``dev_dir/retired/*.pem``. With ``required=False`` (keys
    kept in the database under a key-encryption key) no active key is an empty string.
    """
    if pem:
        active = _normalise_pem(pem)
    elif path:
        try:
            active = Path(path).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"IDP_SIGNING_KEY_FILE {path!r} cannot be read: {exc}") from exc
    elif dev_dir is not None:
        active = ensure_key_file(dev_dir / "signing.pem", generate=generate_private_key_pem)
    elif not required:
        active = ""  # the keys are kept in the database (idp.key_rotation)
    else:
        raise ImproperlyConfigured(
            "No signing key: set IDP_SIGNING_KEY (PEM text) or IDP_SIGNING_KEY_FILE (a path), generated "
            "with `python manage.py idp_keys generate --out FILE`; or IDP_KEY_ENCRYPTION_KEY (from "
            "`idp_keys kek`) to keep keys in the database, then run `idp_keys rotate`."
        )
    retired_files = [Path(p) for p in retired_paths if p]
    if dev_dir is not None and (dev_dir / "retired").is_dir():
        retired_files += sorted((dev_dir / "retired").glob("*.pem"))
    retired = [f.read_text() for f in retired_files]
    for text in [active, *retired] if active else retired:
        _load(text)  # fail at start-up, clearly, on a malformed key
    return active, retired


def active_key(alg: str = ALGORITHM) -> jwk.JWK:
    """The private key that signs new ID tokens with ``alg``; SigningKeyUnavailable if there is none.

    A key kept in the database (``manage.py idp_keys rotate``) when one is active, else, for RS256,
    ``OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY']``.
    """
    signer = current_key_set().signers.get(alg)
    if signer is None:
        raise SigningKeyUnavailable(_unavailable(alg))
    return signer.jwk


def _unavailable(alg: str) -> str:
    problems = " ".join(current_key_set().problems)
    return f"No usable active {alg} signing key. {problems}".strip()


def kid_of(key: jwk.JWK) -> str:
    """The key id: the RFC 7638 thumbprint, as DOT uses it."""
    return key.thumbprint()


def signing_algorithms() -> tuple[str, ...]:
    """The ID token algorithms with an active key (RS256 first), advertised in discovery."""
    return current_key_set().algorithms


def jwks_document() -> bytes:
    """The JSON Web Key Set: the active keys first, then the next and retired ones (stored and
    configured); computed once per key change."""
    return current_key_set().jwks


def verification_key(kid: str | None) -> jwk.JWK | None:
    """The published public key with this ``kid`` (active, next or retired; its ``alg`` set), or None.

    ``kid`` comes from an unverified JOSE header: anything that is not a string finds no key."""
    if not isinstance(kid, str) or not kid:
        return None
    return current_key_set().public.get(kid)


def sign_jwt(claims: dict, *, alg: str = ALGORITHM, typ: str = "JWT") -> str:
    """``claims`` as a compact JWS (RFC 7515) signed with the active ``alg`` key, ``kid`` in its header.

    What ``jwcrypto.jwt.JWT(...).make_signed_token(key)`` produces, without rebuilding jwcrypto's
    header registries (dozens of deep copies) for every token: the key and the encoded header are
    prepared once per key. ``typ`` types the token (``logout+jwt`` for a logout token).
    SigningKeyUnavailable if no key of ``alg`` is active and usable.
    """
    signer = current_key_set().signers.get(alg)
    if signer is None:
        raise SigningKeyUnavailable(_unavailable(alg))
    header = signer.header
    if typ != "JWT":
        typed = {"typ": typ, "alg": signer.alg, "kid": signer.kid}
        header = base64url_encode(json.dumps(typed, separators=(",", ":")).encode())
    payload = base64url_encode(json.dumps(claims, default=str).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    if alg == "ES256":
        r, s = decode_dss_signature(signer.private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # RFC 7518 §3.4: R || S, not DER
    else:
        signature = signer.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode('ascii')}.{base64url_encode(signature)}"
