"""Client authentication at the token endpoints (RFC 6749 §2.3): one method and one client per request,
HTTP Basic decoded as §2.3.1 says, and a rotated-away secret during its grace period.

``ClientAuthentication`` holds the validator's hooks for it; ``IdpOAuth2Validator`` inherits them.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from .clients import previous_secret_matches
from .db import lookups


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


class ClientAuthentication:
    """DOT's client lookup and authentication hooks (mixed into ``IdpOAuth2Validator``), using the above."""

    def _load_application(self, client_id, request):
        """DOT's client lookup, read once per request through a compiled query."""
        if oauth2_settings.CIMD_ENABLED:
            return super()._load_application(client_id, request)
        client = request.client
        if isinstance(client, get_application_model()) and client.client_id == client_id:
            return client if client.is_usable(request) else None
        request.client = None
        client = lookups.application(client_id)
        if client is None or not client.is_usable(request):
            return None
        request.client = client
        return client

    def _extract_basic_auth(self, request):
        """DOT's, but a Basic credential that is not ASCII is none: DOT's base64 decoding would raise."""
        credential = super()._extract_basic_auth(request)
        return credential if credential is None or credential.isascii() else None

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        """DOT's, with one method and one client identity per request."""
        check_one_method(request, basic=self._extract_basic_auth(request))
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        settle_client_id(request)
        return True

    def _authenticate_basic_auth(self, request) -> bool:
        """DOT's, or the client's previous secret during its grace period."""
        if super()._authenticate_basic_auth(request):
            return True
        client_id, secret = basic_credentials(self._extract_basic_auth(request), request)
        return previous_secret_authenticates(request.client, client_id=client_id, secret=secret)

    def _authenticate_request_body(self, request) -> bool:
        """DOT's, or the client's previous secret during its grace period."""
        if super()._authenticate_request_body(request):
            return True
        return previous_secret_authenticates(
            request.client,
            client_id=getattr(request, "client_id", None),
            secret=getattr(request, "client_secret", None),
        )
