"""What the flow explorer records: one HTTP exchange (a request and its response) between two lanes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The diagram's lanes, left to right: key -> label. A run shows only the lanes its exchanges use.
LANES: dict[str, str] = {
    "browser": "Browser",
    "rp": "Relying party",
    # /authorize, and the pages it leads a person through: sign-in, second step, consent, /device.
    "authorize": "Authorization endpoint",
    # /token, and the other back-channel endpoints of the server: /device-authorization, /introspect, /revoke.
    "token": "Token endpoint",
    # /.well-known/openid-configuration and /.well-known/jwks.json.
    "keys": "Discovery & JWKS",
    "userinfo": "Userinfo",
    "api": "API",
}

# What an exchange is for: keys of idp.explorer.glossary.STEPS (the "why" shown beside the message).
STEPS = (
    "start",  # browser -> rp: the person starts the flow; the rp answers with the redirect to /authorize
    "authorization_request",  # browser -> authorize: GET /authorize (client_id, code_challenge, state, nonce)
    "sign_in",  # browser -> authorize: the sign-in page and its POST
    "second_factor",  # browser -> authorize: /login/verify
    "consent",  # browser -> authorize: the consent page and its POST (ends in the redirect with the code)
    "authorization_response",  # browser -> rp: the callback with code, state, iss (or error)
    "discovery",  # rp -> keys: GET /.well-known/openid-configuration
    "token_request",  # rp -> token: the code exchanged (code_verifier, client authentication)
    "jwks",  # rp -> keys: GET /.well-known/jwks.json to verify the ID token
    "userinfo",  # rp -> userinfo: GET /userinfo with the access token
    "api_call",  # rp -> api: GET /api/v1/... with the access token
    "introspection",  # rp -> token: POST /introspect
    "refresh",  # rp -> token: grant_type=refresh_token
    "revocation",  # rp -> token: POST /revoke
    "device_authorization",  # rp -> token: POST /device-authorization
    "device_verification",  # browser -> authorize: /device, where the person types the user code
    "device_poll",  # rp -> token: grant_type=device_code, repeated until tokens or a final error
    "client_credentials",  # rp -> token: grant_type=client_credentials
)

# Ways to break a flow on purpose, as real clients do: keys of idp.explorer.glossary.BREAKS.
BREAKS = (
    "no_pkce",  # the authorization request has no code_challenge
    "wrong_redirect_uri",  # the token request names a redirect_uri other than the authorization request's
    "reuse_code",  # the code is exchanged a second time
    "wrong_verifier",  # the token request's code_verifier does not match the code_challenge
    "expired_code",  # the code is exchanged after its lifetime
    "wrong_secret",  # the client authenticates with a wrong secret
    "reuse_refresh_token",  # a refresh token is used again after it was rotated
)

# Request parameters, JSON members and headers whose values are secret: masked on display unless the
# person reveals them (idp.explorer.masking). Passwords, cookies and CSRF tokens are never recorded.
SECRET_NAMES = frozenset(
    {
        "client_secret",
        "code",
        "code_verifier",
        "access_token",
        "refresh_token",
        "id_token",
        "id_token_hint",
        "device_code",
        "token",
        "logout_token",
    }
)
SECRET_HEADERS = frozenset({"authorization"})
NEVER_RECORDED_NAMES = frozenset({"password", "csrfmiddlewaretoken", "otp", "recovery_code"})
NEVER_RECORDED_HEADERS = frozenset({"cookie", "set-cookie", "x-csrftoken"})


@dataclass(frozen=True)
class RecordedRequest:
    """An HTTP request as sent: absolute URL with its query, headers in order, the body as text."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


@dataclass(frozen=True)
class RecordedResponse:
    """An HTTP response as received. An HTML page's body is kept as ``[HTML page: <its title>]``."""

    status: int
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


@dataclass(frozen=True)
class Exchange:
    """One arrow of the diagram: ``source`` sent ``request`` to ``target``, which answered ``response``."""

    seq: int  # 1, 2, ... in the order sent
    step: str  # one of STEPS
    source: str  # one of LANES
    target: str  # one of LANES
    request: RecordedRequest
    response: RecordedResponse
    sent_at: datetime
    broken: str = ""  # one of BREAKS when this message was broken on purpose
    notes: tuple[str, ...] = field(default=())  # plain sentences shown with the message
