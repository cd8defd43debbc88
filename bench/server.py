"""The servers under test: a fresh database, the provider's environment, gunicorn, and their CPU time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (live ones)."""
    total = 0.0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def create_database(kind: str, tmp: Path) -> tuple[str, Callable[[], None]]:
    """A new, empty database of ``kind`` (``sqlite`` in ``tmp``, or ``postgres``) and how to drop it."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: None
    import psycopg

    name = f"idp_bench_{uuid.uuid4().hex[:8]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return f"postgres://postgres@127.0.0.1:5432/{name}", drop


def provider_env(database_url: str, tmp: Path) -> dict:
    """The provider's environment for ``database_url``, production settings, a new key in ``tmp``."""
    from idp.key_storage import generate_kek
    from idp.keys import generate_private_key_pem

    key = tmp / "signing.pem"
    key.write_text(generate_private_key_pem())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "DEBUG", "SECRET_KEY"))}
    env.update(
        DATABASE_URL=database_url,
        IDP_SIGNING_KEY_FILE=str(key),
        IDP_KEY_ENCRYPTION_KEY=generate_kek(),
        DEBUG="0",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="project.settings",
    )
    return env


@contextmanager
def gunicorn_on(port: int, app: str, env: dict, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """``app`` served by gunicorn sync workers on ``port``: its base URL and the master's pid."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                app,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.RequestException:
                if process.poll() is not None:
                    raise SystemExit(f"{app} exited; log:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)
