"""WebAuthn ceremonies for passkeys (py_webauthn does the verification): options, register, authenticate."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..conf import idp_settings
from ..subjects import public_subject
from .passkey_models import Passkey

SESSION_KEY = "idp_passkey_challenge"
# A challenge is good for one answer within this many seconds (the browser's own timeout is the same).
CHALLENGE_SECONDS = 300
REGISTER = "register"
SECOND_FACTOR = "second_factor"
PASSWORDLESS = "passwordless"
NAME_MAX_LENGTH = Passkey._meta.get_field("name").max_length
ID_MAX_LENGTH = Passkey._meta.get_field("credential_id").max_length
# What a stored credential id can look like: checked before it reaches a query (PostgreSQL refuses NUL).
_CREDENTIAL_ID = re.compile(r"[A-Za-z0-9_-]+")


class PasskeyRefused(Exception):
    """A ceremony answer that is not accepted; ``reason`` is a short machine word for the audit log."""

    def __init__(self, reason: str, *, user=None, passkey: Passkey | None = None):
        super().__init__(reason)
        self.reason = reason
        self.user = user
        self.passkey = passkey


@dataclass(frozen=True)
class Assertion:
    """A verified passkey sign-in: whose key, and whether the authenticator verified the person."""

    passkey: Passkey
    user_verified: bool

    @property
    def amr(self) -> list[str]:
        """RFC 8176 values: ``hwk`` (proof of a key), plus ``pin`` with user verification, else ``user``."""
        return ["hwk", "pin" if self.user_verified else "user"]


def relying_party() -> tuple[str, str]:
    """The RP ID (the issuer's host) and the one origin answers must come from: never the Host header."""
    parts = urlsplit(idp_settings.ISSUER)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def user_handle(user) -> bytes:
    """The opaque WebAuthn user id of a person: their public ``sub``, no name or address in it."""
    return public_subject(user).value.encode()


def registration_options(request, user) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()``: a discoverable passkey, excluding the person's own."""
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=idp_settings.SITE_NAME,
        user_id=user_handle(user),
        user_name=user.get_username(),
        user_display_name=(user.get_full_name() if hasattr(user, "get_full_name") else "")
        or user.get_username(),
        timeout=CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    _remember(request, purpose=REGISTER, challenge=options.challenge, user=user)
    return options_to_json_dict(options)


def register(request, user, *, credential: Any, name: str) -> Passkey:
    """Verify a ``create()`` answer to this session's registration challenge and store the passkey."""
    challenge = _take(request, purpose=REGISTER, user=user)
    name = clean_name(name)
    rp_id, origin = relying_party()
    try:
        parsed = parse_registration_credential_json(_as_object(credential))
        verified = verify_registration_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyRefused(_reason(exc), user=user) from exc
    try:
        with transaction.atomic():
            return Passkey.objects.create(
                user=user,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                name=name,
                transports=[str(getattr(t, "value", t)) for t in parsed.response.transports or []][:8],
                aaguid=verified.aaguid,
                backup_eligible=verified.credential_device_type == "multi_device",
                backed_up=verified.credential_backed_up,
                user_verified=verified.user_verified,
            )
    except IntegrityError as exc:
        raise PasskeyRefused("passkey_already_registered", user=user) from exc


def authentication_options(request, *, user=None) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()``: the person's keys as a second factor, else any passkey."""
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(user) if user is not None else [],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    purpose = SECOND_FACTOR if user is not None else PASSWORDLESS
    _remember(request, purpose=purpose, challenge=options.challenge, user=user)
    return options_to_json_dict(options)


def authenticate(request, *, credential: Any, user=None) -> Assertion:
    """Verify a ``get()`` answer: one of ``user``'s passkeys (second factor), or any person's (passwordless).

    Unknown and foreign credentials, replayed or wrong challenges, wrong origins or RP IDs and a
    signature counter that does not move forward are refused with ``PasskeyRefused``.
    """
    challenge = _take(request, purpose=SECOND_FACTOR if user is not None else PASSWORDLESS, user=user)
    try:
        parsed = parse_authentication_credential_json(_as_object(credential))
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyRefused("malformed_response", user=user) from exc
    if len(parsed.id) > ID_MAX_LENGTH or not _CREDENTIAL_ID.fullmatch(parsed.id):
        raise PasskeyRefused("malformed_response", user=user)
    passkey = Passkey.objects.select_related("user__idp_subject").filter(credential_id=parsed.id).first()
    if passkey is None:
        raise PasskeyRefused("unknown_passkey", user=user)
    if user is not None and passkey.user_id != user.pk:
        raise PasskeyRefused("foreign_passkey", user=user, passkey=passkey)
    owner = passkey.user
    if not owner.is_active:
        raise PasskeyRefused("inactive_account", user=owner, passkey=passkey)
    if parsed.response.user_handle is not None and parsed.response.user_handle != user_handle(owner):
        raise PasskeyRefused("user_handle_mismatch", user=owner, passkey=passkey)
    if user is None and parsed.response.user_handle is None:
        raise PasskeyRefused("missing_user_handle", user=owner, passkey=passkey)
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyRefused(_reason(exc), user=owner, passkey=passkey) from exc
    # Compare-and-set: two answers racing with one counter value cannot both be accepted.
    moved = Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
        sign_count=verified.new_sign_count, backed_up=verified.credential_backed_up, last_used=timezone.now()
    )
    if not moved:
        raise PasskeyRefused("sign_count_regressed", user=owner, passkey=passkey)
    passkey.sign_count = verified.new_sign_count
    return Assertion(passkey=passkey, user_verified=verified.user_verified)


