"""The built-in playground clients the demo data registers, and their secrets (development only)."""

from __future__ import annotations

from django.urls import reverse

from ..conf import idp_settings, is_loopback_url
from ..demo import read_demo_file

# The client each flow uses when the person names none. explorer-web and explorer-spa redirect to
# the explorer's callback; client credentials and the device grant use the demo's own clients.
PLAYGROUND_CLIENTS: dict[str, str] = {
    "web": "explorer-web",
    "spa": "explorer-spa",
    "refresh": "explorer-web",
    "device": "demo-device",
    "client_credentials": "demo-service",
}


def callback_url() -> str:
    """The explorer's redirect URI: a client's code flows run here only if it is registered."""
    return idp_settings.issuer_origin + reverse("idp:explorer:callback")


def playground_secret(client_id: str) -> str | None:
    """A playground client's secret from the demo data file, on a development (loopback) issuer only."""
    if client_id not in PLAYGROUND_CLIENTS.values() or not is_loopback_url(idp_settings.ISSUER):
        return None
    if not idp_settings.DEMO_DATA_FILE:
        return None
    try:
        clients = read_demo_file().get("clients", [])
    except (OSError, ValueError, AttributeError):
        return None
    spec = next((spec for spec in clients if spec.get("client_id") == client_id), {})
    return spec.get("client_secret") or None
