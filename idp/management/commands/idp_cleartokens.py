"""Remove expired codes, access, refresh and ID tokens in short batches (run it hourly, e.g. from cron)."""

from django.core.management.base import BaseCommand

from idp.browser_sessions import forget_old_sessions
from idp.cleanup import clear_expired


class Command(BaseCommand):
    help = (
        "Delete expired codes, access, refresh and ID tokens, CLEAR_EXPIRED_TOKENS_BATCH_SIZE rows per "
        "short transaction (what DOT's cleartokens deletes, without its count before every batch)."
    )

    def handle(self, *args, **options):
        counts = clear_expired()
        counts["old session records"] = forget_old_sessions()
        self.stdout.write("Deleted " + ", ".join(f"{n} {label}" for label, n in counts.items()) + ".")
