"""Declarative clients: apply a list of client specs (a GitOps file, the demo data) idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.models import get_application_model

from .clients import KINDS, clean_client_settings, create_client, set_client_active, update_client

# Spec key -> model field, for the kind-independent settings (with their defaults when absent).
PLAIN_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("name", ""),
    "first_party": ("skip_authorization", False),
    "is_verified": ("is_verified", False),
    "is_resource_server": ("is_resource_server", False),
    "allow_nonce_instead_of_pkce": ("allow_nonce_instead_of_pkce", False),
    "require_second_factor": ("require_second_factor", False),
    "logo_uri": ("logo_uri", ""),
    "client_uri": ("client_uri", ""),
    "policy_uri": ("policy_uri", ""),
    "tos_uri": ("tos_uri", ""),
    "subject_type": ("subject_type", "public"),
    "sector_identifier": ("sector_identifier", ""),
}
SETTINGS = ("redirect_uris", "post_logout_redirect_uris", "allowed_origins", "allowed_scopes")
KNOWN_KEYS = {
    "client_id", "kind", "client_secret", "client_secret_hash", "is_active", "access_token_lifetime",
    "_comment", *PLAIN_FIELDS, *SETTINGS,
}  # fmt: skip
# A cleartext secret in a file must still be unguessable (the demo file is the one exception).
MIN_SECRET_LENGTH = 32


@dataclass
class ImportResult:
    """What applying one spec did. ``secret`` is set only for a client created without one."""

    client_id: str
    action: str  # created, updated or unchanged
    changed: list[str] = field(default_factory=list)
    secret: str | None = None


def spec_problems(spec: dict[str, Any], *, allow_weak_secrets: bool = False) -> list[str]:
    """Everything wrong with one spec, as messages naming the client."""
    name = spec.get("client_id") or "(no client_id)"
    problems = []
    if unknown := sorted(set(spec) - KNOWN_KEYS):
        problems.append(f"{name}: unknown keys {', '.join(unknown)}.")
    if not spec.get("client_id"):
        problems.append(f"{name}: client_id is required.")
    kind = spec.get("kind")
    if kind not in KINDS:
        return [*problems, f"{name}: kind must be one of {', '.join(KINDS)}."]
    try:
        clean_client_settings(
            kind=kind,
            access_token_lifetime=spec.get("access_token_lifetime"),
            **{key: spec.get(key) for key in SETTINGS},
        )
    except ValidationError as exc:
        problems += [f"{name}: {key}: {m}" for key, messages in exc.message_dict.items() for m in messages]
    secret, hashed = spec.get("client_secret"), spec.get("client_secret_hash")
    if (secret or hashed) and not KINDS[kind].has_secret:
        problems.append(f"{name}: a {kind} client is public and has no secret.")
    if secret and hashed:
        problems.append(f"{name}: give client_secret or client_secret_hash, not both.")
    if secret and len(secret) < MIN_SECRET_LENGTH and not allow_weak_secrets:
        problems.append(f"{name}: client_secret must be at least {MIN_SECRET_LENGTH} random characters.")
    if hashed:
        try:
            identify_hasher(hashed)
        except ValueError:
            problems.append(f"{name}: client_secret_hash is not a password hash (idp_client_secret$...).")
        else:
            if check_password("", hashed):
                problems.append(f"{name}: client_secret_hash is the hash of an empty secret.")
    return problems


@transaction.atomic
def apply_client_specs(
    specs: list[dict[str, Any]], *, allow_weak_secrets: bool = False, actor=None
) -> list[ImportResult]:
    """Create or update every client in ``specs``; all or nothing; a second run changes nothing.

    Absent keys mean their defaults: the file is the whole truth about the clients it names.
    Clients not named in the file are left alone.
    """
    problems = [p for spec in specs for p in spec_problems(spec, allow_weak_secrets=allow_weak_secrets)]
    if problems:
        raise ValidationError(problems)
    return [_apply(spec, actor=actor) for spec in specs]


def _apply(spec: dict[str, Any], *, actor) -> ImportResult:
    """One spec through the lifecycle: ``create_client`` for a new client_id, else ``update_client``."""
    fields = {attname: spec.get(key, default) for key, (attname, default) in PLAIN_FIELDS.items()}
    settings = {key: spec.get(key) for key in (*SETTINGS, "access_token_lifetime")}
    secret = spec.get("client_secret") or spec.get("client_secret_hash") or None
    active = spec.get("is_active", True)
    client = get_application_model().objects.filter(client_id=spec["client_id"]).first()
    if client is None:
        client, generated = create_client(
            kind=spec["kind"], client_id=spec["client_id"], client_secret=secret, actor=actor, via="import",
            **fields, **settings,
        )  # fmt: skip
        set_client_active(client, active, actor=actor)
        return ImportResult(client.client_id, "created", [], generated)
    changed = update_client(
        client, kind=spec["kind"], client_secret=secret, is_active=active, actor=actor, via="import",
        **fields, **settings,
    )  # fmt: skip
    return ImportResult(client.client_id, "updated" if changed else "unchanged", changed)
