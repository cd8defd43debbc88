"""gunicorn as `make serve` runs it: access lines with the request id and no secret; tracebacks."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from idp.logs import REDACTED

ROOT = Path(__file__).resolve().parent.parent
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
ACCESS_TOKEN = "q5Yc-aK_02-query-string-access-token"
CODE = "c0d3-from-the-referrer"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    """`make serve`'s gunicorn command (DEBUG off) on a free loopback port, over a database never migrated,
    so that any request reaching a table fails with a 500. Yields the base URL and the log's path."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IDP_", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PORT"))
    }
    env.update(
        DEBUG="0",
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}",
        IDP_DEV_KEYS_DIR=str(tmp_path / "keys"),
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "gunicorn", "project.wsgi", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.RequestException:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_access_lines_carry_the_request_id_and_no_secret(gunicorn):
    base, log = gunicorn
    answer = requests.get(
        f"{base}/healthz",
        params={"id_token_hint": JWT, "access_token": ACCESS_TOKEN, "login_hint": "alice@example.com"},
        headers={"Referer": f"https://rp.example.com/callback?code={CODE}&state=s"},
        timeout=10,
    )
    failed = requests.get(
        f"{base}/authorize",
        params={
            "response_type": "code",
            "client_id": "web",
            "redirect_uri": "https://rp.example.com/callback",
            "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "login_hint": "alice@example.com",
        },
        timeout=10,
    )
    assert answer.status_code == 200 and failed.status_code == 500
    request_id, failed_id = answer.headers["X-Request-ID"], failed.headers["X-Request-ID"]
    assert f"<code>{failed_id}</code>" in failed.text
    time.sleep(0.5)  # the access line is written after the answer is sent

    text = log.read_text()
    for secret in (JWT, ACCESS_TOKEN, CODE, "alice@example.com", "alice%40example.com"):
        assert secret not in text
    (line,) = [line for line in text.splitlines() if line.endswith(f"request_id={request_id}")]
    assert (
        f'"GET /healthz?id_token_hint={REDACTED}&access_token={REDACTED}&login_hint={REDACTED} HTTP/1.1" 200'
        in line
    )
    assert f'"https://rp.example.com/callback?code={REDACTED}&state=s"' in line
    (access,) = [line for line in text.splitlines() if line.endswith(f"request_id={failed_id}")]
    assert f'&login_hint={REDACTED} HTTP/1.1" 500 ' in access
    lines = text.splitlines()
    (error,) = [n for n, line in enumerate(lines) if f"ERROR django.request request_id={failed_id} " in line]
    assert lines[error].endswith("Internal Server Error: /authorize")
    assert lines[error + 1] == "Traceback (most recent call last):"
    assert any("OperationalError: no such table" in line for line in lines[error:])


def test_gunicorn_error_log_is_redacted(capsys):
    """gunicorn's own messages name the URI: "Error handling request /userinfo?access_token=…"."""
    from gunicorn.config import Config

    logger = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["logger_class"](Config())
    try:
        logger.error("Error handling request %s", f"/end-session?id_token_hint={JWT}")
        logger.warning(
            f"Invalid request from ip=127.0.0.1: Invalid Request Line '/x?access_token={ACCESS_TOKEN}'"
        )
    finally:
        for log in (logger.error_log, logger.access_log):
            log.handlers.clear()
            log.filters.clear()
    text = capsys.readouterr().err
    assert JWT not in text and ACCESS_TOKEN not in text
    assert f"Error handling request /end-session?id_token_hint={REDACTED}" in text
    assert f"/x?access_token={REDACTED}'" in text
