"""Remembered consents: what people allowed which clients, revocable by an operator."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import ngettext

from ..consent import revoke_consent
from ..models import Consent
from .common import USER_FILTER


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """What people allowed which clients; revoking also revokes the client's tokens for them."""

    list_display = ("user", "application", "scopes", "created", "updated")
    list_filter = ("application", USER_FILTER)
    list_select_related = ("user", "application")
    search_fields = ("user__username", "user__email", "application__client_id", "application__name")
    readonly_fields = ("user", "application", "scopes", "claims", "created", "updated")
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: it also revokes the tokens and is recorded

    def has_revoke_permission(self, request) -> bool:
        """Revoking deletes the consent: it needs the model's delete permission."""
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    @admin.action(
        description="Revoke selected consents (and the client's tokens for those people)",
        permissions=["revoke"],
    )
    def revoke(self, request, queryset):
        count = sum(
            revoke_consent(c.user, c.application, actor=request.user, request=request) for c in queryset
        )
        self.message_user(request, ngettext("Revoked %d consent.", "Revoked %d consents.", count) % count)
