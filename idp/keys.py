"""Signing-key lifecycle: generate, load, publish (JWKS) and find by ``kid``."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk
from jwcrypto.common import base64url_encode

ALGORITHM = "RS256"
KEY_SIZE = 2048


def generate_private_key_pem(*, size: int = KEY_SIZE) -> str:
    """A new RSA private key as unencrypted PKCS#8 PEM text."""
    key = jwk.JWK.generate(kty="RSA", size=size)
    return key.export_to_pem(private_key=True, password=None).decode()


def ensure_key_file(path: Path) -> str:
    """Return the PEM in ``path``, generating it first (atomically, mode 0600) if it is missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(generate_private_key_pem())
        try:
            os.link(tmp, path)  # fails if another process won the race: keep theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text()


def _normalise_pem(text: str) -> str:
    # Environment variables often carry PEMs with literal "\n" escapes.
    return text.replace("\\n", "\n").strip() + "\n"


def load_signing_keys(
    *,
    pem: str | None,
    path: str | None,
    retired_paths: list[str],
    dev_dir: Path | None,
) -> tuple[str, list[str]]:
    """Resolve the active signing key and the retired ones, as PEM texts.

    The active key comes from ``pem`` (the key itself), else ``path`` (a file holding it), else, in
    development only, ``dev_dir/signing.pem``, generated on first run. Retired keys come from
    ``retired_paths`` and, in development, ``dev_dir/retired/*.pem``.
    """
    if pem:
        active = _normalise_pem(pem)
    elif path:
        try:
            active = Path(path).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"IDP_SIGNING_KEY_FILE {path!r} cannot be read: {exc}") from exc
    elif dev_dir is not None:
        active = ensure_key_file(dev_dir / "signing.pem")
    else:
        raise ImproperlyConfigured(
            "No signing key: set IDP_SIGNING_KEY (PEM text) or IDP_SIGNING_KEY_FILE (a path). "
            "Generate one with `python manage.py idp_keys generate --out FILE`."
        )
    retired_files = [Path(p) for p in retired_paths if p]
    if dev_dir is not None and (dev_dir / "retired").is_dir():
        retired_files += sorted((dev_dir / "retired").glob("*.pem"))
    retired = [f.read_text() for f in retired_files]
    for text in [active, *retired]:
        _load(text)  # fail at start-up, clearly, on a malformed key
    return active, retired


@functools.lru_cache(maxsize=32)
def _load(pem: str) -> jwk.JWK:
    try:
        key = jwk.JWK.from_pem(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"A configured signing key is not a valid unencrypted PEM: {exc}") from exc
    if key.get("kty") != "RSA":
        raise ImproperlyConfigured("Signing keys must be RSA keys (RS256).")
    return key


def active_key() -> jwk.JWK:
    """The private key that signs new ID tokens: ``OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY']``."""
    from oauth2_provider.settings import oauth2_settings  # not at import: project/settings.py imports us

    return _load(oauth2_settings.OIDC_RSA_PRIVATE_KEY)


def kid_of(key: jwk.JWK) -> str:
    """The key id: the RFC 7638 thumbprint, as DOT uses it."""
    return key.thumbprint()


@functools.lru_cache(maxsize=8)
def _jwks(active_pem: str, retired_pems: tuple[str, ...]) -> bytes:
    keys = []
    for pem in (active_pem, *retired_pems):
        key = _load(pem)
        public = json.loads(key.export_public())
        keys.append({**public, "kid": kid_of(key), "use": "sig", "alg": ALGORITHM})
    return json.dumps({"keys": keys}).encode()


def jwks_document() -> bytes:
    """The JSON Web Key Set with every public key, active first (then ``OIDC_RSA_PRIVATE_KEYS_INACTIVE``);
    computed once per key set."""
    from oauth2_provider.settings import oauth2_settings

    return _jwks(oauth2_settings.OIDC_RSA_PRIVATE_KEY, tuple(oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE))


@functools.lru_cache(maxsize=8)
def _by_kid(active_pem: str, retired_pems: tuple[str, ...]) -> dict[str, jwk.JWK]:
    return {kid_of(_load(pem)): _load(pem) for pem in (active_pem, *retired_pems)}


def verification_key(kid: str | None) -> jwk.JWK | None:
    """The published key with this ``kid`` (active or retired), or None."""
    from oauth2_provider.settings import oauth2_settings

    if not kid:
        return None
    return _by_kid(
        oauth2_settings.OIDC_RSA_PRIVATE_KEY, tuple(oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE)
    ).get(kid)


@functools.lru_cache(maxsize=8)
def _signer(pem: str, typ: str = "JWT") -> tuple[object, str]:
    """The active key as ``cryptography`` signs with it, and the JWS header naming it, encoded."""
    key = _load(pem)
    header = json.dumps({"typ": typ, "alg": ALGORITHM, "kid": kid_of(key)}, separators=(",", ":"))
    return key.get_op_key("sign"), base64url_encode(header.encode())


def sign_jwt(claims: dict, *, typ: str = "JWT") -> str:
    """``claims`` as a compact RS256 JWS (RFC 7515) signed with the active key, ``kid`` in its header.

    What ``jwcrypto.jwt.JWT(...).make_signed_token(key)`` produces, without rebuilding jwcrypto's
    header registries (dozens of deep copies) for every token: the key and the encoded header are
    prepared once per key. ``typ`` types the token (``logout+jwt`` for a logout token).
    """
    from oauth2_provider.settings import oauth2_settings

    private_key, header = _signer(oauth2_settings.OIDC_RSA_PRIVATE_KEY, typ)
    payload = base64url_encode(json.dumps(claims, default=str).encode())
    signing_input = f"{header}.{payload}"
    signature = private_key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64url_encode(signature)}"
