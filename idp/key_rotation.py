"""Signing key rotation: next -> active -> retired -> removed, on schedule; emergency replacement."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings

from .audit import Event, record
from .conf import idp_settings
from .key_models import SigningKey
from .key_set import announce_key_change, current_key_set, public_jwk
from .key_storage import KeyDecryptionError, decrypt_private_key, encrypt_private_key, parse_kek
from .keys import generate_private_key_pem

State = SigningKey.State
logger = logging.getLogger(__name__)


@dataclass
class Change:
    """One state change of one key, as `idp_keys advance` reports it."""

    kid: str
    alg: str
    change: str  # activated, retired or removed; "not activated: why" for a key that cannot sign


def prepublication_period() -> timedelta:
    """How long a new key is published before it signs: the JWKS cache lifetime relying parties are
    told (``OIDC_JWKS_MAX_AGE_SECONDS``), plus ``IDP['KEY_ROTATION_MARGIN']``."""
    return timedelta(seconds=oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS + idp_settings.KEY_ROTATION_MARGIN)


def retention_period() -> timedelta:
    """How long a retired key stays published: the longest-lived JWT it signed (an ID token; logout
    tokens live minutes), plus ``IDP['KEY_ROTATION_MARGIN']`` for clock skew."""
    return timedelta(seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS + idp_settings.KEY_ROTATION_MARGIN)


def _new_key(alg: str, *, state: str, now: datetime, activates_at: datetime | None) -> SigningKey:
    parse_kek(idp_settings.KEY_ENCRYPTION_KEY)  # no KEK: ImproperlyConfigured, before any key is made
    pem = generate_private_key_pem(alg=alg)
    private = jwk.JWK.from_pem(pem.encode())
    kid = private.thumbprint()
    return SigningKey.objects.create(
        kid=kid,
        alg=alg,
        state=state,
        created=now,
        activates_at=activates_at,
        public_jwk=public_jwk(private, alg=alg),
        encrypted_private_key=encrypt_private_key(pem, kid=kid, alg=alg),
    )


def _signing_kid(alg: str) -> str | None:
    """The kid signing ``alg`` now, stored or configured (None: nothing signs it)."""
    signer = current_key_set().signers.get(alg)
    return signer.kid if signer else None


@transaction.atomic
def rotate_key(*, alg: str = "RS256", actor=None, request=None, now: datetime | None = None) -> SigningKey:
    """Create the next key of ``alg``: published at once, signing after ``prepublication_period()``
    (`advance_keys` makes it active). With no key of ``alg`` signing yet, it is active at once: no
    relying party can hold a token of that algorithm. ValidationError if a next key already waits."""
    if alg not in SigningKey.Algorithm.values:
        raise ValidationError(f"Unknown algorithm {alg!r}: choose one of {', '.join(SigningKey.Algorithm)}.")
    now = now or timezone.now()
    waiting = SigningKey.objects.select_for_update().filter(alg=alg, state=State.NEXT).first()
    if waiting is not None:
        raise ValidationError(
            f"A next {alg} key ({waiting.kid}) is already published; it signs from "
            f"{waiting.activates_at:%Y-%m-%d %H:%M:%S} UTC. Run `idp_keys advance` then, or rotate with "
            "--emergency."
        )
    if _signing_kid(alg) is None and not SigningKey.objects.filter(alg=alg, state=State.ACTIVE).exists():
        key = _new_key(alg, state=State.ACTIVE, now=now, activates_at=now)
        record(Event.KEY_ACTIVATED, actor=actor, request=request, kid=key.kid, alg=alg, replaced=None)
    else:
        activates_at = now + prepublication_period()
        key = _new_key(alg, state=State.NEXT, now=now, activates_at=activates_at)
        SigningKey.objects.filter(alg=alg, state=State.ACTIVE).update(retires_at=activates_at)
        record(
            Event.KEY_SCHEDULED, actor=actor, request=request, kid=key.kid, alg=alg,
            activates_at=activates_at.isoformat(),
        )  # fmt: skip
    announce_key_change()
    return key


def _retire(key: SigningKey, *, now: datetime, actor=None, request=None) -> None:
    key.state, key.retires_at, key.removes_at = State.RETIRED, now, now + retention_period()
    key.save(update_fields=["state", "retires_at", "removes_at"])
    record(Event.KEY_RETIRED, actor=actor, request=request, kid=key.kid, alg=key.alg,
           removes_at=key.removes_at.isoformat())  # fmt: skip


@transaction.atomic
def advance_keys(*, now: datetime | None = None) -> list[Change]:
    """The scheduled step (`manage.py idp_keys advance`, with the hourly cleanup): next keys whose
    time has come become active and the keys they replace retired (not a key the configured KEK
    cannot decrypt: the replaced one keeps signing); retired keys whose every token has expired are
    removed. Returns the changes, each recorded in the audit log."""
    now = now or timezone.now()
    changes = []
    keys = list(SigningKey.objects.select_for_update().exclude(state=State.REVOKED).order_by("created"))
    for key in keys:
        if key.state != State.NEXT or key.activates_at > now:
            continue
        try:  # stored under another KEK (rotated from a misconfigured shell): signing would stop
            decrypt_private_key(key.encrypted_private_key, kid=key.kid, alg=key.alg)
        except KeyDecryptionError as exc:
            logger.error("Signing key %s not activated: %s", key.kid, exc)
            changes.append(Change(key.kid, key.alg, f"not activated: {exc}"))
            continue
        for old in keys:
            if old.alg == key.alg and old.state == State.ACTIVE:
                _retire(old, now=now)
                changes.append(Change(old.kid, old.alg, "retired"))
        replaced = _signing_kid(key.alg)
        key.state = State.ACTIVE
        key.save(update_fields=["state"])
        record(Event.KEY_ACTIVATED, kid=key.kid, alg=key.alg, replaced=replaced)
        changes.append(Change(key.kid, key.alg, "activated"))
    for key in keys:
        if key.state == State.RETIRED and key.removes_at is not None and key.removes_at <= now:
            key.delete()
            record(Event.KEY_REMOVED, kid=key.kid, alg=key.alg)
            changes.append(Change(key.kid, key.alg, "removed"))
    if any(not change.change.startswith("not ") for change in changes):
        announce_key_change()
    return changes


@transaction.atomic
def emergency_rotate(
    *, alg: str = "RS256", actor=None, request=None, now: datetime | None = None
) -> SigningKey:
    """A compromised key: a new key of ``alg`` signs at once and the one that signed is withdrawn from
    JWKS at once (its private key erased; a configured one is hidden by a ``revoked`` row), and so is
    a ``next`` key of ``alg`` waiting to sign: made before the compromise, it is as exposed, and it
    would replace the new key on schedule. It has signed nothing, so withdrawing it breaks nothing.

    What breaks, deliberately: every unexpired ID token the old key signed stops verifying (and stops
    working as an ``id_token_hint``), and a relying party that cached JWKS fails to verify the new
    key's tokens until it fetches JWKS again (most refetch on an unknown ``kid``).
    """
    now = now or timezone.now()
    old_kid = _signing_kid(alg)
    for old in SigningKey.objects.select_for_update().filter(alg=alg, state__in=[State.ACTIVE, State.NEXT]):
        waiting = old.state == State.NEXT  # exposed alike, and `advance` would make it sign
        old.state, old.retires_at, old.encrypted_private_key = State.REVOKED, now, ""
        old.save(update_fields=["state", "retires_at", "encrypted_private_key"])
        if waiting:
            record(Event.KEY_REVOKED, actor=actor, request=request, kid=old.kid, alg=alg, was="next")
    if old_kid and not SigningKey.objects.filter(kid=old_kid).exists():  # configured in the environment
        public = current_key_set().public[old_kid].export_public(as_dict=True)
        SigningKey.objects.create(kid=old_kid, alg=alg, state=State.REVOKED, created=now, retires_at=now,
                                  public_jwk=public)  # fmt: skip
    if old_kid:
        record(Event.KEY_REVOKED, actor=actor, request=request, kid=old_kid, alg=alg)
    key = _new_key(alg, state=State.ACTIVE, now=now, activates_at=now)
    record(Event.KEY_ACTIVATED, actor=actor, request=request, kid=key.kid, alg=alg, replaced=old_kid,
           emergency=True)  # fmt: skip
    announce_key_change()
    return key


def describe_keys() -> list[dict]:
    """Every key, stored or configured, as operators see it (never private material)."""
    stored = {key.kid: key for key in SigningKey.objects.all()}
    key_set = current_key_set()
    signing = {signer.kid for signer in key_set.signers.values()}
    rows = []
    for kid, public in key_set.public.items():
        key = stored.get(kid)
        rows.append({
            "kid": kid, "alg": public.get("alg"), "source": "database" if key else "environment",
            "state": key.state if key else ("active" if kid in signing else "retired"),
            "signing": kid in signing, "created": key.created if key else None,
            "activates_at": key.activates_at if key else None, "retires_at": key.retires_at if key else None,
            "removes_at": key.removes_at if key else None,
        })  # fmt: skip
    rows += [
        {"kid": key.kid, "alg": key.alg, "source": "database", "state": key.state, "signing": False,
         "created": key.created, "activates_at": key.activates_at, "retires_at": key.retires_at,
         "removes_at": key.removes_at}
        for key in stored.values() if key.kid not in key_set.public
    ]  # fmt: skip
    return rows
