"""People's browser sessions (ended by an operator, with back-channel logouts) and the logout outbox."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import ngettext

from ..browser_sessions import end_browser_session
from ..logout.models import LogoutDelivery
from ..session_models import BrowserSession
from ..user_agents import describe_user_agent
from .common import USER_FILTER


class LiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("1", "Live"), ("0", "Ended")]

    def queryset(self, request, queryset):
        if self.value() in {"0", "1"}:
            return queryset.filter(ended__isnull=self.value() == "1")
        return queryset


@admin.register(BrowserSession)
class BrowserSessionAdmin(admin.ModelAdmin):
    """Where each person is signed in; ending a session signs that browser out and tells its apps."""

    list_display = ("user", "device", "ip_address", "created", "last_active", "amr", "ended")
    list_filter = (LiveFilter, USER_FILTER)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "sid", "ip_address")
    fields = ("user", "sid", "device", "user_agent", "ip_address", "amr", "created", "last_active", "ended")
    readonly_fields = fields
    actions = ("end_sessions",)

    @admin.display(description="device")
    def device(self, obj) -> str:
        return describe_user_agent(obj.user_agent)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # end instead: it signs the browser out, tells the apps, and is recorded

    def has_end_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.action(description="End selected sessions (and send back-channel logouts)", permissions=["end"])
    def end_sessions(self, request, queryset):
        count = sum(
            end_browser_session(row, reason="ended by an operator", actor=request.user, request=request)
            for row in queryset.select_related("user")
        )
        self.message_user(request, ngettext("Ended %d session.", "Ended %d sessions.", count) % count)


@admin.register(LogoutDelivery)
class LogoutDeliveryAdmin(admin.ModelAdmin):
    """The logout tokens owed to relying parties: delivered, pending (with the last error) or given up."""

    list_display = (
        "application",
        "user",
        "sid",
        "created",
        "attempts",
        "next_attempt",
        "delivered",
        "given_up",
    )
    list_filter = ("application",)
    list_select_related = ("application", "user")
    readonly_fields = [field.name for field in LogoutDelivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
