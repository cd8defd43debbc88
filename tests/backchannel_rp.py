"""A relying party's back-channel logout endpoint, as a real HTTP server on a loopback port, for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class LogoutReceiver:
    """Records every POST it receives; answers ``statuses`` in turn (then 200), e.g. [500, 503].

    With ``verify`` (a logout token -> its claims, raising if invalid), it is a relying party that checks
    what it gets: verified claims go to ``verified``, and an invalid token is answered 400 (§2.8).
    """

    def __init__(
        self,
        statuses: list[int] | None = None,
        *,
        redirect_to: str | None = None,
        verify: Callable[[str], dict] | None = None,
    ):
        self.statuses = list(statuses or [])
        self.redirect_to = redirect_to
        self.verify = verify
        self.received: list[dict] = []
        self.verified: list[dict] = []
        self.errors: list[str] = []
        self.event = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                receiver.received.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "form": {k: v[0] for k, v in parse_qs(body).items()},
                    }
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.verify is not None:
                    try:
                        receiver.verified.append(
                            receiver.verify(receiver.received[-1]["form"]["logout_token"])
                        )
                    except Exception as exc:  # any reason to refuse the token
                        receiver.errors.append(repr(exc))
                        status = 400
                if receiver.redirect_to:
                    status = 302
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.event.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"

    @property
    def tokens(self) -> list[str]:
        return [entry["form"].get("logout_token") for entry in self.received]

    def __enter__(self) -> LogoutReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
