"""oauthlib's OpenID server: one code issuer, offline_access refresh tokens, request and userinfo checks,
and the corrected device grant (``idp.device.protocol``)."""

from __future__ import annotations

import secrets
from functools import cached_property

from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request, add_params_to_uri
from oauthlib.oauth2.rfc6749 import errors, utils
from oauthlib.oauth2.rfc6749.endpoints.base import catch_errors_and_unavailability
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant
from oauthlib.openid import Server

from .authorization import check_authorization_request, check_claims_parameter
from .conf import idp_settings
from .device import DEVICE_GRANT_TYPE
from .device.protocol import IdpDeviceCodeGrant


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


class IdpAuthorizationCodeGrant(AuthorizationCodeGrant):
    """oauthlib's authorization code grant, with one issuer for every code: ``issue_code``."""

    def create_authorization_response(self, request, token_handler):
        """oauthlib's (for the consent page's approval): validate, errors as oauthlib answers them, issue."""
        try:
            self.validate_authorization_request(request)
        except errors.FatalClientError:
            raise
        except errors.OAuth2Error as error:
            request.redirect_uri = request.redirect_uri or self.error_uri
            fragment = request.response_mode == "fragment"
            return {"Location": add_params_to_uri(request.redirect_uri, error.twotuples, fragment)}, None, 302
        return self.issue_code(request, token_handler)

    def create_authorization_code(self, request) -> dict[str, str]:
        """A new code (with the request's ``state``) from ``random_token``, like every token issued here."""
        code = {"code": random_token()}
        if request.state:
            code["state"] = request.state
        return code

    def issue_code(self, request, token_handler=None) -> tuple[dict, None, int]:
        """The code for a request validated moments ago, stored, in the redirect that answers the request.

        The consent page's approval comes here after its validation above; an approval decided without
        the page (remembered consent, a first-party client) comes from the authorization endpoint, which
        has just validated the request itself.
        """
        code = self.create_authorization_code(request)
        for modifier in self._code_modifiers:
            code = modifier(code, token_handler, request)
        self.request_validator.save_authorization_code(request.client_id, code, request)
        return self.prepare_authorization_response(request, code, {}, None, 302)


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
        # oauthlib builds its code grants itself (the OpenID one wraps a plain one, which does the
        # work); they become ours in place, keeping every hook oauthlib registered on them.
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant.__class__ = IdpAuthorizationCodeGrant
        for grant in (self.auth_grant, self.openid_connect_auth, self.refresh_grant):
            grant.register_token_modifier(_refresh_token_only_for_offline_access)
        for grant in (self.auth_grant, self.openid_connect_auth):
            # Run once the client and redirect URI are validated, before oauthlib's OpenID checks.
            grant.custom_validators.pre_auth.append(check_authorization_request)
        self.openid_connect_auth.custom_validators.pre_auth.append(check_claims_parameter)
        # RFC 8628's token request, issuing what the person approved (oauthlib's issues defaults).
        self.device_code_grant = IdpDeviceCodeGrant(request_validator)
        self.device_code_grant.register_token_modifier(_refresh_token_only_for_offline_access)
        self.grant_types[DEVICE_GRANT_TYPE] = self.device_code_grant

    def issue_code(self, request) -> str:
        """The redirect URI answering an authorization request validated moments ago: with a new code."""
        grant = self.openid_connect_auth if "openid" in request.scopes else self.auth_grant
        headers, _, _ = grant.issue_code(request)
        return headers["Location"]

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
        """oauthlib's ``AuthorizationEndpoint.validate_authorization_request``, with a ``ParsedRequest``:
        about 50 µs less CPU per authorization request (tests/test_server.py keeps the copy in step)."""
        request = ParsedRequest(uri, http_method=http_method, body=body, headers=headers)
        request.scopes = utils.scope_to_list(request.scope)
        response_type_handler = self.response_types.get(
            request.response_type, self.default_response_type_handler
        )
        return response_type_handler.validate_authorization_request(request)
