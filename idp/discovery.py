"""The OpenID Provider and RFC 8414 metadata documents: static per deployment, so computed once."""

from __future__ import annotations

import functools
import json
from typing import Any

from django.urls import reverse

from .authorization import PROMPT_VALUES, RESPONSE_MODES
from .claims import SCOPES, supported_claims
from .conf import idp_settings

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _endpoint(name: str) -> str:
    return idp_settings.issuer_origin + reverse(f"oauth2_provider:{name}")


def authorization_server_metadata() -> dict[str, Any]:
    """RFC 8414 metadata: advertise only what this server actually does."""
    return {
        "issuer": idp_settings.ISSUER,
        "authorization_endpoint": _endpoint("authorize"),
        "token_endpoint": _endpoint("token"),
        "jwks_uri": _endpoint("jwks-info"),
        "revocation_endpoint": _endpoint("revoke-token"),
        "introspection_endpoint": _endpoint("introspect"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": [*CLIENT_AUTH_METHODS, "none"],
        "revocation_endpoint_auth_methods_supported": [*CLIENT_AUTH_METHODS, "none"],
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
    }


def openid_configuration() -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 provider metadata."""
    return {
        **authorization_server_metadata(),
        "userinfo_endpoint": _endpoint("user-info"),
        "end_session_endpoint": _endpoint("rp-initiated-logout"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", *supported_claims()],
        "prompt_values_supported": list(PROMPT_VALUES),
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }


@functools.lru_cache(maxsize=16)
def _serialised(kind: str, issuer: str) -> bytes:
    document = openid_configuration() if kind == "openid" else authorization_server_metadata()
    return json.dumps(document).encode()


def document_bytes(kind: str) -> bytes:
    """The serialised document (``"openid"`` or ``"oauth"``), computed once per issuer."""
    return _serialised(kind, idp_settings.ISSUER)
