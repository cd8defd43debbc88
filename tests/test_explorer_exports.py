"""The explorer's exports: a run as Mermaid text, and as a curl script that holds no secret and runs."""

import os
import shutil
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from idp.explorer.exports import curl_script, mermaid
from idp.explorer.masking import secret_values
from tests import explorer_samples as samples

BASH = shutil.which("bash") or "bash"
NEEDS_TOOLS = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "jq", "openssl")), reason="needs bash, jq and openssl"
)
# A stand-in for curl: logs its arguments (one per line, then "--") and answers like the provider would.
FAKE_CURL = r"""#!/usr/bin/env bash
printf '%s\n' "$@" -- >>"$CURL_LOG"
all="$*"
case "$all" in
  *grant_type=refresh_token*)
    body='{"access_token": "AT2-from-server", "refresh_token": "RT2-from-server"}' ;;
  *grant_type=authorization_code*)
    body='{"access_token": "AT-from-server", "refresh_token": "RT-from-server", "id_token": "IDT"}' ;;
  *grant_type=client_credentials*)
    body='{"access_token": "CC-from-server", "token_type": "Bearer"}' ;;
  *device-authorization*)
    body='{"device_code": "DC-from-server", "user_code": "WDJB-MJHT", "interval": 0}' ;;
  *device_code=*)
    polls=$(( $(cat "$CURL_LOG.polls" 2>/dev/null || echo 0) + 1 ))
    echo "$polls" >"$CURL_LOG.polls"
    body='{"error": "authorization_pending"}'
    if [ "$polls" -ge 3 ]; then body='{"access_token": "DEV-AT"}'; fi ;;
  *) body='{"ok": true}' ;;
esac
printf '%s\n%s' "$body" 200
"""


def small_run():
    run = samples.web_run(broken_secret=True)
    return [run[1], run[5], run[7]]  # the authorization request, the token request (wrong secret), userinfo


def test_mermaid_draws_the_run_as_a_sequence_diagram():
    assert mermaid(small_run()) == (
        "sequenceDiagram\n"
        "    participant browser as Browser\n"
        "    participant rp as Relying party\n"
        "    participant authorize as Authorization endpoint\n"
        "    participant token as Token endpoint\n"
        "    participant userinfo as Userinfo\n"
        "    browser->>authorize: GET /authorize\n"
        "    authorize-->>browser: 302 Found\n"
        "    Note over rp,token: Broken on purpose: Wrong client secret\n"
        "    rp->>token: POST /token\n"
        "    token-->>rp: 401 invalid_client\n"
        "    rp->>userinfo: GET /userinfo\n"
        "    userinfo-->>rp: 200 OK\n"
    )


def test_mermaid_orders_by_seq_names_lanes_safely_and_shows_no_query():
    run = samples.full_web_run()
    text = mermaid(list(reversed(run)))
    assert text.index("POST /developers/flows/start") < text.index("GET /userinfo")
    assert "participant keys as Discovery and JWKS" in text  # "&" is Mermaid syntax
    assert "GET /developers/flows/callback\n" in text and "?" not in text
    for secret in set().union(*(secret_values(item) for item in run)) | {samples.STATE, samples.PASSWORD}:
        assert secret not in text
    assert text.count("->>") == len(run) * 2  # "->>" is also the end of each "-->>"
    assert text.count("-->>") == len(run)


def test_mermaid_labels_an_error_sent_back_to_the_redirect_uri():
    refused = samples.exchange(
        1, "authorization_request", "browser", "authorize", "GET", f"{samples.ISSUER}/authorize?x=1", 302,
        response_headers=[("Location", f"{samples.CALLBACK}?error=invalid_request")], broken="no_pkce",
    )  # fmt: skip
    assert mermaid([refused]).endswith(
        "    Note over browser,authorize: Broken on purpose: Drop PKCE\n"
        "    browser->>authorize: GET /authorize\n"
        "    authorize-->>browser: 302 invalid_request\n"
    )


def script_of(run, **overrides) -> str:
    arguments = {
        "issuer": samples.ISSUER,
        "client_id": samples.CLIENT_ID,
        "flow": "web",
        "confidential": True,
        **overrides,
    }
    return curl_script(run, **arguments)


def recorded_secrets(run) -> set[str]:
    return set().union(*(secret_values(item) for item in run)) | {samples.PASSWORD, samples.CSRF_TOKEN}


@pytest.mark.parametrize(
    "run",
    [
        samples.web_run(broken_secret=True),
        samples.full_web_run(),
        samples.device_run(),
        samples.client_credentials_run(),
    ],
    ids=["broken", "web", "device", "client_credentials"],
)
def test_no_secret_of_the_run_is_in_the_script(run):
    script = script_of(run)
    for secret in recorded_secrets(run) | {samples.STATE, samples.NONCE, samples.CHALLENGE}:
        assert secret not in script
    assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script


@NEEDS_TOOLS
@pytest.mark.parametrize(
    "run",
    [
        samples.web_run(broken_secret=True),
        samples.full_web_run(),
        samples.device_run(),
        samples.client_credentials_run(),
        samples.garbage_run(),
    ],
    ids=["broken", "web", "device", "client_credentials", "garbage"],
)
def test_bash_accepts_the_script(run, tmp_path):
    path = tmp_path / "run.sh"
    path.write_text(script_of(run))
    subprocess.run([BASH, "-n", str(path)], check=True)


