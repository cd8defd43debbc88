"""What a relying party's developer is handed: shown on a client's admin page and by ``idp_client``."""

from __future__ import annotations

from ..clients import KINDS
from ..conf import idp_settings


def integration_settings(client, *, secret: str | None = None) -> dict[str, str]:
    """What a relying party configures: discovery URL, client_id, and how it authenticates."""
    setup = KINDS[client.kind]
    issuer = idp_settings.ISSUER
    settings = {
        "issuer": issuer,
        "discovery_url": f"{issuer}/.well-known/openid-configuration",
        "client_id": client.client_id,
    }
    if setup.has_secret:
        settings["client_secret"] = secret or "<the secret shown once when it was created or rotated>"
    settings["token_endpoint_auth_method"] = setup.auth_method
    if setup.redirects:
        uris = client.redirect_uris.split()
        scopes = client.allowed_scopes.split() or ["openid", "profile", "email"]
        settings.update(
            grant_type="authorization_code",
            response_type="code",
            code_challenge_method="S256",
            redirect_uri=uris[0] if uris else "",
            scope=" ".join(scope for scope in scopes if scope != "offline_access"),
        )
    elif setup.device:
        scopes = client.allowed_scopes.split() or ["openid", "profile", "email"]
        settings.update(
            grant_type=setup.grant_type,
            device_authorization_endpoint=f"{issuer}/device-authorization",
            token_endpoint=f"{issuer}/token",
            scope=" ".join(scopes),
        )
    else:
        settings.update(grant_type="client_credentials", token_endpoint=f"{issuer}/token")
    return settings
