"""Benchmark: full OpenID flows and single endpoints against the production server, as ratios to bare Django.

Usage: python bench/run.py [--database sqlite|postgres] [--duration 20] [--concurrency 4] [--users 8]
It starts gunicorn (2 sync workers) on a fresh database with the demo data, logs in once per
simulated user, runs full flows (authorize with a live session and remembered consent -> token
exchange with client_secret_basic -> userinfo -> one API call) with N concurrent clients for a fixed
duration, then single endpoints; then serves a bare Django JSON view and a bare DRF view the same
way. Server CPU comes from the server processes' own CPU time (/proc), not from wall time.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIENT = ("demo-web", "demo-web-secret")
REDIRECT_URI = "http://127.0.0.1:8765/callback"
SCOPE = "openid profile email"
TIMEOUT = 10
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


class Recorder:
    """Latencies per step, errors, and a count of completed units."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.completed = 0

    def timed(self, step: str, call, ok=lambda r: r.status_code == 200):
        start = time.perf_counter()
        try:
            response = call()
            good = ok(response)
        except requests.RequestException:
            response, good = None, False
        elapsed = time.perf_counter() - start
        with self.lock:
            self.latencies[step].append(elapsed)
            if not good:
                self.errors[step] += 1
        return response if good else None


def authorization_url(base: str, challenge: str) -> str:
    """The benchmark client's authorization request for ``SCOPE``, with this PKCE challenge."""
    query = {
        "response_type": "code",
        "client_id": CLIENT[0],
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{base}/authorize?{urlencode(query)}"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"="
    ).decode()


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form (the consent page's), by name."""
    from html.parser import HTMLParser

    fields: dict[str, str] = {}

    class Hidden(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "input" and a.get("type") == "hidden" and a.get("name"):
                fields[a["name"]] = a.get("value") or ""

    Hidden().feed(html)
    return fields


def sign_in(base: str, username: str, password: str) -> requests.Session:
    """A browser session with remembered consent for the benchmark client."""
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=TIMEOUT)
    csrf = page.cookies.get("csrftoken") or browser.cookies.get("csrftoken")
    response = browser.post(
        f"{base}/login",
        data={"csrfmiddlewaretoken": csrf, "username": username, "password": password},
        headers={"Referer": f"{base}/login"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, f"login failed for {username}: {response.status_code}"
    # First authorization: approve the consent page once, so later flows are silent.
    _verifier, challenge = pkce()
    page = browser.get(authorization_url(base, challenge), allow_redirects=False, timeout=TIMEOUT)
    if page.status_code == 200:
        page = browser.post(
            page.url,
            data={**hidden_fields(page.text), "allow": "1"},
            headers={"Referer": page.url},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
    assert page.status_code == 302 and "code=" in page.headers["Location"], "consent failed"
    return browser


def code_exchange(authorize_response: requests.Response, verifier: str) -> dict[str, str]:
    """The token request's form for the code in an authorization response's redirect."""
    code = parse_qs(urlsplit(authorize_response.headers["Location"]).query)["code"][0]
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }


def full_flow(base: str, browser: requests.Session, api: requests.Session, rec: Recorder) -> bool:
    verifier, challenge = pkce()
    response = rec.timed(
        "authorize",
        lambda: browser.get(authorization_url(base, challenge), allow_redirects=False, timeout=TIMEOUT),
        ok=lambda r: r.status_code == 302 and "code=" in r.headers.get("Location", ""),
    )
    if response is None:
        return False
    data = code_exchange(response, verifier)
    response = rec.timed("token", lambda: api.post(f"{base}/token", data=data, auth=CLIENT, timeout=TIMEOUT))
    if response is None:
        return False
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    if rec.timed("userinfo", lambda: api.get(f"{base}/userinfo", headers=bearer, timeout=TIMEOUT)) is None:
        return False
    return rec.timed("api", lambda: api.get(f"{base}/api/v1/me", headers=bearer, timeout=TIMEOUT)) is not None


def run_for(duration: float, concurrency: int, unit) -> tuple[int, float]:
    """Run ``unit(worker_index)`` in ``concurrency`` threads for ``duration`` s; count successes."""
    done = [0] * concurrency
    stop = time.monotonic() + duration

    def loop(index: int):
        while time.monotonic() < stop:
            if unit(index):
                done[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), time.monotonic() - start


def measure(pid: int, duration: float, concurrency: int, unit) -> dict:
    cpu_before = cpu_seconds(pid)
    count, elapsed = run_for(duration, concurrency, unit)
    cpu = cpu_seconds(pid) - cpu_before
    return {"count": count, "per_second": count / elapsed, "cpu_ms": 1000 * cpu / max(count, 1)}


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    q = statistics.quantiles(values, n=100)
    return f"{1000 * q[49]:7.2f} {1000 * q[94]:7.2f} {1000 * q[98]:7.2f}"


def create_database(kind: str, tmp: Path):
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
    from idp.keys import generate_private_key_pem

    key = tmp / "signing.pem"
    key.write_text(generate_private_key_pem())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "DEBUG", "SECRET_KEY"))}
    env.update(
        DATABASE_URL=database_url,
        IDP_SIGNING_KEY_FILE=str(key),
        DEBUG="0",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="project.settings",
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of full flows")
    parser.add_argument("--endpoint-duration", type=float, default=5.0, help="seconds per single endpoint")
    parser.add_argument(
        "--endpoint-rounds", type=int, default=3, help="windows per endpoint; the least CPU/request counts"
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--preload",
        type=int,
        default=0,
        help="PostgreSQL: first fill the tables with this many access tokens (half expired) each with a "
        "refresh token, plus a quarter as many expired ones without, then also time "
        "`manage.py idp_cleartokens` while flows run",
    )
    args = parser.parse_args()
    if args.preload and args.database != "postgres":
        parser.error("--preload needs --database postgres")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        database_url, drop_database = create_database(args.database, tmp)
        env = provider_env(database_url, tmp)
        # Throttles stay on (their cost is part of the figure) but never refuse a benchmark request.
        env["IDP_API_THROTTLE_RATES"] = "client=100000000/minute,user=100000000/minute"
        if args.database == "postgres":
            env["REDIS_URL"] = "redis://127.0.0.1:6379/9"
        log = tmp / "server.log"
        results: dict = {"config": vars(args) | {"json": str(args.json) if args.json else None}}
        try:
            manage(env, "migrate", "--noinput")
            manage(env, "idp_load_demo")
            users = [f"bench{i}" for i in range(args.users)]
            manage(
                env,
                "shell",
                "-c",
                (
                    "from idp.models import User\n"
                    f"for name in {users!r}:\n"
                    "    u, _ = User.objects.get_or_create(username=name)\n"
                    "    u.set_password('bench-password-' + name); u.save()\n"
                ),
            )
            if args.preload:
                results["preload"] = preload(database_url, args.preload)
            results.update(run_provider(args, env, log, users))
            results.update(run_bare(args, env, log))
        finally:
            drop_database()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def run_provider(args, env: dict, log: Path, users: list[str]) -> dict:
    port = free_port()
    env = env | {"IDP_ISSUER": f"http://127.0.0.1:{port}"}
    out: dict = {}
    with gunicorn_on(port, "project.wsgi", env, args.workers, log) as (base, pid):
        browsers = [sign_in(base, name, f"bench-password-{name}") for name in users]
        apis = [requests.Session() for _ in range(args.concurrency)]
        counter = [0]
        lock = threading.Lock()

        def flow(index: int) -> bool:
            with lock:
                counter[0] += 1
                browser = browsers[counter[0] % len(browsers)]
            return full_flow(base, browser, apis[index], recorders[-1])

        recorders = [Recorder()]
        for i in range(args.concurrency):  # warm up every worker
            flow(i)
        rec = recorders[-1] = Recorder()
        flows = measure(pid, args.duration, args.concurrency, flow)
        out["flows"] = flows | {
            "errors": dict(rec.errors),
            "steps": {step: percentiles(values) for step, values in rec.latencies.items()},
        }
        # Single endpoints.
        user_token = obtain_user_token(base, browsers[0])
        endpoints = {
            "discovery": lambda s: s.get(f"{base}/.well-known/openid-configuration", timeout=TIMEOUT),
            "jwks": lambda s: s.get(f"{base}/.well-known/jwks.json", timeout=TIMEOUT),
            "userinfo": lambda s: s.get(
                f"{base}/userinfo", headers={"Authorization": f"Bearer {user_token}"}, timeout=TIMEOUT
            ),
            "introspection": lambda s: s.post(
                f"{base}/introspect", data={"token": user_token}, auth=CLIENT, timeout=TIMEOUT
            ),
            "api": lambda s: s.get(
                f"{base}/api/v1/me", headers={"Authorization": f"Bearer {user_token}"}, timeout=TIMEOUT
            ),
        }
        out["endpoints"] = {name: measure_endpoint(pid, args, call) for name, call in endpoints.items()}
        if args.preload:
            out["cleanup"] = cleanup_under_load(env, pid, args, flow, recorders)
    return out


def preload(database_url: str, count: int) -> dict:
    """``count`` access tokens of the bench users, each with a refresh token; every other one expired."""
    import psycopg

    start = time.monotonic()
    with psycopg.connect(database_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO idp_accesstoken (token, token_checksum, expires, scope, resource, created, updated,
                                         application_id, user_id, claims)
            SELECT '', md5('a' || i) || md5('b' || i),
                   now() + CASE WHEN i %% 2 = 0 THEN interval '1 hour' ELSE interval '-1 hour' END
                         - i * interval '1 millisecond',
                   'openid profile email', '[]'::jsonb, now(), now(),
                   (SELECT min(id) FROM idp_application), u.id, '{}'::jsonb
            FROM generate_series(1, %s) AS i
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS c FROM idp_user) u
              ON u.n = i %% u.c
            """,
            (count,),
        )
        conn.execute(
            """
            INSERT INTO idp_refreshtoken (token, token_checksum, token_family, resource, created, updated,
                                          access_token_id, application_id, user_id, amr, claims)
            SELECT '', md5('r' || id) || md5('s' || id), gen_random_uuid(), '[]'::jsonb, now(), now(),
                   id, application_id, user_id, '', '{}'::jsonb
            FROM idp_accesstoken
            """
        )
        # Access tokens without offline access, expired: what idp_cleartokens is for. Their expiry
        # times interleave with those of the expired tokens that live refresh tokens keep.
        conn.execute(
            """
            INSERT INTO idp_accesstoken (token, token_checksum, expires, scope, resource, created, updated,
                                         application_id, user_id, claims)
            SELECT '', md5('c' || i) || md5('d' || i),
                   now() - interval '1 hour' - 4 * i * interval '1 millisecond', 'openid', '[]'::jsonb,
                   now(), now(), (SELECT min(id) FROM idp_application), (SELECT min(id) FROM idp_user),
                   '{}'::jsonb
            FROM generate_series(1, %s) AS i
            """,
            (count // 4,),
        )
        conn.execute("VACUUM ANALYZE")
        rows = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
            for table in ("idp_accesstoken", "idp_refreshtoken")
        }
    return rows | {"seconds": time.monotonic() - start}


def cleanup_under_load(env: dict, pid: int, args, flow, recorders: list) -> dict:
    """Run ``manage.py idp_cleartokens`` while full flows go on: its duration, and the flows meanwhile."""
    during = Recorder()
    recorders.append(during)
    cleaner = subprocess.Popen(
        [sys.executable, "manage.py", "idp_cleartokens"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    start = time.monotonic()
    count = 0
    cpu_before = cpu_seconds(pid)
    while cleaner.poll() is None:
        got, _ = run_for(2.0, args.concurrency, flow)
        count += got
    elapsed = time.monotonic() - start
    recorders.pop()
    return {
        "seconds": elapsed,
        "exit": cleaner.returncode,
        "flows": count,
        "flows_per_second": count / elapsed,
        "cpu_ms": 1000 * (cpu_seconds(pid) - cpu_before) / max(count, 1),
        "errors": dict(during.errors),
        "steps": {step: percentiles(values) for step, values in during.latencies.items()},
    }


def obtain_user_token(base: str, browser: requests.Session) -> str:
    verifier, challenge = pkce()
    response = browser.get(authorization_url(base, challenge), allow_redirects=False, timeout=TIMEOUT)
    data = code_exchange(response, verifier)
    return requests.post(f"{base}/token", data=data, auth=CLIENT, timeout=TIMEOUT).json()["access_token"]


def measure_endpoint(pid: int, args, call) -> dict:
    sessions = [requests.Session() for _ in range(args.concurrency)]
    errors = [0]

    def unit(index: int) -> bool:
        response = call(sessions[index])
        if response.status_code != 200:
            errors[0] += 1
            return False
        return True

    for i in range(args.concurrency):
        unit(i)
    # The quietest of a few short windows: this VM's other tenants slow whole seconds at a time.
    rounds = [
        measure(pid, args.endpoint_duration / args.endpoint_rounds, args.concurrency, unit)
        for _ in range(args.endpoint_rounds)
    ]
    return min(rounds, key=lambda r: r["cpu_ms"]) | {"errors": errors[0]}


def run_bare(args, env: dict, log: Path) -> dict:
    port = free_port()
    bare_env = {k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = {}
    with gunicorn_on(port, "bench.bare.app", bare_env, args.workers, log) as (base, pid):
        for name in ("json", "drf"):
            out[f"bare_{name}"] = measure_endpoint(
                pid, args, lambda s, name=name: s.get(f"{base}/{name}", timeout=TIMEOUT)
            )
    return out


@contextmanager
def gunicorn_on(port: int, app: str, env: dict, workers: int, log: Path):
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


def report(results: dict) -> None:
    bare_json = results["bare_json"]["cpu_ms"]
    bare_drf = results["bare_drf"]["cpu_ms"]
    flows = results["flows"]
    if "preload" in results:
        rows = results["preload"]
        print(
            f"\nPreloaded {rows['idp_accesstoken']:,} access tokens and {rows['idp_refreshtoken']:,} refresh "
            f"tokens in {rows['seconds']:.0f} s"
        )
    print(
        f"\nFull flows ({results['config']['database']}, concurrency {results['config']['concurrency']}, "
        f"{results['config']['workers']} gunicorn sync workers)"
    )
    print(
        f"  flows/s {flows['per_second']:.1f}   server CPU per flow {flows['cpu_ms']:.2f} ms "
        f"= {flows['cpu_ms'] / bare_json:.1f} x bare Django request   errors {flows['errors'] or 0}"
    )
    print("  step         p50 ms  p95 ms  p99 ms")
    for step, text in flows["steps"].items():
        print(f"  {step:<11} {text}")
    print("\nSingle endpoints        req/s   CPU ms/req   x bare JSON   x bare DRF   errors")
    rows = {**results["endpoints"], "bare Django JSON": results["bare_json"], "bare DRF": results["bare_drf"]}
    for name, row in rows.items():
        print(
            f"  {name:<20} {row['per_second']:8.1f} {row['cpu_ms']:11.3f} {row['cpu_ms'] / bare_json:12.2f}"
            f" {row['cpu_ms'] / bare_drf:11.2f} {row['errors']:8d}"
        )
    if "cleanup" in results:
        cleanup = results["cleanup"]
        print(
            f"\nmanage.py idp_cleartokens took {cleanup['seconds']:.1f} s (exit {cleanup['exit']}); "
            "meanwhile "
            f"{cleanup['flows_per_second']:.1f} flows/s, {cleanup['cpu_ms']:.2f} ms server CPU per flow, "
            f"errors {cleanup['errors'] or 0}"
        )
        print("  step         p50 ms  p95 ms  p99 ms")
        for step, text in cleanup["steps"].items():
            print(f"  {step:<11} {text}")


if __name__ == "__main__":
    main()