def test_the_web_script_reads_the_secret_from_the_environment_and_makes_fresh_pkce():
    script = script_of(samples.full_web_run())
    assert ': "${CLIENT_SECRET:?Set CLIENT_SECRET to the client secret of $CLIENT_ID.}"' in script
    assert "CODE_VERIFIER=$(new_secret)" in script and "openssl dgst -sha256 -binary" in script
    assert 'echo "$AUTHORIZE_URL"' in script and "read -r -p" in script
    assert "&code_challenge=${CODE_CHALLENGE}&code_challenge_method=S256" in script
    assert "# Broken on purpose: Reuse the code." in script
    assert "# 6. Token request: POST /token (in the run: 200 OK)" in script


def run_script(tmp_path: Path, script: str, *, stdin: str = "", env: dict | None = None) -> list[list[str]]:
    """Run ``script`` with the fake curl; the argument lists curl was called with."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(FAKE_CURL)
    curl.chmod(curl.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "run.sh").write_text(script)
    log = tmp_path / "curl.log"
    environment = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CURL_LOG": str(log),
        "CLIENT_SECRET": "secret-from-the-environment",
        **(env or {}),
    }
    result = subprocess.run(
        [BASH, "run.sh"],
        cwd=tmp_path,
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    calls, current = [], []
    for line in log.read_text().splitlines():
        if line == "--":
            assert current[:3] == ["-sS", "-w", "\\n%{http_code}"]  # call()'s own options
            calls.append(current[3:])
            current = []
        else:
            current.append(line)
    return calls


@NEEDS_TOOLS
def test_the_web_script_runs_the_back_channel_with_the_code_pasted_and_the_tokens_it_got(tmp_path):
    calls = run_script(
        tmp_path, script_of(samples.full_web_run()), stdin=f"{samples.CALLBACK}?code=code-from-the-browser\n"
    )
    token, jwks, userinfo, reused, refresh, reused_refresh, introspection = calls
    assert token[:3] == [f"{samples.ISSUER}/token", "-u", f"{samples.CLIENT_ID}:secret-from-the-environment"]
    assert "code=code-from-the-browser" in token and "grant_type=authorization_code" in token
    verifier = next(arg for arg in token if arg.startswith("code_verifier=")).removeprefix("code_verifier=")
    assert 43 <= len(verifier) <= 128 and verifier != samples.VERIFIER
    assert jwks == [f"{samples.ISSUER}/.well-known/jwks.json"]
    assert userinfo[-1] == "Authorization: Bearer AT-from-server"
    assert {arg for arg in token if arg.startswith(("code=", "code_verifier="))} <= set(
        reused
    )  # as in the run
    assert "refresh_token=RT-from-server" in refresh
    assert "refresh_token=RT-from-server" in reused_refresh  # the rotated-out one, again, as in the run
    assert introspection[-1] == "token=AT2-from-server"


@NEEDS_TOOLS
def test_the_device_script_polls_until_the_person_answers(tmp_path):
    calls = run_script(
        tmp_path, script_of(samples.device_run("demo-device"), client_id="demo-device", confidential=False)
    )
    assert calls[0][0] == f"{samples.ISSUER}/device-authorization"
    polls = calls[1:]
    assert len(polls) == 3  # pending, pending, tokens: one loop, not the run's three copies
    assert all("device_code=DC-from-server" in poll for poll in polls)


@NEEDS_TOOLS
def test_hostile_values_stay_text(tmp_path):
    hostile = "x'\"$(touch pwned-1)`touch pwned-2`${HOME}\\"
    run = samples.client_credentials_run(client_id=hostile, scope=f"users:read {hostile}")
    calls = run_script(tmp_path, script_of(run, client_id=hostile, issuer=samples.ISSUER, flow=hostile))
    assert not list(tmp_path.glob("pwned-*"))
    token, api = calls
    assert token[1:3] == ["-u", f"{hostile}:secret-from-the-environment"]
    assert f"scope=users:read {hostile}" in token
    assert (
        api[0] == f"{samples.ISSUER}/api/v1/users?limit=5" and "Authorization: Bearer CC-from-server" in api
    )


@NEEDS_TOOLS
def test_a_broken_secret_is_sent_broken_and_the_real_one_not_needed(tmp_path):
    script = script_of(samples.web_run(broken_secret=True))
    assert "CLIENT_SECRET" not in script.split("# 6.")[1]
    # No token came back, so the userinfo call after it needs one from the environment.
    assert ': "${ACCESS_TOKEN:?Set ACCESS_TOKEN to an access token issued to $CLIENT_ID.}"' in script
    environment = {"CLIENT_SECRET": "", "ACCESS_TOKEN": "at-from-the-environment"}
    token, _jwks, userinfo = run_script(tmp_path, script, stdin="code-typed-alone\n", env=environment)
    assert token[1:3] == ["-u", f"{samples.CLIENT_ID}:not-the-client-secret"]
    assert "code=code-typed-alone" in token
    assert userinfo[-1] == "Authorization: Bearer at-from-the-environment"


def test_a_wrong_verifier_is_a_fresh_one_not_the_one_behind_the_challenge():
    run = samples.web_run()
    token_request = replace(run[5], broken="wrong_verifier")
    script = script_of([run[1], token_request])
    assert "WRONG_CODE_VERIFIER=$(new_secret)" in script
    assert '"code_verifier=${WRONG_CODE_VERIFIER}"' in script
