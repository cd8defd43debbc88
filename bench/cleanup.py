"""Benchmark: `manage.py idp_cleartokens` against DOT's `cleartokens` on identical PostgreSQL tables.

Usage: python -m bench.cleanup [--preload 1000000] [--commands idp_cleartokens cleartokens]
It fills a fresh database as ``python -m bench.run --preload N`` does (N access tokens, half expired, each
with a refresh token, plus N/4 long-expired tokens without one), copies it once per command (a
PostgreSQL template copy, so each command starts from the same rows) and times each command alone,
with the production batch size and pause. Wall time, not a timed test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .preload import preload
from .server import ROOT, create_database, manage, provider_env

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def rows(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
            for table in ("idp_accesstoken", "idp_refreshtoken", "idp_idtoken", "idp_grant")
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preload", type=int, default=1_000_000)
    parser.add_argument("--commands", nargs="+", default=["idp_cleartokens", "cleartokens"])
    args = parser.parse_args()
    import psycopg

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        database_url, drop_database = create_database("postgres", tmp)
        template = database_url.rsplit("/", 1)[1]
        env = provider_env(database_url, tmp)
        try:
            manage(env, "migrate", "--noinput")
            manage(env, "idp_load_demo")
            loaded = preload(database_url, args.preload)
            print(f"Preloaded in {loaded['seconds']:.0f} s: {rows(database_url)}")
            for command in args.commands:
                copy = f"idp_bench_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(ADMIN, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
                copy_url = database_url.rsplit("/", 1)[0] + "/" + copy
                try:
                    start = time.monotonic()
                    subprocess.run(
                        [sys.executable, "manage.py", command],
                        cwd=ROOT,
                        env=env | {"DATABASE_URL": copy_url},
                        check=True,
                        capture_output=True,
                    )
                    elapsed = time.monotonic() - start
                    print(f"manage.py {command:<16} {elapsed:7.1f} s   rows left {rows(copy_url)}")
                finally:
                    with psycopg.connect(ADMIN, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE "{copy}" WITH (FORCE)')
        finally:
            drop_database()


if __name__ == "__main__":
    main()
