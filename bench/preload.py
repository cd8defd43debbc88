"""PostgreSQL only: fill the token tables to production size, and time token cleanup while flows run."""

from __future__ import annotations

import subprocess
import sys
import time

from .load import Recorder, percentiles, run_for
from .server import ROOT, cpu_seconds


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
