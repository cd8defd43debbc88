"""Where a flow's CPU goes: each step of the benchmark's flow run in-process, timed and profiled.

Usage: python -m bench.cpu_profile [--database sqlite|postgres] [-n 300] [--profile authorize|token|...]
It calls the provider's WSGI application directly (no HTTP server, no load generator), so the
figures are the provider's own CPU per request. With ``--profile STEP`` it prints that step's
hottest functions (cProfile, sorted by cumulative or own time) and its SQL statements.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from oidc_selftest.pkce import pkce_pair

from .client import CLIENT, REDIRECT_URI, approval, authorization_url
from .server import ROOT, create_database

STEPS = ("authorize", "token", "userinfo", "api", "introspection", "discovery")


def environ(method: str, url: str, *, body: bytes = b"", headers: dict | None = None) -> dict:
    parts = urlsplit(url)
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(parts.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": parts.netloc,
    }
    if body:
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


class Caller:
    """Calls the WSGI application and keeps the status, headers and body of the answer."""

    def __init__(self, application):
        self.application = application

    def __call__(self, env: dict) -> tuple[int, dict, bytes]:
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(headers)

        chunks = self.application(env, start_response)
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return answer["status"], answer["headers"], body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("-n", type=int, default=300, help="requests per step")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best mean per step counts")
    parser.add_argument("--profile", choices=STEPS, help="print this step's profile and SQL")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--callers", help="also print who calls the functions matching this pattern")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        database_url, drop_database = create_database(args.database, tmp)
        try:
            run(args, tmp, database_url)
        finally:
            from django.db import connections

            connections.close_all()
            drop_database()


def run(args, tmp: Path, database_url: str) -> None:
    key = tmp / "signing.pem"
    os.environ.update(
        DATABASE_URL=database_url,
        IDP_SIGNING_KEY_FILE=str(key),
        DEBUG="0",
        IDP_ISSUER="http://127.0.0.1:8000",
        DJANGO_SETTINGS_MODULE="project.settings",
        IDP_API_THROTTLE_RATES="client=100000000/minute,user=100000000/minute",
    )
    if args.database == "postgres":
        os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/9"
    from idp.keys import generate_private_key_pem

    key.write_text(generate_private_key_pem())

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", "--noinput", verbosity=0)
    call_command("idp_load_demo", verbosity=0)
    from project.accounts.models import User

    person = User.objects.create(username="profiler")
    person.set_password("profiler-password")
    person.save()

    call = Caller(get_wsgi_application())
    base = "http://127.0.0.1:8000"
    cookies = sign_in(call, base)
    times: dict[str, float] = {}
    profiles: dict[str, cProfile.Profile] = {}
    captured: dict[str, list[str]] = {}
    for round_number in range(args.rounds):
        one_round(args, call, base, cookies, times, profiles, captured, last=round_number == args.rounds - 1)

    flow = sum(times[step] for step in ("authorize", "token", "userinfo", "api"))
    print(f"In-process CPU per request ({args.database}, best of {args.rounds} rounds of {args.n} requests)")
    for step, value in times.items():
        print(f"  {step:<14} {value:7.3f} ms  {len(captured[step]):3d} SQL statements")
    print(f"  {'full flow':<14} {flow:7.3f} ms  (authorize + token + userinfo + api)")
    for step, profiler in profiles.items():
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.lines)
        print(f"\n--- profile of {step} ({args.n} requests) ---")
        print(out.getvalue())
        if args.callers:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_callers(args.callers)
            print(out.getvalue())
        print(f"--- own CPU of {step} by package (share of the profiled total) ---")
        for package, share in by_package(profiler):
            print(f"  {package:<40} {100 * share:5.1f} %")
        print(f"--- SQL of one {step} request ---")
        for sql in captured[step]:
            print("  " + sql)


def one_round(args, call, base, cookies, times, profiles, captured, *, last: bool) -> None:
    """Each step ``args.n`` times; ``times`` keeps each step's best mean over the rounds so far."""
    codes = []

    def timed(step: str, make_env, check) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        envs = [make_env(i) for i in range(args.n)]
        profiler = cProfile.Profile(time.process_time) if last and args.profile == step else None
        start = time.process_time()
        if profiler:
            profiler.enable()
        for env in envs:
            check(*call(env))
        if profiler:
            profiler.disable()
            profiles[step] = profiler
        elapsed = 1000 * (time.process_time() - start) / args.n
        if not profiler or step not in times:  # a profiled round is slower: it counts only if alone
            times[step] = min(times.get(step, elapsed), elapsed)
        with CaptureQueriesContext(connection) as ctx:
            check(*call(make_env(args.n)))
        captured[step] = [q["sql"][:200] for q in ctx.captured_queries]

    def authorize_env(i):
        verifier, challenge = pkce_pair()
        codes.append(verifier)
        return environ("GET", authorization_url(base, challenge), headers={"Cookie": cookies})

    issued = []

    def authorize_check(status, headers, body):
        assert status == 302 and "code=" in headers["Location"], (status, body[:300])
        issued.append(parse_qs(urlsplit(headers["Location"]).query)["code"][0])

    timed("authorize", authorize_env, authorize_check)
    import base64

    basic = "Basic " + base64.b64encode(f"{CLIENT[0]}:{CLIENT[1]}".encode()).decode()
    tokens = []

    def token_env(i):
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": issued[i],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": codes[i],
            }
        ).encode()
        return environ("POST", f"{base}/token", body=body, headers={"Authorization": basic})

    def token_check(status, headers, body):
        assert status == 200, body
        import json

        tokens.append(json.loads(body)["access_token"])

    timed("token", token_env, token_check)
    bearer = {"Authorization": f"Bearer {tokens[0]}"}

    def ok(status, headers, body):
        assert status == 200, (status, body[:300])

    timed("userinfo", lambda i: environ("GET", f"{base}/userinfo", headers=bearer), ok)
    timed("api", lambda i: environ("GET", f"{base}/api/v1/me", headers=bearer), ok)
    introspect = urlencode({"token": tokens[0]}).encode()
    timed(
        "introspection",
        lambda i: environ("POST", f"{base}/introspect", body=introspect, headers={"Authorization": basic}),
        ok,
    )
    timed("discovery", lambda i: environ("GET", f"{base}/.well-known/openid-configuration"), ok)


