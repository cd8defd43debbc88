"""Start, wait for and stop a real provider process (runserver on a free port, its own SQLite file)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0
REQUEST_TIMEOUT = 10.0

# Anything in the shell that would make the server something other than a fresh development provider.
_HOSTILE_ENV = (
    "IDP_SIGNING_KEY",
    "IDP_SIGNING_KEY_FILE",
    "IDP_RETIRED_SIGNING_KEY_FILES",
    "IDP_KEY_ENCRYPTION_KEY",
    "ALLOWED_HOSTS",
    "SECRET_KEY",
    "BEHIND_TLS_PROXY",
    "SECURE_SSL_REDIRECT",
)


@dataclass(frozen=True)
class LiveIdp:
    base_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)

    def manage(self, *args: str) -> None:
        """Run a management command against this server's database (e.g. ``axes_reset``)."""
        _manage(self.env, self.log_path, *args)


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], log_path: Path, *args: str) -> None:
    """Run one management command to completion, its output appended to the log."""
    with log_path.open("ab") as log:
        log.write(f"\n$ manage.py {' '.join(args)}\n".encode())
        log.flush()
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{_tail(log_path)}"


def _wait_until_ready(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"runserver exited with {process.returncode} before answering:\n{_tail(log_path)}")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return
            last_error = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            last_error = repr(exc)
        time.sleep(0.2)
    pytest.fail(
        f"runserver did not answer 200 at {url} within {STARTUP_TIMEOUT:.0f}s ({last_error}):\n"
        f"{_tail(log_path)}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def running_idp(tmp: Path, *, host: str = "127.0.0.1") -> Iterator[LiveIdp]:
    """Migrate a fresh SQLite file in ``tmp``, load the demo data and serve it with runserver.

    ``host`` names the issuer (the server listens on 127.0.0.1 either way): WebAuthn needs a domain
    such as ``localhost``, since an IP address cannot be a relying party ID.
    """
    port = _free_port()
    base_url = f"http://{host}:{port}"
    log_path = tmp / "server.log"

    env = {key: value for key, value in os.environ.items() if key not in _HOSTILE_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'idp.sqlite3'}",
        PORT=str(port),
        IDP_ISSUER=base_url,
        DEBUG="1",
        IDP_DEV_KEYS_DIR=str(tmp / "keys"),
        PYTHONUNBUFFERED="1",
    )

    _manage(env, log_path, "migrate", "--noinput")
    _manage(env, log_path, "idp_load_demo")

    with log_path.open("ab") as log:
        log.write(f"\n$ manage.py runserver 127.0.0.1:{port} --noreload\n".encode())
        log.flush()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        idp = LiveIdp(base_url=base_url, log_path=log_path, env=env)
        _wait_until_ready(process, idp.discovery_url, log_path)
        yield idp
    finally:
        _stop(process)


POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards; skipped locally without a server."""
    import psycopg

    name = f"idp_e2e_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgres://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def serving_with_gunicorn(env: dict[str, str], ports: list[int], log_path: Path) -> Iterator[list[str]]:
    """Migrate, load the demo data, and serve ``project.wsgi`` with one sync gunicorn worker per port."""
    _manage(env, log_path, "migrate", "--noinput")
    _manage(env, log_path, "idp_load_demo")
    processes = []
    try:
        for port in ports:
            with log_path.open("ab") as out:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "gunicorn", "project.wsgi", "--bind", f"127.0.0.1:{port}",
                         "--workers", "1", "--worker-class", "sync"],
                        cwd=REPO_ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
        for process, port in zip(processes, ports, strict=True):
            _wait_until_ready(process, f"http://127.0.0.1:{port}/readyz", log_path)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            _stop(process)
