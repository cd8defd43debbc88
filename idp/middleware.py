"""Security headers the rest of Django does not set: Content-Security-Policy on every response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .conf import idp_settings


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
