"""The client lifecycle: create, update, enable or disable, rotate the secret.

The admin, the ``idp_client`` command and the declarative import all call these functions, so a
client made or changed by any of them is validated, saved and recorded the same way; each
function records its own audit event, once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_application_model

from ..audit import Event, record
from ..tokens import revoke_tokens
from .kinds import KINDS, kind_setup
from .validation import KIND_SETTINGS, clean_client_settings, clean_grace_period

# 48 random bytes: 384 bits, far beyond guessing; 64 URL-safe characters.
SECRET_BYTES = 48
# The fields the kind leaves free, set as given (the kind-dependent ones are KIND_SETTINGS).
PLAIN_FIELDS = (
    "name",
    "skip_authorization",
    "is_verified",
    "is_resource_server",
    "allow_nonce_instead_of_pkce",
    "require_second_factor",
    "logo_uri",
    "client_uri",
    "policy_uri",
    "tos_uri",
    "subject_type",
    "sector_identifier",
)


def generate_client_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def apply_kind(client, kind: str) -> None:
    """Set what the kind decides: grant type, client type, RS256 ID tokens, a hashed secret."""
    setup = kind_setup(kind)
    client.kind = kind
    client.authorization_grant_type = setup.grant_type
    client.client_type = setup.client_type
    client.algorithm = client.RS256_ALGORITHM
    client.hash_client_secret = True


def _check_plain_fields(fields: dict) -> None:
    """Refuse a field these functions do not set freely: the kind, the secret and ``is_active`` have
    their own arguments and rules, and a typo must not pass silently as an attribute."""
    if unknown := sorted(set(fields) - set(PLAIN_FIELDS)):
        raise TypeError(f"Not a client field to set directly: {', '.join(unknown)}.")


def _refuse_empty_secret(client) -> None:
    """A confidential client whose stored secret is the hash of nothing would authenticate with its
    ``client_id`` alone (DOT checks a missing secret as ``""``)."""
    if check_password("", client.client_secret):
        raise ValidationError(f"{client.client_id}: a {client.kind} client needs a secret; give one.")


def _via(via: str | None) -> dict:
    """The ``via`` detail of an event, when the caller names its entry point (the import does)."""
    return {"via": via} if via else {}


@transaction.atomic
def create_client(
    *,
    kind: str,
    name: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    redirect_uris=None,
    post_logout_redirect_uris=None,
    allowed_origins=None,
    allowed_scopes=None,
    access_token_lifetime=None,
    actor=None,
    request=None,
    via: str | None = None,
    **attributes,
):
    """Create a validated client; return it with the cleartext secret made for it (or None).

    A confidential client gets a generated secret, which exists in clear only in the return
    value: show it once, it is stored hashed. ``client_secret`` gives one instead (cleartext or
    an already hashed one, from a declarative file); then None is returned. Public clients have
    no secret. ``attributes`` are the kind-independent fields (``PLAIN_FIELDS``).
    """
    _check_plain_fields(attributes)
    setup = kind_setup(kind)
    if client_secret and not setup.has_secret:
        raise ValidationError(f"A {kind} client is public: it has no secret.")
    client = get_application_model()(name=name, **attributes)
    if client_id:
        client.client_id = client_id
    apply_kind(client, kind)
    cleaned = clean_client_settings(
        kind=kind,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        allowed_origins=allowed_origins,
        allowed_scopes=allowed_scopes,
        access_token_lifetime=access_token_lifetime,
    )
    for field, value in cleaned.items():
        setattr(client, field, value)
    generated = generate_client_secret() if setup.has_secret and not client_secret else None
    client.client_secret = client_secret or generated or ""
    if setup.has_secret:
        _refuse_empty_secret(client)
    client.full_clean(exclude=["client_secret", "user"])
    client.save()
    record(Event.CLIENT_CREATED, actor=actor, client=client, request=request, kind=kind, **_via(via))
    return client, generated


@transaction.atomic
def update_client(
    client,
    *,
    kind: str | None = None,
    client_secret: str | None = None,
    is_active: bool | None = None,
    actor=None,
    request=None,
    via: str | None = None,
    **fields,
) -> list[str]:
    """Change the given fields of ``client``; return the names of those that changed.

    Fields not given keep their stored values, and are checked against the kind all the same.
    What changed is saved and recorded in one ``client_changed`` event (the secret named
    ``secret``); nothing changed, nothing saved. ``is_active`` goes through ``set_client_active``:
    disabling revokes every token of the client, recorded as its own event.

    ``kind`` and ``client_secret`` serve the declarative import (a file may change either; a
    client made confidential must be given its secret); the admin shows the kind read-only and
    replaces a secret only by rotating it.
    """
    given = {name: fields.pop(name) for name in KIND_SETTINGS if name in fields}
    _check_plain_fields(fields)
    before = {
        f.attname: getattr(client, f.attname) for f in client._meta.concrete_fields if f.attname != "updated"
    }
    if kind is not None:
        apply_kind(client, kind)
    cleaned = clean_client_settings(
        kind=client.kind, **{**{name: getattr(client, name) for name in KIND_SETTINGS}, **given}
    )
    for name in given:
        setattr(client, name, cleaned[name])
    for name, value in fields.items():
        setattr(client, name, value)
    if not KINDS[client.kind].has_secret:
        if client_secret:
            raise ValidationError(f"A {client.kind} client is public: it has no secret.")
        if kind is not None and not check_password("", client.client_secret):
            client.client_secret = ""  # stored as the hash of nothing, like every public client
    elif client_secret and not check_password(client_secret, client.client_secret):
        client.client_secret = client_secret  # a cleartext secret is hashed on save; a hash is kept
    if client.client_secret != before["client_secret"]:
        # A replaced secret ends the old one's grace period too: a leaked secret replaced in the
        # import file must stop working now, not when a rotation's grace would have ended.
        client.previous_client_secret, client.previous_client_secret_expires = "", None
    if KINDS[client.kind].has_secret:
        _refuse_empty_secret(client)  # e.g. a public client made confidential without a secret
    changed = [name for name, value in before.items() if getattr(client, name) != value]
    # The secret is named once, whatever of its grace period went with it.
    labels = [
        "secret" if name == "client_secret" else name
        for name in changed
        if not name.startswith("previous_client_secret")
    ]
    if changed:
        client.full_clean(exclude=["client_secret", "user"])
        client.save(update_fields=[*changed, "updated"])
        # Tokens were issued under the old kind's rules (a confidential client's refresh tokens need
        # its secret; as a public client they would not): a change of kind ends them all.
        revoked = {"revoked": revoke_tokens(client=client)} if before["kind"] != client.kind else {}
        record(
            Event.CLIENT_CHANGED, actor=actor, client=client, request=request, fields=labels,
            **revoked, **_via(via),
        )  # fmt: skip
    if is_active is not None and set_client_active(client, is_active, actor=actor, request=request):
        labels.append("is_active")
    return labels


@transaction.atomic
def rotate_client_secret(client, *, grace_seconds: int = 0, actor=None, request=None) -> str:
    """Give ``client`` a new secret; the old one stays valid for ``grace_seconds`` (0: not at all)."""
    if not KINDS[client.kind].has_secret:
        raise ValidationError(f"A {client.kind} client is public: it has no secret to rotate.")
    grace_seconds = clean_grace_period(grace_seconds)
    secret = generate_client_secret()
    if grace_seconds:
        client.previous_client_secret = client.client_secret
        client.previous_client_secret_expires = timezone.now() + timedelta(seconds=grace_seconds)
    else:
        client.previous_client_secret = ""
        client.previous_client_secret_expires = None
    client.client_secret = secret
    client.save(update_fields=["client_secret", "previous_client_secret", "previous_client_secret_expires"])
    record(
        Event.CLIENT_SECRET_ROTATED, actor=actor, client=client, request=request, grace_seconds=grace_seconds
    )
    return secret


def previous_secret_matches(client, provided: str) -> bool:
    """True if ``provided`` is the client's previous secret and its grace period has not ended."""
    expires = client.previous_client_secret_expires
    if not client.previous_client_secret or expires is None or expires <= timezone.now():
        return False
    return check_password(provided, client.previous_client_secret)


@transaction.atomic
def set_client_active(client, active: bool, *, actor=None, request=None) -> bool:
    """Enable or disable ``client``; disabling revokes all its tokens. True if anything changed."""
    if client.is_active == active:
        return False
    client.is_active = active
    client.save(update_fields=["is_active", "updated"])
    if active:
        record(Event.CLIENT_ENABLED, actor=actor, client=client, request=request)
    else:
        revoked = revoke_tokens(client=client)
        record(Event.CLIENT_DISABLED, actor=actor, client=client, request=request, revoked=revoked)
    return True
