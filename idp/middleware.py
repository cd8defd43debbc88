"""Middleware of the provider: request ids, credential endpoints past the browser's middleware, CSP."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from . import logs
from .conf import idp_settings


class _ViewOnlyHandler(BaseHandler):
    """Django's own request handling inside the middleware: resolve the URL, call and render the view."""

    def __init__(self):
        super().__init__()
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []


# DOT's endpoints (namespace ``oauth2_provider``) that a client or a bearer token authenticates.
CREDENTIAL_ENDPOINTS = ("token", "revoke-token", "introspect", "user-info")


def credential_endpoint_paths() -> tuple[frozenset[str], str]:
    """What CredentialEndpointsMiddleware answers itself: these paths, and every path under the API's
    prefix (``/api/v1/``). System check idp.E009 checks the views they resolve to."""
    paths = frozenset(reverse(f"oauth2_provider:{name}") for name in CREDENTIAL_ENDPOINTS)
    return paths, reverse("idp-api:me").rpartition("/")[0] + "/"


class CredentialEndpointsMiddleware:
    """Endpoints whose callers bring their own credentials skip the browser's middleware.

    The token, revocation, introspection and userinfo endpoints and the resource API (``/api/v1/``)
    authenticate a client secret or a bearer token and never act on a cookie: no session, CSRF token,
    signed-in person, flash message or sign-in lockout concerns them. For them this middleware calls
    the view itself, and the session, CSRF, authentication, messages and django-axes middleware
    below it are not run; every other request goes on down the chain. ``request.user`` is anonymous
    there, whatever cookie came along. Optional: a project that lists it places it after
    RequestIdMiddleware and the security headers' middleware, before SessionMiddleware (system check
    idp.E010).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.call_view = convert_exception_to_response(_ViewOnlyHandler()._get_response)
        self.paths: frozenset[str] | None = None
        self.prefix = ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.paths is None:
            self.paths, self.prefix = credential_endpoint_paths()
        path = request.path_info
        if path not in self.paths and not path.startswith(self.prefix):
            return self.get_response(request)
        request.user = AnonymousUser()
        response = self.call_view(request)
        # What CommonMiddleware below would have added.
        if not response.streaming and "Content-Length" not in response:
            response["Content-Length"] = str(len(response.content))
        return response


class SecurityHeadersMiddleware:
    """Adds ``IDP['CONTENT_SECURITY_POLICY']`` to every response that does not carry its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = idp_settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


class RequestIdMiddleware:
    """Gives every request a random id: ``request.request_id``, on its log lines, in ``X-Request-ID``.

    The response header is what the access log prints (gunicorn's ``%({x-request-id}o)s``) and the
    error page shows as its reference, so an operator finds a request's traceback from either. Place it
    first, above every middleware that can answer or fail (CredentialEndpointsMiddleware included).
    """

    header = "X-Request-ID"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = logs.start_request()
        response = self.get_response(request)
        response[self.header] = request.request_id
        return response
