"""Deliver owed back-channel logout tokens: continuously (a service), or one pass with --once (cron)."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from idp.logout.outbox import deliver_due


class Command(BaseCommand):
    help = (
        "POST the logout tokens owed to relying parties (idp.logout), retrying failures with backoff. "
        "Runs until stopped, polling every --interval seconds; --once makes one pass (for cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass over what is due, then exit.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between passes (default 2).")
        parser.add_argument("--batch", type=int, default=100, help="Rows per pass (default 100).")

    def handle(self, *args, once, interval, batch, **options):
        stopping = []
        if not once:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stopping.append(True))
        while True:
            close_old_connections()
            delivered, failed = deliver_due(limit=batch)
            if delivered or failed or once:
                self.stdout.write(f"Logout tokens: {delivered} delivered, {failed} failed (retried later).")
            if once or stopping:
                return
            if delivered + failed < batch:  # caught up: wait; otherwise go straight on
                deadline = time.monotonic() + interval
                while time.monotonic() < deadline and not stopping:
                    time.sleep(min(0.2, interval))
