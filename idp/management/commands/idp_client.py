"""Clients for automation: create, list, rotate-secret, disable, enable, and import a declarative file."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.models import get_application_model

from idp.admin.integration import integration_settings
from idp.client_import import apply_client_specs
from idp.clients import KINDS, create_client, rotate_client_secret, set_client_active


def _describe(client) -> dict:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "kind": client.kind,
        "active": client.is_active,
        "first_party": client.skip_authorization,
        "require_second_factor": client.require_second_factor,
        "redirect_uris": client.redirect_uris.split(),
        "allowed_scopes": client.allowed_scopes.split(),
        "access_token_lifetime": client.access_token_lifetime,
    }


class Command(BaseCommand):
    help = (
        "Manage OAuth clients: create, list, rotate-secret, disable, enable, import FILE. "
        "A secret is printed once, when it is created or rotated."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Register a client of a kind.")
        create.add_argument("--kind", choices=list(KINDS), required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--client-id", help="Default: a generated one.")
        create.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        create.add_argument(
            "--post-logout-redirect-uri", action="append", default=[], dest="post_logout_redirect_uris"
        )
        create.add_argument("--origin", action="append", default=[], dest="allowed_origins")
        create.add_argument("--scope", action="append", default=[], dest="allowed_scopes")
        create.add_argument("--first-party", action="store_true", help="Skip the consent page.")
        create.add_argument(
            "--require-second-factor", action="store_true", help="People must give a second factor."
        )
        create.add_argument("--access-token-lifetime", type=int, help="Seconds (300 to 86400).")
        sub.add_parser("list", help="List the clients.")
        rotate = sub.add_parser("rotate-secret", help="Give a client a new secret, printed once.")
        rotate.add_argument("client_id")
        rotate.add_argument(
            "--grace-period", type=int, default=0, help="Seconds the old secret keeps working (default 0)."
        )
        for name, text in (("disable", "Disable a client and revoke its tokens."), ("enable", "Enable it.")):
            sub.add_parser(name, help=text).add_argument("client_id")
        imp = sub.add_parser("import", help="Create or update the clients of a JSON file (idempotent).")
        imp.add_argument("file", type=Path)
        for parser_ in sub.choices.values():
            parser_.add_argument("--json", action="store_true", help="Machine-readable output.")

    def handle(self, *args, action, **options):
        try:
            result = getattr(self, "do_" + action.replace("-", "_"))(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write(self.as_text(action, result))

    def client(self, client_id: str):
        client = get_application_model().objects.filter(client_id=client_id).first()
        if client is None:
            raise CommandError(f"No client with client_id {client_id!r}.")
        return client

    def do_create(self, *, kind, name, client_id, first_party, require_second_factor, **options) -> dict:
        client, secret = create_client(
            kind=kind,
            name=name,
            client_id=client_id,
            skip_authorization=first_party,
            require_second_factor=require_second_factor,
            **{
                key: options[key]
                for key in (
                    "redirect_uris",
                    "post_logout_redirect_uris",
                    "allowed_origins",
                    "allowed_scopes",
                    "access_token_lifetime",
                )
            },
        )
        return {**_describe(client), "integration": integration_settings(client, secret=secret)}

    def do_list(self, **options) -> list:
        return [_describe(c) for c in get_application_model().objects.order_by("client_id")]

    def do_rotate_secret(self, *, client_id, grace_period, **options) -> dict:
        client = self.client(client_id)
        secret = rotate_client_secret(client, grace_seconds=grace_period)
        return {
            "client_id": client.client_id,
            "client_secret": secret,
            "previous_secret_valid_until": (
                client.previous_client_secret_expires.isoformat()
                if client.previous_client_secret_expires
                else None
            ),
        }

    def do_disable(self, *, client_id, **options) -> dict:
        client = self.client(client_id)
        changed = set_client_active(client, False)
        return {"client_id": client.client_id, "active": False, "changed": changed}

    def do_enable(self, *, client_id, **options) -> dict:
        client = self.client(client_id)
        changed = set_client_active(client, True)
        return {"client_id": client.client_id, "active": True, "changed": changed}

    def do_import(self, *, file, **options) -> list:
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        specs = data.get("clients") if isinstance(data, dict) else data
        if not isinstance(specs, list):
            raise CommandError(f"{file}: expected a list of clients, or an object with a 'clients' list.")
        results = apply_client_specs(specs)
        return [
            {
                "client_id": r.client_id,
                "action": r.action,
                "changed": r.changed,
                **({"client_secret": r.secret} if r.secret else {}),
            }
            for r in results
        ]

    def as_text(self, action: str, result) -> str:
        if action == "list":
            rows = [
                f"{c['client_id']}  {c['kind']:<8} {'active' if c['active'] else 'DISABLED':<8} {c['name']}"
                for c in result
            ]
            return "\n".join(rows) or "No clients."
        if action == "import":
            lines = []
            for r in result:
                line = f"{r['client_id']}: {r['action']}"
                if r["changed"]:
                    line += f" ({', '.join(r['changed'])})"
                if r.get("client_secret"):
                    line += f"\n  client secret (shown once): {r['client_secret']}"
                lines.append(line)
            return "\n".join(lines)
        if action == "create":
            lines = [f"Created {result['kind']} client {result['client_id']}."]
            integration = result["integration"]
            secret = integration.get("client_secret", "")
            if secret and not secret.startswith("<"):
                lines.append(f"Client secret (shown once, stored hashed): {secret}")
            lines += [f"  {key}: {value}" for key, value in integration.items() if key != "client_secret"]
            return "\n".join(lines)
        if action == "rotate-secret":
            text = (
                f"New secret for {result['client_id']} (shown once, stored hashed): {result['client_secret']}"
            )
            if result["previous_secret_valid_until"]:
                text += f"\nThe previous secret works until {result['previous_secret_valid_until']}."
            return text
        state = "active" if result["active"] else "disabled (its tokens are revoked)"
        return f"{result['client_id']} is {state}."
