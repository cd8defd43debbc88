"""The token endpoint, and token introspection (RFC 7662) limited to each client's own tokens."""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import TokenView
from oauthlib.common import Request as OauthlibRequest

from .. import hot_path
from ..conf import idp_settings


def authenticated_client(request: HttpRequest):
    """The client that authenticated this request with its secret (basic or post), or None."""
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


def _find_token(value: str, hint: str | None):
    checksum = hashlib.sha256(value.encode()).hexdigest()
    lookups = [hot_path.ACCESS_TOKEN, hot_path.REFRESH_TOKEN]
    for query in lookups if hint != "refresh_token" else reversed(lookups):
        token = query.first(checksum)
        if token is not None:
            return token
    return None


def _describe(token) -> dict | None:
    """The introspection answer for a live token, or None if it is expired or revoked."""
    is_refresh = hasattr(token, "token_family")
    if is_refresh:
        if token.revoked is not None or token.access_token is None:
            return None
        expires = None
        scope = token.access_token.scope
    else:
        if token.is_expired():
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
        data["sub"] = str(token.user.sub)
        data["username"] = token.user.get_username()
    if token.resource:
        data["aud"] = token.resource
    return data


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectionView(View):
    """RFC 7662: a confidential client may introspect its own tokens; a resource server, any token."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        client = authenticated_client(request)
        if client is None:
            response = _json(
                {"error": "invalid_client", "error_description": "Client authentication failed."}, 401
            )
            response["WWW-Authenticate"] = 'Basic realm="introspection"'
            return response
        value = request.POST.get("token")
        if not value:
            return _json(
                {"error": "invalid_request", "error_description": "The token parameter is missing."}, 400
            )
        token = _find_token(value, request.POST.get("token_type_hint"))
        if token is None or (not client.is_resource_server and token.application_id != client.pk):
            return _json({"active": False})
        return _json(_describe(token) or {"active": False})


class IdpTokenView(TokenView):
    """DOT's token endpoint, announcing ``app_authorized`` only for a token that still exists.

    DOT reads the new access token back with ``.get()``: when a concurrent replay of the refresh
    token has just revoked the whole family (reuse detection), that read fails and DOT answers 500.
    The read is skipped entirely while nothing listens to the signal.
    """

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        _url, headers, body, status = self.create_token_response(request)
        if status == 200 and app_authorized.has_listeners():
            value = json.loads(body).get("access_token")
            token = (
                get_access_token_model()
                .objects.filter(token_checksum=hashlib.sha256(value.encode()).hexdigest())
                .first()
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
        return response
