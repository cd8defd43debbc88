"""The token endpoint, revocation (RFC 7009) and introspection (RFC 7662), answering errors in JSON."""

from __future__ import annotations

import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import RevokeTokenView, TokenView
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from ..conf import idp_settings
from ..db import lookups
from ..keys import SigningKeyUnavailable
from ..logs import SECRET_PARAMETERS
from ..subjects import sub_for
from ..token_checks import access_token_is_live, refresh_token_expires, refresh_token_is_live
from ..tokens import checksum

logger = logging.getLogger(__name__)

# RFC 8707 §2.1: the one token-endpoint parameter that may be repeated.
REPEATABLE_PARAMETERS = frozenset({"resource"})


def authenticated_client(request: HttpRequest):
    """The client that authenticated this request with its secret (basic or post), or None.

    Raises oauthlib's OAuth2Error for a request that is malformed rather than unauthenticated (two
    authentication methods, a body ``client_id`` naming another client).
    """
    oauth_request = OauthlibRequest(
        request.build_absolute_uri(request.path),  # the query is not needed, and oauthlib may refuse it
        http_method="POST",
        body=request.POST.urlencode(),
        headers={"HTTP_AUTHORIZATION": request.headers.get("Authorization", "")},
    )
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    if not validator.authenticate_client(oauth_request):
        return None
    client = oauth_request.client
    return client if client is not None and client.client_type == "confidential" else None


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response


def oauth_error(error: str, description: str | None, status: int = 400) -> JsonResponse:
    """An RFC 6749 §5.2 error response."""
    body = {"error": error, **({"error_description": description} if description else {})}
    return _json(body, status)


def form_problem(request: HttpRequest) -> str | None:
    """Why the request's parameters cannot be taken as one OAuth form (RFC 6749 §3.2), or None.

    Django raises on a body it cannot read (too many fields, a broken multipart body, a form
    declared in another charset than UTF-8); the views would otherwise answer that with an HTML
    page, or a 500 with DEBUG on. A repeated parameter is refused (RFC 6749 §3.2) rather than
    silently collapsed to its last value, as DOT does before oauthlib could notice.
    """
    try:
        sources = (request.GET, request.POST)
    except (BadRequest, SuspiciousOperation, MultiPartParserError):
        return "The request body is not a readable application/x-www-form-urlencoded form."
    counts: dict[str, int] = {}
    for params in sources:
        for key, values in params.lists():
            counts[key] = counts.get(key, 0) + len(values)
    repeated = sorted(key for key, count in counts.items() if count > 1 and key not in REPEATABLE_PARAMETERS)
    if repeated:
        return f"Parameters must not be repeated: {', '.join(repeated)}."
    return None


class FormEndpointMixin:
    """POST-only endpoints taking an OAuth form: every refusal of the request itself is JSON.

    Its ``dispatch`` is the view's entry point, so it carries the CSRF and login exemptions DOT's
    views put on theirs (``as_view`` copies them from the outermost ``dispatch``).
    """

    @method_decorator(csrf_exempt)
    @method_decorator(login_not_required)
    # An error report (Django's mail to ADMINS, an error tracker) shows none of what logs redact.
    @method_decorator(sensitive_post_parameters(*SECRET_PARAMETERS))
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            problem = form_problem(request)
            if problem is not None:
                return oauth_error("invalid_request", problem)
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = oauth_error("invalid_request", "Use POST.", status=405)
        response["Allow"] = "POST"
        return response


