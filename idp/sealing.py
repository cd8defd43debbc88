"""Secrets sealed at rest: Fernet under a key derived from SECRET_KEY and a purpose (fallbacks still open)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    derived = (hashlib.sha256(f"{purpose}:{key}".encode()).digest() for key in keys)
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in derived])


def seal(text: str, *, purpose: str) -> str:
    """``text`` encrypted and authenticated under the key of ``purpose`` (e.g. ``"idp.mfa.totp"``)."""
    return _fernet(purpose).encrypt(text.encode()).decode()


def unseal(sealed: str, *, purpose: str) -> str | None:
    """The text of ``seal``, or None when no current or fallback key of ``purpose`` opens it."""
    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError, TypeError, AttributeError):
        return None
