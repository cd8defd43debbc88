"""Hostile input over HTTP: every parameter of every protocol endpoint, replaced by hostile values.

Run against any live provider that has the demo data (``make run``, or ``make serve`` on PostgreSQL)::

    .venv/bin/python -m tests.e2e.hostile_http --base-url http://127.0.0.1:8000

It prints the count of answers per status class and every answer that breaks the rules: a 5xx, a
non-JSON error from the token, revocation or introspection endpoint (RFC 6749 §5.2), a redirect
from the authorization or logout endpoint to anywhere but the site or the demo client's registered
URIs. Exit status 1 if there is any. ``tests/e2e/test_hostile_http.py`` runs it against gunicorn on
PostgreSQL, where a NUL byte in a query used to be a 500.
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes, urljoin, urlsplit

import requests

REDIRECT_URI = "http://127.0.0.1:8765/callback"
POST_LOGOUT_URI = "http://127.0.0.1:8765/logged-out"
# 43 characters: a well-formed S256 challenge, so only the parameter under test is wrong.
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

# Values a fuzzer would try first: NUL and other control characters (psycopg refuses NUL in a query),
# bytes that are not UTF-8, absurd lengths, broken URIs and JSON, shapes of tokens and markup.
HOSTILE_VALUES: tuple[bytes, ...] = (
    b"\x00",
    b"demo-web\x00",
    "demo-web\u00e9\x00".encode(),
    b"\x01\x1f\x7f",
    b"\xff\xfe\xc3",
    b"a" * 5000,
    b"",
    b" ",
    b"%zz",
    b"http://[",
    b"{",
    b"[]",
    b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    b"<script>alert(1)</script>",
    b"' OR '1'='1",
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    params: dict[str, str]
    kind: str  # "oauth-json" (RFC 6749 §5.2 errors), "redirect" (authorization/logout), or "any"
    basic: tuple[str, str] | None = None


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/authorize",
        {
            "response_type": "code",
            "client_id": "demo-web",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile",
            "state": "st",
            "nonce": "nn",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            "prompt": "none",
            "max_age": "60",
            "claims": '{"id_token": {"email": null}}',
            "resource": "https://api.example.com/",
            "response_mode": "query",
            "login_hint": "alice",
        },
        "redirect",
    ),
    Endpoint(
        "POST",
        "/token",
        {
            "grant_type": "authorization_code",
            "code": "not-a-code",
            "redirect_uri": REDIRECT_URI,
            "code_verifier": VERIFIER,
            "client_id": "demo-web",
            "client_secret": "demo-web-secret",
            "resource": "https://api.example.com/",
        },
        "oauth-json",
    ),
    Endpoint(
        "POST",
        "/token",
        {"grant_type": "refresh_token", "refresh_token": "not-a-token", "scope": "openid"},
        "oauth-json",
        basic=("demo-web", "demo-web-secret"),
    ),
    Endpoint(
        "POST",
        "/token",
        {"grant_type": "client_credentials", "scope": "users:read"},
        "oauth-json",
        basic=("demo-service", "demo-service-secret"),
    ),
    Endpoint(
        "POST",
        "/token",
        {"grant_type": "authorization_code", "code": "x", "code_verifier": VERIFIER, "client_id": "demo-spa"},
        "oauth-json",
    ),
    Endpoint(
        "POST", "/revoke", {"token": "x", "token_type_hint": "access_token", "client_id": "demo-spa"}, "any"
    ),
    Endpoint(
        "POST",
        "/revoke",
        {"token": "eyJhbGciOiJub25lIn0.e30.", "client_id": "demo-web", "client_secret": "demo-web-secret"},
        "any",
    ),
    Endpoint(
        "POST",
        "/introspect",
        {"token": "x", "token_type_hint": "refresh_token"},
        "oauth-json",
        basic=("demo-web", "demo-web-secret"),
    ),
    Endpoint("GET", "/userinfo", {"schema": "openid"}, "any"),
    Endpoint("POST", "/userinfo", {"access_token": "not-a-token"}, "any"),
    Endpoint(
        "GET",
        "/end-session",
        {
            "client_id": "demo-web",
            "id_token_hint": "eyJhbGciOiJub25lIn0.e30.",
            "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": "st",
            "ui_locales": "en",
        },
        "redirect",
    ),
    Endpoint(
        "POST",
        "/end-session",
        {"client_id": "demo-web", "post_logout_redirect_uri": POST_LOGOUT_URI},
        "redirect",
    ),
    Endpoint("GET", "/login", {"next": "/authorize?client_id=demo-web"}, "redirect"),
    Endpoint("POST", "/login", {"username": "alice", "password": "wrong", "next": "/"}, "redirect"),
    Endpoint("POST", "/password-reset", {"email": "alice@example.com"}, "redirect"),
    Endpoint("GET", "/api/v1/users", {"search": "alice", "page": "1"}, "any"),
)

# Credentials in the Authorization header, as a client or a bearer would send them (or mangle them).
# No control characters: those make the request invalid HTTP, refused by gunicorn before the application.
HOSTILE_AUTHORIZATIONS: tuple[str, ...] = (
    "Basic " + base64.b64encode(b"demo-web\x00:demo-web-secret").decode(),
    "Basic " + base64.b64encode("d\u00e9mo:x".encode()).decode(),
    "Basic !!!",
    "Basic " + base64.b64encode(b"no-colon").decode(),
    "Bearer " + "a" * 5000,
    "Digest x",
)
CONTENT_TYPES: tuple[str, ...] = (
    "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data",
    "application/json",
    "text/plain",
)


@dataclass
class Report:
    statuses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def _encode(pairs: list[tuple[str, bytes]]) -> str:
    return "&".join(
        f"{quote_from_bytes(k.encode(), safe='')}={quote_from_bytes(v, safe='')}" for k, v in pairs
    )


def variants(endpoint: Endpoint) -> Iterator[tuple[str, list[tuple[str, bytes]], dict[str, str]]]:
    """(label, parameters, extra headers): each parameter replaced by each value, repeated, dropped."""
    base = [(name, value.encode()) for name, value in endpoint.params.items()]
    yield "as is", base, {}
    for index, (name, original) in enumerate(base):
        for value in HOSTILE_VALUES:
            yield f"{name}={value[:20]!r}", [*base[:index], (name, value), *base[index + 1 :]], {}
        yield f"{name} repeated", [*base, (name, original)], {}
        yield f"{name} dropped", base[:index] + base[index + 1 :], {}
    for value in HOSTILE_VALUES[:4]:
        yield f"extra parameter {value!r}", [*base, (value.decode("latin-1"), value)], {}
    for authorization in HOSTILE_AUTHORIZATIONS:
        yield f"Authorization {authorization[:20]!r}", base, {"Authorization": authorization}
    if endpoint.method == "POST":
        for content_type in CONTENT_TYPES:
            yield f"Content-Type {content_type}", base, {"Content-Type": content_type}


def _allowed_redirect(location: str, *, base_url: str, path: str) -> bool:
    resolved = urlsplit(urljoin(base_url + path, location.replace("\\", "/")))
    site = urlsplit(base_url)
    if (resolved.scheme, resolved.netloc) == (site.scheme, site.netloc):
        return True
    target = f"{resolved.scheme}://{resolved.netloc}{resolved.path}"
    return target in (REDIRECT_URI, POST_LOGOUT_URI)


def check(endpoint: Endpoint, response: requests.Response, *, base_url: str) -> str | None:
    """What is wrong with this answer, or None."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if endpoint.kind == "oauth-json" and response.status_code >= 400:
        if response.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return f"HTTP {response.status_code} error as {response.headers.get('Content-Type')}"
        try:
            if "error" not in response.json():
                return "JSON error without an error member"
        except ValueError:
            return "an error body that is not JSON"
    location = response.headers.get("Location")
    if location and not _allowed_redirect(location, base_url=base_url, path=endpoint.path):
        return f"redirect to {location[:120]}"
    return None


