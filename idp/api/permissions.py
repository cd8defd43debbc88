"""Scope-based permission policies for the API's views."""

from __future__ import annotations

from oauth2_provider.contrib.rest_framework import TokenHasScope
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission

from .authentication import bearer_challenge


class InsufficientScope(APIException):
    """A valid token without the scope the endpoint needs (RFC 6750 §3.1)."""

    status_code = 403
    default_code = "insufficient_scope"

    def __init__(self, scopes: list[str], detail: str | None = None):
        self.scope = " ".join(scopes)
        super().__init__(detail or f"This request needs a token with the scope: {self.scope}.")
        self.auth_header = bearer_challenge(realm="api", error="insufficient_scope", scope=self.scope)


class IdpTokenHasScope(TokenHasScope):
    """Allows tokens carrying every scope in the view's ``required_scopes``; others get 403 with the scope."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            return False  # no valid token at all: DRF answers 401
        if super().has_permission(request, view):
            return True
        raise InsufficientScope(self.get_scopes(request, view))


class TokenForPerson(BasePermission):
    """Allows tokens issued for a person, not a service's own client-credentials token."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            return False
        if request.user is None or not request.user.is_authenticated:
            raise InsufficientScope(view.required_scopes, "This request needs a token issued for a person.")
        return True
