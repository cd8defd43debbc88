"""Private signing keys encrypted at rest: AES-256-GCM under the key-encryption key (KEK)."""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

from .conf import idp_settings
from .key_files import ensure_key_file

FORMAT = "v1."
NONCE_BYTES = 12


class KeyDecryptionError(Exception):
    """A stored private key cannot be decrypted: no KEK, a malformed KEK, or another KEK than the one
    that encrypted it."""


def generate_kek() -> str:
    """A new key-encryption key: 32 random bytes, base64url without padding (43 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def ensure_kek_file(path: Path) -> str:
    """The KEK in ``path``, generating it first (mode 0600) if it is missing: development only."""
    return ensure_key_file(path, generate=generate_kek).strip()


def parse_kek(text: str | None) -> bytes:
    """The 32 bytes of a base64url KEK; ImproperlyConfigured, naming the setting, for anything else."""
    if not text:
        raise ImproperlyConfigured(
            "No key-encryption key: set IDP_KEY_ENCRYPTION_KEY (IDP['KEY_ENCRYPTION_KEY']) to the output "
            "of `manage.py idp_keys kek`."
        )
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            "IDP['KEY_ENCRYPTION_KEY'] must be 32 random bytes in base64url (`manage.py idp_keys kek`)."
        )
    return key


def _associated_data(kid: str, alg: str) -> bytes:
    # The ciphertext is bound to its row: swapping encrypted keys between rows fails to decrypt.
    return f"idp-signing-key|{kid}|{alg}".encode()


def encrypt_private_key(pem: str, *, kid: str, alg: str) -> str:
    """``pem`` encrypted under the configured KEK, bound to ``kid`` and ``alg``."""
    aead = AESGCM(parse_kek(idp_settings.KEY_ENCRYPTION_KEY))
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = aead.encrypt(nonce, pem.encode(), _associated_data(kid, alg))
    return FORMAT + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_private_key(stored: str, *, kid: str, alg: str, kek: str | None = None) -> str:
    """The PEM that ``encrypt_private_key`` sealed; KeyDecryptionError, saying why, if it cannot be read."""
    try:
        aead = AESGCM(parse_kek(kek if kek is not None else idp_settings.KEY_ENCRYPTION_KEY))
    except ImproperlyConfigured as exc:
        raise KeyDecryptionError(str(exc)) from exc
    if not stored.startswith(FORMAT):
        raise KeyDecryptionError(f"Signing key {kid} has no stored private key.")
    try:
        raw = base64.urlsafe_b64decode(stored[len(FORMAT) :])
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(kid, alg)).decode()
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise KeyDecryptionError(
            f"Signing key {kid} cannot be decrypted with the configured key-encryption key "
            "(IDP_KEY_ENCRYPTION_KEY): it was encrypted under another one, or the row was altered."
        ) from exc


def decrypt_stored_keys() -> list[str]:
    """Why each private key stored in the database cannot be decrypted with the configured KEK."""
    from .key_models import SigningKey

    problems = []
    for kid, alg, stored in SigningKey.objects.exclude(state="revoked").values_list(
        "kid", "alg", "encrypted_private_key"
    ):
        try:
            decrypt_private_key(stored, kid=kid, alg=alg)
        except KeyDecryptionError as exc:
            problems.append(str(exc))
    return problems