def run(base_url: str, *, timeout: float = 10.0) -> Report:
    """Send every variant of every endpoint once; the report counts answers and lists rule breaks."""
    report = Report()
    with requests.Session() as session:
        for endpoint in ENDPOINTS:
            for label, pairs, headers in variants(endpoint):
                encoded = _encode(pairs)
                auth = endpoint.basic if "Authorization" not in headers else None
                if endpoint.method == "GET":
                    response = session.get(
                        f"{base_url}{endpoint.path}?{encoded}",
                        headers=headers,
                        auth=auth,
                        allow_redirects=False,
                        timeout=timeout,
                    )
                else:
                    response = session.post(
                        f"{base_url}{endpoint.path}",
                        data=encoded.encode("ascii"),
                        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
                        auth=auth,
                        allow_redirects=False,
                        timeout=timeout,
                    )
                report.statuses[f"{response.status_code // 100}xx"] += 1
                problem = check(endpoint, response, base_url=base_url)
                if problem:
                    report.problems.append(f"{endpoint.method} {endpoint.path} [{label}]: {problem}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    report = run(args.base_url.rstrip("/"))
    print(f"{report.total} requests: " + ", ".join(f"{n} x {k}" for k, n in sorted(report.statuses.items())))
    for problem in report.problems:
        print("PROBLEM", problem)
    print(f"hostile input: {report.total} requests, {len(report.problems)} problems")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
