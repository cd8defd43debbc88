"""Middleware of the provider: metadata answered early, and the security headers Django lacks."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .conf import idp_settings
from .views import oidc


class WellKnownDocumentsMiddleware:
    """Discovery, RFC 8414 metadata and JWKS need no session, user or CSRF: serve them first.

    Optional (the same views are also routed normally); place it right after SecurityMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.documents: dict[str, Callable[[HttpRequest], HttpResponse]] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.documents is None:
            self.documents = {
                reverse("oauth2_provider:oidc-connect-discovery-info"): oidc.openid_configuration,
                reverse("oauth2_provider:oauth-server-metadata"): oidc.oauth_authorization_server,
                reverse("oauth2_provider:jwks-info"): oidc.jwks,
            }
        view = self.documents.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)


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
