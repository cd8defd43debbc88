"""Benchmark: full OpenID flows and single endpoints against the production server, as ratios to bare Django.

Usage: python -m bench.run [--database sqlite|postgres] [--duration 20] [--concurrency 4] [--users 8]
It starts gunicorn (2 sync workers) on a fresh database with the demo data, logs in once per
simulated user, runs full flows (authorize with a live session and remembered consent -> token
exchange with client_secret_basic -> userinfo -> one API call) with N concurrent clients for a fixed
duration, then single endpoints; then serves a bare Django JSON view and a bare DRF view the same
way. Server CPU comes from the server processes' own CPU time (/proc), not from wall time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
from pathlib import Path

import requests

from .client import CLIENT, TIMEOUT, obtain_user_token, sign_in
from .load import Recorder, full_flow, measure, measure_endpoint, percentiles
from .preload import cleanup_under_load, preload
from .report import report
from .server import create_database, free_port, gunicorn_on, manage, provider_env


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
            # Mid-rotation, as a live site often is: a next key kept in the database is published
            # beside the environment's key (JWKS serves both, from bytes built once per key change).
            manage(env, "idp_keys", "rotate")
            users = [f"bench{i}" for i in range(args.users)]
            manage(
                env,
                "shell",
                "-c",
                (
                    "from project.accounts.models import User\n"
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


if __name__ == "__main__":
    main()
