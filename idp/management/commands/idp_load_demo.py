"""Load the development-only demo users and clients (idempotent); refused on a non-loopback issuer."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from idp.conf import idp_settings, is_loopback_url
from idp.demo import load_demo_data, read_demo_file


class Command(BaseCommand):
    help = "Load the demo users and clients from fixtures/demo.json (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=None, help="Another demo file to load.")
        parser.add_argument(
            "--if-loopback",
            action="store_true",
            help="Load only on a loopback (development) issuer; do nothing, successfully, otherwise.",
        )

    def handle(self, *args, file=None, if_loopback=False, **options):
        if if_loopback and not is_loopback_url(idp_settings.ISSUER):
            self.stdout.write("Not a loopback issuer: demo data not loaded.")
            return
        if not is_loopback_url(idp_settings.ISSUER):
            raise CommandError(
                "Refusing to load demo credentials: "
                f"the issuer {idp_settings.ISSUER} is not a loopback address."
            )
        counts = load_demo_data(read_demo_file(file))
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded: {counts['users']} users, {counts['clients']} clients.")
        )
