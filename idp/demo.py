"""Development-only demo data: loading it idempotently, and recognising its credentials anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import get_application_model

from .client_import import apply_client_specs
from .conf import idp_settings

# A demo user's keys that are not fields to copy onto the user model as they are.
NOT_FIELDS = {"username", "password"}


# Stands for the issuer in a demo redirect URI, e.g. the API docs' OAuth 2 redirect page.
ISSUER_PLACEHOLDER = "{issuer}"


def redirect_uris_of(spec: dict[str, Any], *, issuer: str) -> list[str]:
    """A demo client's redirect URIs, with ``{issuer}`` replaced by this server's issuer."""
    return [uri.replace(ISSUER_PLACEHOLDER, issuer) for uri in spec.get("redirect_uris", [])]


def read_demo_file(path: Path | None = None) -> dict[str, Any]:
    return json.loads(Path(path or idp_settings.DEMO_DATA_FILE).read_text())


@transaction.atomic
def load_demo_data(data: dict[str, Any]) -> dict[str, int]:
    """Create or update the demo users and clients; running it twice changes nothing more."""
    User = get_user_model()
    fields = {field.name for field in User._meta.get_fields()}
    for spec in data["users"]:
        user, _ = User.objects.get_or_create(**{User.USERNAME_FIELD: spec["username"]})
        for field in (spec.keys() - NOT_FIELDS) & fields:
            setattr(user, field, spec[field])
        if not user.check_password(spec["password"]):
            user.set_password(spec["password"])
        user.save()
    # Demo secrets are short and public; the loader refuses to run on a non-loopback issuer.
    clients = [
        {**spec, "redirect_uris": redirect_uris_of(spec, issuer=idp_settings.ISSUER)}
        if "redirect_uris" in spec
        else spec
        for spec in data["clients"]
    ]
    apply_client_specs(clients, allow_weak_secrets=True)
    return {"users": len(data["users"]), "clients": len(data["clients"])}


def demo_credentials_in_use(data: dict[str, Any] | None = None) -> list[str]:
    """Names of demo users and clients that exist here with their public demo passwords or secrets."""
    if data is None and not idp_settings.DEMO_DATA_FILE:
        return []
    data = data or read_demo_file()
    User = get_user_model()
    Application = get_application_model()
    found = []
    names = [spec["username"] for spec in data["users"]]
    users = {u.get_username(): u for u in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": names})}
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
        elif not spec.get("redirect_uris"):
            # A public device client has no secret and no redirect: anyone may start its grant and
            # show people its consent page, so it is the demo one for as long as it is active.
            in_use = client.is_active
        else:  # a public client has no secret: it is the demo one while it keeps the demo redirects
            in_use = _keeps_demo_redirects(spec.get("redirect_uris", []), client.redirect_uris.split())
        if in_use:
            found.append(f"client {client.client_id}")
    return found


def _keeps_demo_redirects(demo: list[str], registered: list[str]) -> bool:
    """The demo's fixed redirect URIs are all registered; with only ``{issuer}/...`` ones (the issuer
    of the day the demo was loaded), each is registered under some issuer."""
    fixed = {uri for uri in demo if ISSUER_PLACEHOLDER not in uri}
    if fixed:
        return fixed <= set(registered)
    tails = [uri.split(ISSUER_PLACEHOLDER, 1)[1] for uri in demo]
    return bool(tails) and all(any(uri.endswith(tail) for uri in registered) for tail in tails)
