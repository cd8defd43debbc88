"""Bearer-token authentication for the API: DOT's, with the token in the Authorization header only."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.settings import oauth2_settings
from rest_framework.exceptions import APIException


def bearer_challenge(**params: str) -> str:
    """An RFC 6750 ``WWW-Authenticate: Bearer`` value with the given auth-params, safely quoted."""
    quoted = ", ".join(
        '{}="{}"'.format(
            key, str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
        )
        for key, value in params.items()
    )
    return f"Bearer {quoted}" if quoted else "Bearer"


class TokenInQuery(APIException):
    """An access token sent in the URL query (RFC 9700 §4.3.2, OAuth 2.1 §5.2)."""

    status_code = 400
    default_code = "invalid_request"
    default_detail = "Access tokens are not accepted in the URL query; send an Authorization: Bearer header."
    auth_header = bearer_challenge(realm="api", error="invalid_request")


class IdpOAuth2Authentication(OAuth2Authentication):
    """DOT's bearer authentication reading only the ``Authorization: Bearer`` header.

    DOT's builds a new oauthlib server (every grant type, every endpoint) for each request; this
    one keeps it, as DOT's own views do (``OAuthLibMixin.get_oauthlib_core``): the server and our
    validator hold no per-request state.
    """

    _oauthlib_core = None

    @classmethod
    def get_oauthlib_core(cls):
        if cls._oauthlib_core is None or oauth2_settings.ALWAYS_RELOAD_OAUTHLIB_CORE:
            cls._oauthlib_core = get_oauthlib_core()
        return cls._oauthlib_core

    def authenticate(self, request):
        if "access_token" in request.query_params:
            raise TokenInQuery()
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None  # no token (form-body tokens are not accepted either)
        authenticated = self._verify(request) if credentials.strip() else None
        if authenticated is None and not getattr(request, "oauth2_error", None):
            # A token was sent and refused without a reason from DOT (empty, or JWT-shaped like an ID token).
            request.oauth2_error = {
                "error": "invalid_token",
                "error_description": "The access token is invalid.",
            }
        return authenticated

    def _verify(self, request):
        """DOT's ``OAuth2Authentication.authenticate``, with the kept server."""
        try:
            valid, r = self.get_oauthlib_core().verify_request(request, scopes=[])
        except ValueError as error:
            if str(error) == "Invalid hex encoding in query string.":
                raise SuspiciousOperation(error) from error
            raise
        if valid:
            return r.user, r.access_token
        request.oauth2_error = getattr(r, "oauth2_error", {})
        return None

    def authenticate_header(self, request) -> str:
        return bearer_challenge(realm=self.www_authenticate_realm, **getattr(request, "oauth2_error", {}))
