"""CORS at the token endpoint: who may read its answers from a browser, decided here alone.

oauthlib decides in ``GrantTypeBase._create_cors_headers``: only for an ``https`` origin (its
``is_secure_transport``, unless the process-wide ``OAUTHLIB_INSECURE_TRANSPORT`` is set), only on a
successful authorization-code or refresh answer, and DOT adds no preflight handling (``OPTIONS``
is a bare 200). So a development single-page app on ``http://127.0.0.1:8765`` could not read its
tokens, and no SPA could read an ``invalid_grant`` telling it to sign in again. Here: an origin
registered in a usable client's ``allowed_origins`` (DOT's model field), ``https`` or loopback
``http`` (the same rule as redirect URIs), may read every answer to that client's requests and
passes the preflight of a form POST. Any other origin gets no CORS header, whatever oauthlib said.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from oauth2_provider.models import get_application_model

from .conf import is_loopback_url
from .db import lookups

ALLOW_ORIGIN = "Access-Control-Allow-Origin"
# A form-encoded POST with client_id in the body, as RFC 6749 §4.1.3 has public clients send it.
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "POST",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


def origin_allowed(origin: str, *, client, request: HttpRequest) -> bool:
    """``origin`` is registered for ``client``, the client is usable, and the origin is https or loopback."""
    if client is None or not client.is_usable(request):
        return False
    if not (origin.startswith("https://") or (origin.startswith("http://") and is_loopback_url(origin))):
        return False
    return origin in client.allowed_origins.split()


def origin_registered(origin: str, *, request: HttpRequest) -> bool:
    """Some usable client allows ``origin``: a preflight names no client, so this is all it can ask."""
    candidates = get_application_model().objects.filter(allowed_origins__contains=origin)
    return any(origin_allowed(origin, client=client, request=request) for client in candidates)


def _requesting_client(request: HttpRequest):
    try:
        client_id = request.POST.get("client_id")
    except (BadRequest, SuspiciousOperation):  # an unreadable body: the view has answered it already
        return None
    return lookups.application(client_id)


def token_endpoint_cors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap the token view: answer CORS preflights, and set or drop ``Access-Control-Allow-Origin``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        origin = request.headers.get("Origin")
        if (
            origin
            and request.method == "OPTIONS"
            and "Access-Control-Request-Method" in request.headers
            and origin_registered(origin, request=request)
        ):
            response = HttpResponse(status=204)
            response[ALLOW_ORIGIN] = origin
            for name, value in PREFLIGHT_HEADERS.items():
                response[name] = value
            patch_vary_headers(response, ["Origin"])
            return response
        response = view(request, *args, **kwargs)
        if ALLOW_ORIGIN in response:
            del response[ALLOW_ORIGIN]
        if origin and request.method == "POST":
            if origin_allowed(origin, client=_requesting_client(request), request=request):
                response[ALLOW_ORIGIN] = origin
            patch_vary_headers(response, ["Origin"])
        return response

    return wrapped
