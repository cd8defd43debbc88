"""oauthlib's OpenID server: offline_access-only refresh tokens, request checks, RFC 6750 userinfo errors."""

from __future__ import annotations

import secrets
from functools import cached_property

from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors, utils
from oauthlib.oauth2.rfc6749.endpoints.base import catch_errors_and_unavailability
from oauthlib.openid import Server

from .authorization import check_authorization_request, check_claims_parameter
from .conf import idp_settings


def random_token(request=None, refresh_token: bool = False) -> str:
    """An access or refresh token, or an authorization code: 256 random bits, URL-safe.

    oauthlib's default draws 30 characters one at a time from ``SystemRandom`` (one ``urandom``
    call each, 178 bits in all); this is one call and more entropy.
    """
    return secrets.token_urlsafe(32)


def _refresh_token_only_for_offline_access(token: dict, token_handler, request) -> dict:
    # OIDC Core 11: offline access is what a refresh token is for; without it the client signs the
    # person in again (silently, with prompt=none) when its access token expires. On the refresh
    # grant too: a refresh that narrows the scope away from offline_access uses up the presented
    # refresh token (rotated away as usual) and gets none in its place.
    if "offline_access" not in (request.scopes or []):
        token.pop("refresh_token", None)
    return token


def _access_token_lifetime(request) -> int:
    """oauthlib asks this for ``expires_in``: the client's own lifetime, else the provider's.

    The provider's is ``OAUTH2_PROVIDER['ACCESS_TOKEN_EXPIRE_SECONDS']``, read per token rather than
    when DOT builds (and then keeps) the server, so a changed setting applies at once.
    """
    lifetime = getattr(request.client, "access_token_lifetime", None)
    if lifetime:
        low, high = idp_settings.CLIENT_ACCESS_TOKEN_LIFETIME_BOUNDS
        return min(max(lifetime, low), high)
    return oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS


class _UserinfoInsufficientScope(errors.InsufficientScopeError):
    """A valid access token without ``openid``: 403 with the RFC 6750 §3.1 challenge oauthlib leaves out."""

    description = "The access token does not carry the openid scope."

    @property
    def headers(self) -> dict[str, str]:
        return {
            "WWW-Authenticate": f'Bearer error="{self.error}", error_description="{self.description}", '
            'scope="openid"'
        }


class ParsedRequest(Request):
    """oauthlib's request, parsing its query string once.

    oauthlib re-parses the whole URI each time it reads ``duplicate_params`` (five times while
    validating an authorization request) or ``uri_query_params``; the URI never changes.
    """

    @cached_property
    def uri_query_params(self):
        return super().uri_query_params

    @cached_property
    def duplicate_params(self):
        return super().duplicate_params


class IdpServer(Server):
    """Per-client access token lifetimes; refresh tokens only when ``offline_access`` was granted; the
    authorization request checks of ``idp.authorization``."""

    def __init__(self, request_validator, token_expires_in=None, *args, **kwargs):
        # DOT passes ACCESS_TOKEN_EXPIRE_SECONDS as it was when the server was built; the per-token
        # function reads the setting itself.
        super().__init__(request_validator, _access_token_lifetime, *args, **kwargs)
        for grant in (self.auth_grant, self.openid_connect_auth, self.refresh_grant):
            grant.register_token_modifier(_refresh_token_only_for_offline_access)
        for grant in (self.auth_grant, self.openid_connect_auth):
            # Run once the client and redirect URI are validated, before oauthlib's OpenID checks.
            grant.custom_validators.pre_auth.append(check_authorization_request)
        self.openid_connect_auth.custom_validators.pre_auth.append(check_claims_parameter)

    def validate_userinfo_request(self, request) -> None:
        """oauthlib's, telling a token without ``openid`` (insufficient_scope) from an invalid one.

        oauthlib asks the bearer check for the ``openid`` scope, so a live token lacking it comes back
        as ``invalid_token``; RFC 6750 §3.1 calls that ``insufficient_scope``.
        """
        request.scopes = []
        if not self.bearer.validate_request(request):
            raise errors.InvalidTokenError()
        if "openid" not in request.scopes:
            raise _UserinfoInsufficientScope()

    @catch_errors_and_unavailability
    def validate_authorization_request(self, uri, http_method="GET", body=None, headers=None):
        """oauthlib's ``AuthorizationEndpoint.validate_authorization_request``, with a ``ParsedRequest``."""
        request = ParsedRequest(uri, http_method=http_method, body=body, headers=headers)
        request.scopes = utils.scope_to_list(request.scope)
        handler = self.response_types.get(request.response_type, self.default_response_type_handler)
        return handler.validate_authorization_request(request)