def challenge_for_client_authentication(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """RFC 6749 §5.2 ``invalid_client``: a Basic challenge for a client that used the Authorization header.

    oauthlib answers 401 with a ``Bearer`` challenge whatever the client used. A client that sent
    its credentials in the body (or none) gets 400 without a challenge, the status §5.2 gives every
    other error (a 401 would need a WWW-Authenticate header, RFC 9110 §15.5.2).
    """
    if response.status_code != 401:
        return response
    del response["WWW-Authenticate"]
    if request.headers.get("Authorization"):
        response["WWW-Authenticate"] = 'Basic realm="token", charset="UTF-8"'
    else:
        response.status_code = 400
    return response


def _find_token(value: str, hint: str | None):
    found_by = checksum(value)
    order = [lookups.access_token, lookups.refresh_token]
    for lookup in order if hint != "refresh_token" else reversed(order):
        token = lookup(found_by)
        if token is not None:
            return token
    return None


def _describe(token) -> dict | None:
    """The introspection answer for a live token, or None if it no longer counts (token_checks)."""
    is_refresh = hasattr(token, "token_family")
    if is_refresh:
        if not refresh_token_is_live(token):
            return None
        expires = refresh_token_expires(token)
        scope = token.access_token.scope
    else:
        if not access_token_is_live(token):
            return None
        expires = token.expires
        scope = token.scope
    data = {
        "active": True,
        "scope": scope,
        "client_id": token.application.client_id,
        "token_type": "refresh_token" if is_refresh else "Bearer",
        "iat": int(token.created.timestamp()),
        "iss": idp_settings.ISSUER,
    }
    if expires is not None:
        data["exp"] = int(expires.timestamp())
    if token.user is not None:
        data["sub"] = sub_for(token.user, token.application)
        data["username"] = token.user.get_username()
    if token.resource:
        data["aud"] = token.resource
    return data


class IntrospectionView(FormEndpointMixin, View):
    """RFC 7662: a confidential client may introspect its own tokens; a resource server, any token."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            client = authenticated_client(request)
        except OAuth2Error as error:
            return oauth_error(error.error, error.description, error.status_code)
        if client is None:
            response = oauth_error("invalid_client", "Client authentication failed.", 401)
            response["WWW-Authenticate"] = 'Basic realm="introspection"'
            return response
        value = request.POST.get("token")
        if not value:
            return oauth_error("invalid_request", "The token parameter is missing.")
        token = _find_token(value, request.POST.get("token_type_hint"))
        if token is None or (not client.is_resource_server and token.application_id != client.pk):
            return _json({"active": False})
        return _json(_describe(token) or {"active": False})


class IdpRevokeTokenView(FormEndpointMixin, RevokeTokenView):
    """DOT's RFC 7009 endpoint, with JSON refusals and the RFC 6749 §5.2 ``invalid_client`` challenge."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return challenge_for_client_authentication(request, super().post(request, *args, **kwargs))


class IdpTokenView(FormEndpointMixin, TokenView):
    """DOT's token endpoint for the grant types we offer, announcing ``app_authorized`` only for a token
    that still exists.

    DOT reads the new access token back with ``.get()``: when a concurrent replay of the refresh
    token has just revoked the whole family (reuse detection), that read fails and DOT answers 500.
    The read is skipped entirely while nothing listens to the signal. DOT also answers the device
    grant before authenticating the client (a 500 without ``device_code``): a grant type that is not
    in ``OAUTH2_GRANT_TYPES_SUPPORTED`` is ``unsupported_grant_type``, whoever asks.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        grant_type = request.POST.get("grant_type")
        if not grant_type:
            return oauth_error("invalid_request", "The grant_type parameter is missing.")
        if grant_type not in oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED:
            return oauth_error("unsupported_grant_type", "This grant type is not supported here.")
        return self.authorization_flow_token_response(request, *args, **kwargs)

    def authorization_flow_token_response(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            _url, headers, body, status = self.create_token_response(request)
        except SigningKeyUnavailable as exc:  # raised before anything is saved (idp.keys.sign_jwt)
            logger.error("Token request refused: %s", exc)
            return oauth_error(
                "temporarily_unavailable", "No signing key is available; try again later.", 503
            )
        if status == 200 and app_authorized.has_listeners():
            value = json.loads(body).get("access_token")
            token = (
                get_access_token_model().objects.filter(token_checksum=checksum(value)).first()
                if value
                else None
            )
            if token is not None:
                app_authorized.send(sender=self, request=request, token=token)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        if "Content-Type" not in headers:
            # An error raised while saving (a replay lost to a concurrent use, RFC 8707's
            # invalid_target) reaches DOT without oauthlib's JSON headers (RFC 6749 §5.2).
            response["Content-Type"] = "application/json"
            response["Cache-Control"] = "no-store"
        return challenge_for_client_authentication(request, response)
