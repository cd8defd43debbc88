"""Secrets sealed at rest under SECRET_KEY, one key per purpose; the TOTP secrets of before still open."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet

from idp import sealing
from idp.mfa import totp


def test_sealed_text_opens_only_under_its_own_purpose():
    sealed = sealing.seal("the secret", purpose="one")
    assert "the secret" not in sealed
    assert sealing.unseal(sealed, purpose="one") == "the secret"
    assert sealing.unseal(sealed, purpose="two") is None
    assert sealing.unseal("not a token", purpose="one") is None


def test_totp_secrets_sealed_before_the_shared_module_still_open(settings):
    # What idp.mfa.totp.seal wrote before idp.sealing existed.
    key = base64.urlsafe_b64encode(hashlib.sha256(f"idp.mfa.totp:{settings.SECRET_KEY}".encode()).digest())
    old = Fernet(key).encrypt(b"JBSWY3DPEHPK3PXP").decode()
    assert totp.unseal(old) == "JBSWY3DPEHPK3PXP"


def test_a_fallback_key_opens_and_the_current_one_seals(settings):
    sealed = sealing.seal("x", purpose="p")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "y" * 40
    assert sealing.unseal(sealed, purpose="p") == "x"
    resealed = sealing.seal("x", purpose="p")
    settings.SECRET_KEY_FALLBACKS = []
    assert sealing.unseal(resealed, purpose="p") == "x" and sealing.unseal(sealed, purpose="p") is None
