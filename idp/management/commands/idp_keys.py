"""Signing keys for operators: rotate, advance on schedule, list; generate a key file or a KEK."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from jwcrypto import jwk

from idp.audit import Event, record
from idp.key_storage import generate_kek
from idp.keys import generate_private_key_pem, kid_of

EMERGENCY_WARNING = (
    "EMERGENCY ROTATION: the old {alg} key {kid} is withdrawn from JWKS now. Every unexpired ID token it "
    "signed stops verifying (relying parties sign those people out; id_token_hint logouts with them "
    "fail), and a relying party that cached JWKS rejects new tokens until it fetches JWKS again. A next "
    "{alg} key waiting to sign is withdrawn as well."
)


class Command(BaseCommand):
    help = (
        "Rotate the signing key (`rotate [--alg ES256] [--emergency]`), advance key states on schedule "
        "(`advance`, from cron with idp_cleartokens), list the keys (`list`), write a PEM key file "
        "(`generate --out FILE`) or print a new key-encryption key (`kek`)."
    )
    # A site generates its first key before it has one to configure: the checks would refuse it.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser(
            "rotate", help="Publish a new key now; it signs after the pre-publication period."
        )
        rotate.add_argument("--alg", choices=["RS256", "ES256"], default="RS256")
        rotate.add_argument(
            "--emergency", action="store_true", help="A compromised key: the new key signs at once, the old "
            "one leaves JWKS at once (its unexpired tokens stop verifying).",
        )  # fmt: skip
        rotate.add_argument("--yes", action="store_true", help="Do not ask before an emergency rotation.")
        sub.add_parser(
            "advance", help="Activate due next keys, retire what they replace, remove expired ones."
        )
        sub.add_parser(
            "list", help="Print every key: kid, algorithm, state and schedule (no private material)."
        )
        generate = sub.add_parser(
            "generate", help="Write a new private key (PEM, mode 0600) for IDP_SIGNING_KEY_FILE."
        )
        generate.add_argument("--out", type=Path, required=True)
        generate.add_argument("--alg", choices=["RS256"], default="RS256")
        sub.add_parser("kek", help="Print a new key-encryption key for IDP_KEY_ENCRYPTION_KEY.")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_kek(self, **options):
        self.stdout.write(generate_kek())

    def handle_generate(self, *, out: Path, **options):
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

    def handle_rotate(self, *, alg: str, emergency: bool, yes: bool, **options):
        from idp.key_rotation import emergency_rotate, prepublication_period, rotate_key
        from idp.key_set import current_key_set

        try:
            if emergency:
                signer = current_key_set().signers.get(alg)
                self.stderr.write(EMERGENCY_WARNING.format(alg=alg, kid=signer.kid if signer else "(none)"))
                if not yes and _confirmation() != "yes":
                    raise CommandError("Not rotated.")
                key = emergency_rotate(alg=alg)
                self.stdout.write(f"{key.alg} key {key.kid} signs now.")
                return
            key = rotate_key(alg=alg)
        except (ValidationError, ImproperlyConfigured) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        if key.state == key.State.ACTIVE:
            self.stdout.write(f"{key.alg} key {key.kid} signs now (no {alg} key signed before).")
        else:
            self.stdout.write(
                f"{key.alg} key {key.kid} is published; it signs from {key.activates_at:%Y-%m-%d %H:%M:%S} "
                f"UTC ({prepublication_period()} from now), when `idp_keys advance` runs."
            )

    def handle_advance(self, **options):
        from idp.key_rotation import advance_keys

        changes = advance_keys()
        for change in changes:
            line = f"{change.alg} key {change.kid} {change.change}"
            if change.change.startswith("not "):
                self.stderr.write(line)
            else:
                self.stdout.write(f"{line}.")
        if not changes:
            self.stdout.write("No key changes due.")

    def handle_list(self, **options):
        from idp.key_rotation import describe_keys

        def when(value) -> str:
            return f"{value:%Y-%m-%d %H:%M}" if value else "-"

        self.stdout.write("kid  alg  state  source  created  activates  retires  removed-from-jwks")
        for row in describe_keys():
            state = row["state"] + ("*" if row["signing"] else "")
            self.stdout.write(
                f"{row['kid']}  {row['alg']}  {state}  {row['source']}  {when(row['created'])}  "
                f"{when(row['activates_at'])}  {when(row['retires_at'])}  {when(row['removes_at'])}"
            )
        self.stdout.write("(* signs new tokens)")


def _confirmation() -> str:
    """What the operator typed at the prompt; nothing when there is no terminal (cron: pass --yes)."""
    try:
        return input("Type 'yes' to go on: ").strip()
    except EOFError:
        return ""
