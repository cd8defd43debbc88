"""The audit trail in the admin: listed, filtered and searched, never changed."""

from __future__ import annotations

from django.contrib import admin

from ..models import AuditEvent
from .common import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail, read-only."""

    list_display = ("time", "event", "actor_name", "client_identifier", "ip_address", "details")
    list_filter = ("event", "time", ("client", admin.RelatedOnlyFieldListFilter))
    search_fields = ("actor_name", "client_identifier", "ip_address")
    date_hierarchy = "time"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