def _as_object(credential: Any) -> dict:
    """The credential as the page sends it, a JSON object: a string would be parsed again by the
    library, which lets ``RecursionError`` through (a 500) on deep nesting."""
    if not isinstance(credential, dict):
        raise ValueError("the credential is not a JSON object")
    return credential


def _descriptors(user) -> list[PublicKeyCredentialDescriptor]:
    from webauthn.helpers import base64url_to_bytes

    known = {transport.value for transport in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(credential_id),
            transports=[AuthenticatorTransport(t) for t in transports if t in known] or None,
        )
        for credential_id, transports in Passkey.objects.filter(user=user).values_list(
            "credential_id", "transports"
        )
    ]


def _remember(request, *, purpose: str, challenge: bytes, user) -> None:
    request.session[SESSION_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "user": user.pk if user is not None else None,
        "expires": time.time() + CHALLENGE_SECONDS,
    }


def _take(request, *, purpose: str, user) -> bytes:
    """This session's challenge for ``purpose``, removed whatever the outcome: each is answered once."""
    from webauthn.helpers import base64url_to_bytes

    stored = request.session.pop(SESSION_KEY, None)
    if not isinstance(stored, dict) or stored.get("purpose") != purpose:
        raise PasskeyRefused("no_challenge", user=user)
    if stored.get("user") != (user.pk if user is not None else None):
        raise PasskeyRefused("no_challenge", user=user)
    if stored.get("expires", 0) < time.time():
        raise PasskeyRefused("challenge_expired", user=user)
    return base64url_to_bytes(stored["challenge"])


def clean_name(name: Any) -> str:
    """A passkey's name as typed, control characters (NUL) dropped, whitespace collapsed and cut to
    length; "Passkey" when empty."""
    name = "".join(char for char in str(name or "") if char.isspace() or unicodedata.category(char) != "Cc")
    name = " ".join(name.split())[:NAME_MAX_LENGTH]
    return name or "Passkey"


# The library's messages, mapped to the audit log's reasons (most specific first).
_REASONS = (
    ("sign count", "sign_count_regressed"),
    ("origin", "wrong_origin"),
    ("rp id", "wrong_rp_id"),
    ("challenge", "wrong_challenge"),
    ("signature", "bad_signature"),
    ("user was not present", "user_not_present"),
)


def _reason(exc: Exception) -> str:
    if not isinstance(exc, WebAuthnException):
        return "malformed_response"
    message = str(exc).lower()
    return next((reason for needle, reason in _REASONS if needle in message), "invalid_response")
