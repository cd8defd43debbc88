"""The OpenID Provider and RFC 8414 metadata documents: derived from the enforced settings, computed once."""

from __future__ import annotations

import functools
import json
from typing import Any

from django.urls import reverse
from oauth2_provider.settings import oauth2_settings

from .authorization import PROMPT_VALUES, RESPONSE_MODES
from .claims import supported_claims
from .conf import RESPONSE_TYPES, TOKEN_ENDPOINT_AUTH_METHODS, idp_settings
from .keys import signing_algorithms
from .mfa.acr import ACR_VALUES
from .subjects import SUBJECT_TYPES

# PKCE: the authorization endpoint and the code's save-time check accept S256 alone.
CODE_CHALLENGE_METHODS = ("S256",)
# Claims every ID token may carry besides those the scopes release (idp.claims).
ID_TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "acr", "amr", "sid")
# Settings the documents are derived from: a change to either computes them again.
SOURCE_SETTINGS = frozenset({"OAUTH2_PROVIDER", "IDP"})


def _endpoint(name: str) -> str:
    return idp_settings.issuer_origin + reverse(f"oauth2_provider:{name}")


def authorization_server_metadata() -> dict[str, Any]:
    """RFC 8414 metadata: advertise only what this server actually does.

    Grant types and scopes are what DOT's settings let through (the token endpoint refuses any other
    grant type; the scopes backend names every scope); the rest are the values the endpoints accept.
    """
    client_auth_methods = [method for method in TOKEN_ENDPOINT_AUTH_METHODS if method != "none"]
    return {
        "issuer": idp_settings.ISSUER,
        "authorization_endpoint": _endpoint("authorize"),
        "token_endpoint": _endpoint("token"),
        "jwks_uri": _endpoint("jwks-info"),
        "revocation_endpoint": _endpoint("revoke-token"),
        "introspection_endpoint": _endpoint("introspect"),
        "device_authorization_endpoint": _endpoint("device-authorization"),
        "scopes_supported": list(oauth2_settings.SCOPES_BACKEND_CLASS().get_all_scopes()),
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED),
        "token_endpoint_auth_methods_supported": list(TOKEN_ENDPOINT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(TOKEN_ENDPOINT_AUTH_METHODS),
        # Introspection answers confidential clients only.
        "introspection_endpoint_auth_methods_supported": client_auth_methods,
        "code_challenge_methods_supported": list(CODE_CHALLENGE_METHODS),
        "authorization_response_iss_parameter_supported": True,
    }


def openid_configuration(*, algorithms: tuple[str, ...] = ("RS256",)) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 provider metadata; ``algorithms``: those with an active key."""
    return {
        **authorization_server_metadata(),
        "userinfo_endpoint": _endpoint("user-info"),
        "end_session_endpoint": _endpoint("rp-initiated-logout"),
        # Back-Channel Logout 1.0 §2.1: logout tokens (idp.logout), with sid (idp.browser_sessions).
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "subject_types_supported": list(SUBJECT_TYPES),
        # Documented in idp.mfa.acr: single factor, two factors (REFEDS), phishing-resistant (EAP ACR).
        "acr_values_supported": list(ACR_VALUES),
        "id_token_signing_alg_values_supported": list(dict.fromkeys(("RS256", *algorithms))),
        "claims_supported": [*ID_TOKEN_CLAIMS, *supported_claims()],
        "prompt_values_supported": list(PROMPT_VALUES),
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }


@functools.lru_cache(maxsize=16)
def _serialised(kind: str, issuer: str, algorithms: tuple[str, ...]) -> bytes:
    if kind == "openid":
        return json.dumps(openid_configuration(algorithms=algorithms)).encode()
    return json.dumps(authorization_server_metadata()).encode()


def document_bytes(kind: str) -> bytes:
    """The serialised document (``"openid"`` or ``"oauth"``), computed once per issuer, settings and
    signing algorithms (they change with the keys)."""
    return _serialised(kind, idp_settings.ISSUER, signing_algorithms() if kind == "openid" else ())


def forget_documents(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver: the documents are computed again after their settings change."""
    if setting in SOURCE_SETTINGS:
        _serialised.cache_clear()
