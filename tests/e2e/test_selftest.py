"""``manage.py idp_selftest`` against the live provider: every module reports once, none fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from .live_server import _HOSTILE_ENV, REPO_ROOT, LiveIdp

pytestmark = pytest.mark.e2e

SELFTEST_TIMEOUT = 240.0

# The module ids of the three OpenID Foundation plans (../shared/reference/oidf-test-plans.md),
# written out here rather than read from oidc_selftest so that a module dropped there is noticed.
BASIC_OP = [
    "oidcc-server",
    "oidcc-response-type-missing",
    "oidcc-idtoken-signature",
    "oidcc-idtoken-unsigned",
    "oidcc-userinfo-get",
    "oidcc-userinfo-post-header",
    "oidcc-userinfo-post-body",
    "oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
    "oidcc-scope-profile",
    "oidcc-scope-email",
    "oidcc-scope-address",
    "oidcc-scope-phone",
    "oidcc-scope-all",
    "oidcc-alternate-happy-flow",
    "oidcc-display-page",
    "oidcc-display-popup",
    "oidcc-prompt-login",
    "oidcc-prompt-none-not-logged-in",
    "oidcc-prompt-none-logged-in",
    "oidcc-max-age-1",
    "oidcc-max-age-10000",
    "oidcc-ensure-request-with-unknown-parameter-succeeds",
    "oidcc-id-token-hint",
    "oidcc-login-hint",
    "oidcc-ui-locales",
    "oidcc-claims-locales",
    "oidcc-ensure-request-with-acr-values-succeeds",
    "oidcc-codereuse",
    "oidcc-codereuse-30seconds",
    "oidcc-ensure-registered-redirect-uri",
    "oidcc-ensure-post-request-succeeds",
    "oidcc-server-client-secret-post",
    "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
    "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
    "oidcc-claims-essential",
    "oidcc-ensure-request-object-with-redirect-uri",
    "oidcc-refresh-token",
    "oidcc-ensure-request-with-valid-pkce-succeeds",
]
CONFIG_OP = ["oidcc-discovery-endpoint-verification"]
RP_INITIATED_LOGOUT_OP = [
    "oidcc-rp-initiated-logout-discovery-endpoint-verification",
    "oidcc-rp-initiated-logout",
    "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-modified-id-token-hint",
    "oidcc-rp-initiated-logout-bad-id-token-hint",
    "oidcc-rp-initiated-logout-no-id-token-hint",
    "oidcc-rp-initiated-logout-no-params",
    "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-no-state",
    "oidcc-rp-initiated-logout-only-state",
    "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
]
ALL_MODULES = BASIC_OP + CONFIG_OP + RP_INITIATED_LOGOUT_OP

RESULT_LINE = re.compile(r"^(PASS|WARN|FAIL|SKIP) ([a-z0-9-]+)(?:: (.+))?$")
CLOSING_LINE = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")
SECRETS = ("demo-web-secret", "demo-web-2-secret", "alice-demo-password")


def run_selftest(live_idp: LiveIdp, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """The command as an operator runs it: its own process, only the issuer URL in common."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _HOSTILE_ENV and not key.startswith("IDP_SELFTEST_")
    }
    # Loading this checkout's settings must not touch the repository's database or var/keys.
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'unused.sqlite3'}",
        IDP_DEV_KEYS_DIR=str(tmp / "keys"),
        IDP_ISSUER=live_idp.base_url,
        PYTHONUNBUFFERED="1",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "idp_selftest", "--issuer", live_idp.base_url, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SELFTEST_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def full_run(live_idp, tmp_path_factory) -> subprocess.CompletedProcess:
    return run_selftest(live_idp, tmp_path_factory.mktemp("selftest"))


def explain(run: subprocess.CompletedProcess, live_idp: LiveIdp) -> str:
    return (
        f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-3000:]}\n"
        f"--- server log\n{live_idp.log_tail(40)}"
    )


def test_every_module_of_the_three_plans_reports_exactly_once(full_run, live_idp):
    lines = full_run.stdout.splitlines()
    assert lines, explain(full_run, live_idp)
    results = [RESULT_LINE.match(line) for line in lines[:-1]]
    assert all(results), explain(full_run, live_idp)
    counts = Counter(match.group(2) for match in results)
    assert len(ALL_MODULES) == len(set(ALL_MODULES)) == 50
    assert counts == Counter(ALL_MODULES), explain(full_run, live_idp)


def test_no_module_fails(full_run, live_idp):
    closing = full_run.stdout.splitlines()[-1] if full_run.stdout else ""
    assert re.match(r"^\d+ passed, 0 failed", closing), explain(full_run, live_idp)
    assert full_run.returncode == 0, explain(full_run, live_idp)


def test_closing_line_counts_the_results(full_run, live_idp):
    *lines, closing = full_run.stdout.splitlines()
    statuses = Counter(RESULT_LINE.match(line).group(1) for line in lines)
    match = CLOSING_LINE.match(closing)
    assert match, explain(full_run, live_idp)
    passed, failed, skipped = (int(group or 0) for group in match.groups())
    assert passed == statuses["PASS"] + statuses["WARN"]
    assert failed == statuses["FAIL"]
    assert skipped == statuses["SKIP"]
    if not skipped:
        assert "skipped" not in closing


def test_secrets_are_never_printed(full_run):
    output = full_run.stdout + full_run.stderr
    for secret in SECRETS:
        assert secret not in output
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}", output), "something JWT-shaped was printed"


def test_only_runs_one_module(live_idp, tmp_path):
    run = run_selftest(live_idp, tmp_path, "--only", "oidcc-server")
    assert run.stdout.splitlines() == ["PASS oidcc-server", "1 passed, 0 failed"], explain(run, live_idp)
    assert run.returncode == 0


def test_an_unknown_module_is_an_error(live_idp, tmp_path):
    run = run_selftest(live_idp, tmp_path, "--only", "oidcc-no-such-module")
    assert run.returncode != 0
    assert "oidcc-no-such-module" in run.stderr
    assert not RESULT_LINE.search(run.stdout)


def test_an_unreachable_issuer_fails_quickly(tmp_path, live_idp):
    """Nothing listens on port 9 (discard) of loopback: every module FAILs, the run ends, exit 1."""
    dead = LiveIdp(base_url="http://127.0.0.1:9", log_path=live_idp.log_path)
    run = run_selftest(dead, tmp_path, "--plan", "config", "--timeout", "2")
    assert run.returncode == 1, explain(run, live_idp)
    assert run.stdout.splitlines()[-1] == "0 passed, 1 failed"


def test_device_plan_passes_against_our_provider(live_idp, tmp_path):
    """RFC 8628, on its own (not in "all"): codes, pending, approval on the pages, tokens, slow_down."""
    run = run_selftest(live_idp, tmp_path, "--plan", "device")
    assert run.stdout.splitlines() == [
        "PASS rfc8628-device-grant",
        "PASS rfc8628-slow-down",
        "2 passed, 0 failed",
    ], explain(run, live_idp)
    assert "alice-demo-password" not in run.stdout + run.stderr


def test_acr_module_passes_with_the_advertised_acr_values(live_idp, tmp_path):
    """Issue 17: the provider returns a requested acr, so the module is PASS, not WARN."""
    module = "oidcc-ensure-request-with-acr-values-succeeds"
    run = run_selftest(live_idp, tmp_path, "--only", module)
    assert run.stdout.splitlines() == [f"PASS {module}", "1 passed, 0 failed"], explain(run, live_idp)