def by_package(profiler: cProfile.Profile) -> list[tuple[str, float]]:
    """Own (not cumulative) time per top-level package: django.db, oauthlib, psycopg, idp, ..."""
    stats = pstats.Stats(profiler).stats
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        if "site-packages/" in filename:
            parts = filename.split("site-packages/", 1)[1].split("/")
            package = "/".join(parts[:3] if parts[0] == "django" else parts[:1])
        elif str(ROOT) in filename:
            package = filename.replace(str(ROOT) + "/", "").split("/")[0]
        else:
            package = "stdlib/builtins"
        totals[package] = totals.get(package, 0.0) + tottime
    whole = sum(totals.values()) or 1.0
    return sorted(((k, v / whole) for k, v in totals.items()), key=lambda kv: -kv[1])[:18]


def sign_in(call: Caller, base: str) -> str:
    """A session cookie for the profiler's person, who has already allowed the demo client."""
    cookies: dict[str, str] = {}

    def request(env: dict) -> None:
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["headers"] = headers

        b"".join(call.application(env, start_response))
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                name, _, rest = value.strip().partition("=")
                cookies[name] = rest.split(";", 1)[0]

    request(environ("GET", f"{base}/login"))
    body = urlencode(
        {"csrfmiddlewaretoken": cookies["csrftoken"], "username": "profiler", "password": "profiler-password"}
    ).encode()
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
    request(environ("POST", f"{base}/login", body=body, headers={"Cookie": jar, "Referer": f"{base}/login"}))
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    # Allow the demo client once, so later authorizations are silent.
    _verifier, challenge = pkce_pair()
    url = authorization_url(base, challenge)
    status, headers, body = call(environ("GET", url, headers={"Cookie": cookie}))
    if status == 200:
        status, headers, body = call(
            environ(
                "POST",
                url,
                body=urlencode(approval(body.decode())).encode(),
                headers={"Cookie": cookie, "Referer": url},
            )
        )
    assert status == 302 and "code=" in headers["Location"], (status, headers, body[:500])
    return cookie


if __name__ == "__main__":
    main()
