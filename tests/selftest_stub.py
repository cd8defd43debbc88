"""A provider for the self-test's own tests: a real HTTP server on loopback whose pages each test writes.

Each route is a function of the request (method, path, query, form body, headers) returning status,
headers and body; every request is recorded, so a test can assert what the self-test sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from oidc_selftest.context import Context, Shared
from oidc_selftest.registry import Config

RP = "http://rp.selftest.invalid"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class Answer:
    status: int = 200
    body: str = ""
    # A list sends the header once per item (Set-Cookie).
    headers: dict[str, str | list[str]] = field(
        default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"}
    )


def redirect(location: str, status: int = 302) -> Answer:
    return Answer(status=status, headers={"Location": location})


def page(html: str, status: int = 200) -> Answer:
    return Answer(status=status, body=html)


def json_answer(document: dict, status: int = 200, **headers: str) -> Answer:
    return Answer(
        status=status, body=json.dumps(document), headers={"Content-Type": "application/json", **headers}
    )


Route = Callable[[Seen], Answer]


class StubOp:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.url = ""

    def discovery(self) -> dict[str, str]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "end_session_endpoint": f"{self.url}/end-session",
        }

    def context(self, **config: object) -> Context:
        settings = {
            "issuer": self.url,
            "redirect_uri": f"{RP}/callback",
            "post_logout_redirect_uri": f"{RP}/logged-out",
            "request_timeout": 5.0,
            **config,
        }
        return Context(Config(**settings), time.monotonic() + 30, Shared())

    def handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    form=dict(parse_qsl(body, keep_blank_values=True)),
                    headers=dict(self.headers.items()),
                )
                stub.seen.append(seen)
                if parts.path == "/.well-known/openid-configuration":
                    answer = json_answer(stub.discovery())
                else:
                    route = stub.routes.get(parts.path)
                    answer = route(seen) if route else Answer(status=404, body="not found")
                data = answer.body.encode()
                self.send_response(answer.status)
                for name, values in answer.headers.items():
                    for value in [values] if isinstance(values, str) else values:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = answer

        return Handler


@contextmanager
def stub_op() -> Iterator[StubOp]:
    stub = StubOp()
    server = ThreadingHTTPServer(("127.0.0.1", 0), stub.handler())
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
