"""One-time recovery codes: 80 random bits each, shown once, stored as SHA-256, each usable once."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from .models import RecoveryCode

COUNT = 10
# Crockford's base32 alphabet: no I, L, O, U to misread. 16 characters = 80 bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16


def digest(code: str) -> str:
    """The stored form of a code: SHA-256 of its canonical spelling (a guess costs an online attempt)."""
    canonical = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(f"idp.mfa.recovery:{canonical}".encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def replace_codes(user) -> list[str]:
    """A fresh set of codes for ``user`` (the old ones stop working), in clear: to show once."""
    codes = [_new_code() for _ in range(COUNT)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create([RecoveryCode(user=user, digest=digest(code)) for code in codes])
    return codes


def use_code(user, code: str) -> bool:
    """Whether ``code`` is an unused recovery code of ``user``; if so it is used up (one UPDATE)."""
    if not isinstance(code, str) or not 8 <= len(code) <= 64:
        return False
    used = RecoveryCode.objects.filter(user=user, digest=digest(code), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return used == 1


def remaining(user) -> int:
    """How many unused recovery codes ``user`` has."""
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
