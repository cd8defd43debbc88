"""Tokens and codes (shown masked), filterable by person and client; revoking is recorded.

DOT registers its token models with the classes named in ``OAUTH2_PROVIDER`` (``*_ADMIN_CLASS``,
set in ``idp.conf``): these subclasses.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import ngettext
from oauth2_provider.admin import AccessTokenAdmin, GrantAdmin, IDTokenAdmin, RefreshTokenAdmin

from ..tokens import revoke_by_operator
from .common import USER_FILTER


class IdpAccessTokenAdmin(AccessTokenAdmin):
    """Access tokens (shown masked), filterable by client and person; revoking is recorded."""

    list_display = ("pk", "masked_token", "user", "application", "scope", "expires")
    list_filter = ("application", USER_FILTER, "expires")

    @admin.action(description="Revoke selected access tokens", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        tokens = queryset.select_related("application", "user")
        revoked = sum(revoke_by_operator(token, actor=request.user, request=request) for token in tokens)
        self.message_user(
            request, ngettext("Revoked %d access token.", "Revoked %d access tokens.", revoked) % revoked
        )


class IdpRefreshTokenAdmin(RefreshTokenAdmin):
    """Refresh tokens (shown masked), filterable by client, person and state; revoking is recorded."""

    list_display = ("pk", "masked_token", "user", "application", "created", "revoked")
    list_filter = ("application", USER_FILTER, ("revoked", admin.EmptyFieldListFilter))

    @admin.action(description="Revoke selected refresh tokens", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        tokens = queryset.filter(revoked__isnull=True).select_related("application", "user")
        revoked = sum(revoke_by_operator(token, actor=request.user, request=request) for token in tokens)
        self.message_user(
            request, ngettext("Revoked %d refresh token.", "Revoked %d refresh tokens.", revoked) % revoked
        )


class IdpGrantAdmin(GrantAdmin):
    """Authorization codes (shown masked), filterable by client and person."""

    list_display = ("pk", "masked_code", "application", "user", "expires", "used_at")
    list_filter = ("application", USER_FILTER)
    actions = ("revoke_codes",)

    @admin.action(
        description="Revoke selected codes and every token issued from them", permissions=["delete"]
    )
    def revoke_codes(self, request, queryset):
        codes = queryset.select_related("application", "user")
        count = sum(revoke_by_operator(grant, actor=request.user, request=request) for grant in codes)
        self.message_user(request, ngettext("Revoked %d code.", "Revoked %d codes.", count) % count)


class IdpIDTokenAdmin(IDTokenAdmin):
    """Issued ID tokens by ``jti``, filterable by client and person."""

    list_filter = ("application", USER_FILTER)
