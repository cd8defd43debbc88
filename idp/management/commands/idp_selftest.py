"""Run the OpenID Foundation certification checks (Basic, Config, RP-Initiated Logout) against a deployment.

The checks themselves live in the ``oidc_selftest`` package at the top of the repository, outside the
reusable app and its wheel; this command parses arguments and prints one line per module, then
``N passed, M failed[, K skipped]``. Exit status 1 if any module failed. Run it from a checkout
(``manage.py`` puts the checkout on ``sys.path``), or put a checkout on ``PYTHONPATH``.

Secrets can come from the environment instead of the command line (which other local users may see):
``IDP_SELFTEST_CLIENT_SECRET``, ``IDP_SELFTEST_CLIENT2_SECRET``, ``IDP_SELFTEST_PASSWORD``.

``--trace`` writes every HTTP request and response to standard error (secrets masked), so that the
result lines on standard output stay one per module.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

try:
    from oidc_selftest.runner import PLANS, Config, Result, Status, run_selftest, select_modules, summary_line
except ImportError as exc:  # idp installed as a package, without the repository around it
    if exc.name != "oidc_selftest":
        raise
    SELFTEST_MISSING = (
        "idp_selftest needs the oidc_selftest package, which is not part of the installed idp app: "
        "run manage.py from a checkout of the repository, or put that checkout on PYTHONPATH."
    )
else:
    SELFTEST_MISSING = ""


class Command(BaseCommand):
    help = (
        "Verify a running deployment over HTTP, as an independent relying party, with the checks of the "
        "OpenID Foundation Basic OP, Config OP and RP-Initiated Logout OP certification plans."
    )
    # The provider under test is remote: this installation's own checks and database are irrelevant.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        if SELFTEST_MISSING:
            raise SystemExit(SELFTEST_MISSING)
        defaults = Config(issuer="")
        env = os.environ.get
        parser.add_argument("--issuer", required=True, help="The issuer URL, e.g. https://id.example.com")
        parser.add_argument("--client-id", default=defaults.client_id)
        parser.add_argument(
            "--client-secret",
            default=env("IDP_SELFTEST_CLIENT_SECRET", defaults.client_secret),
            help="default: $IDP_SELFTEST_CLIENT_SECRET or the demo secret",
        )
        parser.add_argument("--client2-id", default=defaults.client2_id)
        parser.add_argument(
            "--client2-secret",
            default=env("IDP_SELFTEST_CLIENT2_SECRET", defaults.client2_secret),
            help="default: $IDP_SELFTEST_CLIENT2_SECRET or the demo secret",
        )
        parser.add_argument("--username", default=defaults.username)
        parser.add_argument(
            "--password",
            default=env("IDP_SELFTEST_PASSWORD", defaults.password),
            help="default: $IDP_SELFTEST_PASSWORD or the demo password",
        )
        parser.add_argument(
            "--redirect-uri",
            default=defaults.redirect_uri,
            help="registered for both clients; nothing needs to listen there",
        )
        parser.add_argument(
            "--post-logout-redirect-uri",
            default=defaults.post_logout_redirect_uri,
            help="registered for the first client",
        )
        parser.add_argument(
            "--backchannel-logout-uri",
            default=defaults.backchannel_logout_uri,
            help="registered for the first client; --plan backchannel listens there for logout tokens",
        )
        parser.add_argument(
            "--approve-button",
            metavar="NAME_OR_LABEL",
            help="the consent (and sign-out confirmation) button to press, by name, id or label, "
            "for pages where it cannot be recognised",
        )
        parser.add_argument(
            "--username-field", metavar="NAME", help="the login form's username field, if not recognisable"
        )
        parser.add_argument(
            "--login-origin",
            metavar="ORIGIN",
            action="append",
            default=[],
            help="an origin besides the provider's that may receive the password, for a login page "
            "hosted elsewhere on purpose, e.g. https://login.example.com (repeatable)",
        )
        parser.add_argument(
            "--allow-metadata",
            metavar="MEMBER",
            action="append",
            default=[],
            help="a discovery member published on purpose, not to be warned about (repeatable)",
        )
        parser.add_argument(
            "--trace",
            action="store_true",
            help="print each HTTP request and response to standard error, secrets masked",
        )
        parser.add_argument(
            "--device-client-id",
            default=defaults.device_client_id,
            help="the device plan's client (RFC 8628)",
        )
        parser.add_argument("--device-client-secret", help="for a confidential device client")
        parser.add_argument(
            "--plan",
            choices=[*PLANS, "all"],
            default="all",
            help="all: the three OpenID Foundation plans; backchannel: Back-Channel Logout (run on its "
            "own: the provider must reach --backchannel-logout-uri); device: RFC 8628 (run on its own)",
        )
        parser.add_argument("--only", metavar="MODULE_ID", help="run a single module")
        parser.add_argument(
            "--slow", action="store_true", help="really wait 30 s in oidcc-codereuse-30seconds"
        )
        parser.add_argument(
            "--timeout", type=float, default=defaults.request_timeout, help="seconds per HTTP request"
        )
        parser.add_argument(
            "--max-time",
            type=float,
            default=defaults.max_time,
            help="seconds for the whole run (30 more with --slow)",
        )

    def trace(self, text: str) -> None:
        self.stderr.write(text, style_func=lambda line: line, ending="")
        self.stderr.flush()

    def handle(self, *args, **options) -> None:
        try:
            modules = select_modules(options["plan"], options["only"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        issuer = options["issuer"]
        if not issuer.startswith(("https://", "http://")):
            raise CommandError(f"--issuer must be an http(s) URL, not {issuer!r}")
        for origin in options["login_origin"]:
            if not origin.startswith(("https://", "http://")):
                raise CommandError(f"--login-origin must be an http(s) origin, not {origin!r}")
        config = Config(
            issuer=issuer,
            client_id=options["client_id"],
            client_secret=options["client_secret"],
            client2_id=options["client2_id"],
            client2_secret=options["client2_secret"],
            username=options["username"],
            password=options["password"],
            redirect_uri=options["redirect_uri"],
            post_logout_redirect_uri=options["post_logout_redirect_uri"],
            backchannel_logout_uri=options["backchannel_logout_uri"],
            device_client_id=options["device_client_id"],
            device_client_secret=options["device_client_secret"],
            slow=options["slow"],
            request_timeout=options["timeout"],
            max_time=options["max_time"],
            approve_button=options["approve_button"],
            username_field=options["username_field"],
            login_origins=tuple(options["login_origin"]),
            allowed_metadata=tuple(options["allow_metadata"]),
            trace=self.trace if options["trace"] else None,
        )

        def report(result: Result) -> None:
            self.stdout.write(result.line())
            self.stdout.flush()

        results = run_selftest(config, modules, report)
        self.stdout.write(summary_line(results))
        if any(result.status is Status.FAIL for result in results):
            raise SystemExit(1)
