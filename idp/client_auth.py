"""Client authentication at the token endpoints (RFC 6749 §2.3): one method and one client per request,
HTTP Basic decoded as §2.3.1 says, and a rotated-away secret during its grace period."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from oauthlib.oauth2.rfc6749 import errors

from .clients import previous_secret_matches


def basic_credentials(auth_string: str | None, request) -> tuple[str | None, str | None]:
    """``client_id`` and secret from an HTTP Basic credential (RFC 6749 §2.3.1 form-encoding)."""
    if not auth_string:
        return None, None
    try:
        decoded = base64.b64decode(auth_string).decode(getattr(request, "encoding", None) or "utf-8")
        client_id, secret = decoded.split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None, None
    return unquote_plus(client_id), unquote_plus(secret)


def check_one_method(request, *, basic: str | None) -> None:
    """Before authenticating: HTTP Basic or a secret in the body, not both (§2.3), and a body
    ``client_id`` next to HTTP Basic names the same client (§3.2.1)."""
    if basic is None:
        return
    if getattr(request, "client_secret", None) is not None:
        raise errors.InvalidRequestError(
            description="Use one client authentication method: HTTP Basic or client_secret in "
            "the body, not both.",
            request=request,
        )
    basic_client_id, _secret = basic_credentials(basic, request)
    if request.client_id is not None and request.client_id != basic_client_id:
        raise errors.InvalidRequestError(
            description="client_id in the body differs from the client authenticated with HTTP Basic.",
            request=request,
        )


def settle_client_id(request) -> None:
    """After authenticating: the client that authenticated names the client everywhere.

    oauthlib takes the ID token's ``aud`` from ``request.client_id``, so a body ``client_id`` naming
    another client is refused, and the authenticated one is set whatever the body said.
    """
    if request.client_id is not None and request.client_id != request.client.client_id:
        raise errors.InvalidRequestError(
            description="client_id differs from the authenticated client.", request=request
        )
    request.client_id = request.client.client_id


def previous_secret_authenticates(client, *, client_id: str | None, secret: str | None) -> bool:
    """A rotated-away secret still authenticates its confidential client until the grace period ends."""
    return bool(
        client is not None
        and client_id
        and secret
        and client.client_id == client_id
        and client.client_type == client.CLIENT_CONFIDENTIAL
        and previous_secret_matches(client, secret)
    )
