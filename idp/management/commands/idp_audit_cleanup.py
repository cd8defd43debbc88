"""Remove audit events older than the retention period (IDP['AUDIT_RETENTION_DAYS'])."""

from django.core.management.base import BaseCommand

from idp.audit import delete_expired_events
from idp.conf import idp_settings


class Command(BaseCommand):
    help = "Delete audit events older than IDP['AUDIT_RETENTION_DAYS'] days (run it daily, e.g. from cron)."

    def handle(self, *args, **options):
        deleted = delete_expired_events()
        self.stdout.write(
            f"Deleted {deleted} audit events older than {idp_settings.AUDIT_RETENTION_DAYS} days."
        )
