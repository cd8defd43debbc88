"""A password hasher for client secrets: one salted SHA-256, since the secrets are long and random."""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _


class ClientSecretHasher(BasePasswordHasher):
    """HMAC-SHA256 keyed by a per-secret salt.

    A password KDF exists to slow down guessing of low-entropy human passwords. Client secrets are
    generated with 128 random characters (or at least 32 bytes of entropy), which no amount of
    guessing reaches, so a KDF would only cost ~0.2 s of CPU on every token request.
    """

    algorithm = "idp_client_secret"

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).digest()
        return f"{self.algorithm}${salt}${base64.b64encode(digest).decode('ascii')}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, hash_ = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": hash_, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
