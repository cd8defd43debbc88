"""Declarative clients: apply a list of client specs (a GitOps file, the demo data) idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.models import get_application_model

from .audit import Event, record
from .clients import KINDS, apply_kind, clean_client_settings, generate_client_secret, set_client_active

# Spec key -> model field, for the kind-independent settings (with their defaults when absent).
PLAIN_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("name", ""),
    "first_party": ("skip_authorization", False),
    "is_verified": ("is_verified", False),
    "is_resource_server": ("is_resource_server", False),
    "allow_nonce_instead_of_pkce": ("allow_nonce_instead_of_pkce", False),
    "logo_uri": ("logo_uri", ""),
    "client_uri": ("client_uri", ""),
    "policy_uri": ("policy_uri", ""),
    "tos_uri": ("tos_uri", ""),
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
    Application = get_application_model()
    kind = spec["kind"]
    client = Application.objects.filter(client_id=spec["client_id"]).first()
    created = client is None
    if created:
        client = Application(client_id=spec["client_id"])
    before = {f.attname: getattr(client, f.attname) for f in Application._meta.concrete_fields}
    apply_kind(client, kind)
    for key, (attname, default) in PLAIN_FIELDS.items():
        setattr(client, attname, spec.get(key, default))
    settings = clean_client_settings(
        kind=kind,
        access_token_lifetime=spec.get("access_token_lifetime"),
        **{key: spec.get(key) for key in SETTINGS},
    )
    for attname, value in settings.items():
        setattr(client, attname, value)
    secret = _apply_secret(client, spec, created=created)
    changed = [
        "secret" if name == "client_secret" else name
        for name, value in before.items()
        if getattr(client, name) != value and name != "updated"
    ]
    if created or changed:
        client.full_clean(exclude=["client_secret", "user"])
        client.save()
        record(
            Event.CLIENT_CREATED if created else Event.CLIENT_CHANGED,
            actor=actor,
            client=client,
            kind=kind,
            fields=changed,
            via="import",
        )
    active = spec.get("is_active", True)
    if set_client_active(client, active, actor=actor):
        changed.append("is_active")
    action = "created" if created else ("updated" if changed else "unchanged")
    return ImportResult(client.client_id, action, [] if created else changed, secret)


def _apply_secret(client, spec: dict[str, Any], *, created: bool) -> str | None:
    """Set the secret the spec asks for; return a newly generated one (to be shown once)."""
    if not KINDS[client.kind].has_secret:
        if created or not check_password("", client.client_secret):
            client.client_secret = ""  # stored as the hash of nothing, like every public client
        return None
    if spec.get("client_secret"):
        if created or not check_password(spec["client_secret"], client.client_secret):
            client.client_secret = spec["client_secret"]
        return None
    if spec.get("client_secret_hash"):
        client.client_secret = spec["client_secret_hash"]
        return None
    if created:
        client.client_secret = generate_client_secret()
        return client.client_secret
    return None
