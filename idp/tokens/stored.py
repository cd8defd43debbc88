"""How a stored token is found (by checksum), and the token models of DOT's swappable settings."""

from __future__ import annotations

import hashlib

from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

AccessToken = get_access_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()


def checksum(value: str) -> str:
    """How a stored token is found: by the SHA-256 of its value (DOT's ``token_checksum``)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
