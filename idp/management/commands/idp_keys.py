"""Signing keys for operators: generate a key file, or show the published key ids."""

import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from jwcrypto import jwk

from idp.audit import Event, record
from idp.keys import generate_private_key_pem, jwks_document, kid_of


class Command(BaseCommand):
    help = "Generate an RSA signing key (`generate --out FILE`) or list the published keys (`list`)."
    # A site generates its first key before it has one to configure: the checks would refuse it.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        generate = sub.add_parser("generate", help="Write a new 2048-bit RSA private key (PEM, mode 0600).")
        generate.add_argument("--out", type=Path, required=True)
        sub.add_parser("list", help="Print the key ids and algorithms published in JWKS.")

    def handle(self, *args, action, **options):
        if action == "generate":
            out: Path = options["out"]
            if out.exists():
                raise CommandError(f"{out} exists; refusing to overwrite a key.")
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            pem = generate_private_key_pem()
            with os.fdopen(fd, "w") as fh:
                fh.write(pem)
            try:
                record(Event.KEY_GENERATED, kid=kid_of(jwk.JWK.from_pem(pem.encode())), file=str(out))
            except DatabaseError:  # generating a key needs no database; the audit trail does
                self.stderr.write("Note: no database to record this in the audit log.")
            self.stdout.write(f"Wrote {out}. Point IDP_SIGNING_KEY_FILE at it.")
        else:
            for key in json.loads(jwks_document())["keys"]:
                self.stdout.write(f"{key['kid']}  {key['alg']}  {key['use']}")
