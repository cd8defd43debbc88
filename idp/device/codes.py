"""User codes people can type (RFC 8628 §6.1) and device codes, both found by checksum only."""

from __future__ import annotations

import secrets

from oauth2_provider.models import get_device_grant_model

from ..tokens import checksum

# RFC 8628 §6.1: consonants only (no vowels, so no words; no I/O look-alikes), upper case.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8  # 20^8: about 2^34.6 codes, for a few minutes and a few guesses each (§5.1)
# What people type around a code and is ignored when matching: spaces, dashes of any kind.
_IGNORED = str.maketrans("", "", " \t-\u2010\u2011\u2012\u2013\u2014\u2212")


def new_user_code() -> str:
    """A fresh user code, as it is shown: ``BCDF-GHJK``."""
    code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def new_device_code() -> str:
    """A device code: 256 random bits, URL-safe, like every token issued here."""
    return secrets.token_urlsafe(32)


def normalise_user_code(typed: str | None) -> str | None:
    """The code as stored: upper case, spaces and dashes dropped; None for what cannot be a code."""
    if not typed or len(typed) > 64:
        return None
    code = typed.translate(_IGNORED).upper()
    if len(code) != USER_CODE_LENGTH or any(char not in USER_CODE_ALPHABET for char in code):
        return None
    return code


def user_code_checksum(typed: str | None) -> str | None:
    """What ``DeviceGrant.user_code`` holds for a typed code, or None if it cannot be one."""
    code = normalise_user_code(typed)
    return checksum(code) if code is not None else None


def find_by_user_code(typed: str | None):
    """The device grant a typed user code names (with its client), or None.

    Codes are random and short-lived, so two live grants sharing a code are all but impossible; if it
    ever happens the newest wins, and the older device times out.
    """
    found_by = user_code_checksum(typed)
    if found_by is None:
        return None
    return (
        get_device_grant_model()
        .objects.select_related("application")
        .filter(user_code=found_by)
        .order_by("-pk")
        .first()
    )


def find_by_device_code(device_code: str | None):
    """The device grant of a device code (with its person), or None."""
    if not device_code or len(device_code) > 256:
        return None
    return (
        get_device_grant_model()
        .objects.select_related("user", "user__idp_subject")
        .filter(device_code=checksum(device_code))
        .first()
    )
