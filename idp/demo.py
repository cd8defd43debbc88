"""Development-only demo data: loading it idempotently, and recognising its credentials anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import get_application_model

# Grant type and client type that each kind of client gets.
KIND_SETUP = {
    "web": ("authorization-code", "confidential"),
    "spa": ("authorization-code", "public"),
    "native": ("authorization-code", "public"),
    "service": ("client-credentials", "confidential"),
}

USER_FIELDS = {
    "email", "email_verified", "first_name", "last_name", "middle_name", "nickname", "website", "gender",
    "birthdate", "zoneinfo", "locale", "phone_number", "phone_number_verified", "street_address",
    "locality", "region", "postal_code", "country", "is_staff", "is_superuser",
}  # fmt: skip


# What the consent page shows about a client (optional in the demo file).
CLIENT_BRANDING = ("is_verified", "logo_uri", "client_uri", "policy_uri", "tos_uri")


def read_demo_file(path: Path | None = None) -> dict[str, Any]:
    from .conf import idp_settings

    return json.loads(Path(path or idp_settings.DEMO_DATA_FILE).read_text())


@transaction.atomic
def load_demo_data(data: dict[str, Any]) -> dict[str, int]:
    """Create or update the demo users and clients; running it twice changes nothing more."""
    User = get_user_model()
    Application = get_application_model()
    for spec in data["users"]:
        user, _ = User.objects.get_or_create(username=spec["username"])
        for field in USER_FIELDS & spec.keys():
            setattr(user, field, spec[field])
        if not user.check_password(spec["password"]):
            user.set_password(spec["password"])
        user.save()
    for spec in data["clients"]:
        grant_type, client_type = KIND_SETUP[spec["kind"]]
        client, _ = Application.objects.get_or_create(
            client_id=spec["client_id"],
            defaults={"client_type": client_type, "authorization_grant_type": grant_type},
        )
        client.name = spec["name"]
        client.kind = spec["kind"]
        client.client_type = client_type
        client.authorization_grant_type = grant_type
        client.redirect_uris = " ".join(spec.get("redirect_uris", []))
        client.post_logout_redirect_uris = " ".join(spec.get("post_logout_redirect_uris", []))
        client.allowed_origins = " ".join(spec.get("allowed_origins", []))
        client.skip_authorization = False
        for field in CLIENT_BRANDING:
            setattr(client, field, spec.get(field, Application._meta.get_field(field).get_default()))
        secret = spec.get("client_secret", "")
        if not secret or not check_password(secret, client.client_secret):
            client.client_secret = secret
        client.save()
    return {"users": len(data["users"]), "clients": len(data["clients"])}


def demo_credentials_in_use(data: dict[str, Any] | None = None) -> list[str]:
    """Names of demo users and clients that exist here with their public demo passwords or secrets."""
    data = data or read_demo_file()
    User = get_user_model()
    Application = get_application_model()
    found = []
    users = {u.username: u for u in User.objects.filter(username__in=[s["username"] for s in data["users"]])}
    for spec in data["users"]:
        user = users.get(spec["username"])
        if user is not None and user.check_password(spec["password"]):
            found.append(f"user {spec['username']}")
    clients = Application.objects.filter(client_id__in=[s["client_id"] for s in data["clients"]])
    specs = {s["client_id"]: s for s in data["clients"]}
    for client in clients:
        spec = specs[client.client_id]
        if spec.get("client_secret"):
            in_use = check_password(spec["client_secret"], client.client_secret)
        else:  # a public client has no secret: it is the demo one while it keeps the demo redirects
            in_use = client.redirect_uris.split() == spec.get("redirect_uris", [])
        if in_use:
            found.append(f"client {client.client_id}")
    return found
