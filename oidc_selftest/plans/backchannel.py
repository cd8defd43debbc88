"""Back-Channel Logout OP plan: discovery, and a logout token POSTed to the RP at RP-initiated logout.

Run it with ``--plan backchannel``: the provider must reach this machine at the first client's
registered ``backchannel_logout_uri`` (``--backchannel-logout-uri``, where the check listens) and
deliver logout tokens while it runs (for django-idp: ``manage.py idp_deliver_logouts``).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ..context import Context
from ..registry import CheckFailed, module
from ..tokens import jwt_parts, signed_in, verify_id_token
from .logout import end_session, expect_logout_redirect, expect_session_ended, logout_state

EVENT = "http://schemas.openid.net/event/backchannel-logout"
WAIT = 30.0  # seconds the provider has to deliver the logout token


class LogoutTokenReceiver:
    """The RP's back-channel logout endpoint: records every ``logout_token`` POSTed to its path."""

    def __init__(self, uri: str) -> None:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        try:
            bind = str(ipaddress.ip_address(host))
        except ValueError:
            bind = "127.0.0.1" if host == "localhost" else ""  # a public name: every interface
        self.path = parts.path or "/"
        self.tokens: list[str] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = min(int(self.headers.get("Content-Length") or 0), 65536)
                form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                ok = urlsplit(self.path).path == receiver.path and "logout_token" in form
                if ok:
                    receiver.tokens.append(form["logout_token"][0])
                    receiver.arrived.set()
                self.send_response(200 if ok else 400)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        try:
            self.server = ThreadingHTTPServer((bind, parts.port or 80), Handler)
        except OSError as exc:
            raise CheckFailed(f"cannot listen for the logout token at {uri}: {exc}") from None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _discovery_flags(ctx: Context) -> dict:
    doc = ctx.discovery()
    if doc.get("backchannel_logout_supported") is not True:
        raise CheckFailed("backchannel_logout_supported is not true in the discovery document")
    if doc.get("backchannel_logout_session_supported") is not True:
        raise CheckFailed("backchannel_logout_session_supported is not true: the plan requires sid")
    return doc


@module(
    "oidcc-backchannel-logout-discovery-endpoint-verification",
    "backchannel",
    "backchannel_logout_supported and backchannel_logout_session_supported (sid) are advertised",
)
def backchannel_discovery(ctx: Context):
    _discovery_flags(ctx)
    if not ctx.discovery().get("end_session_endpoint"):
        raise CheckFailed("end_session_endpoint is missing: the plan logs out through it")
    return ctx.verdict()


def check_logout_token(ctx: Context, raw: str, *, id_claims: dict) -> dict:
    """Back-Channel Logout 1.0 §2.4 and §2.6, as the relying party validates a logout token."""
    ctx.secret(raw)
    header, _ = jwt_parts(raw)
    claims = verify_id_token(ctx, raw, client=ctx.client, what="the logout token")
    if header.get("typ") not in (None, "logout+jwt", "JWT"):
        raise CheckFailed(f"the logout token's typ is {header.get('typ')!r}")
    if header.get("typ") != "logout+jwt":
        ctx.warn("the logout token is not typed logout+jwt (recommended by §2.4)")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise CheckFailed("the logout token has no jti")
    events = claims.get("events")
    if not isinstance(events, dict) or events.get(EVENT) != {}:
        raise CheckFailed(f"the logout token's events lack {{{EVENT!r}: {{}}}}")
    if "nonce" in claims:
        raise CheckFailed("the logout token carries a nonce (§2.4 forbids it)")
    if claims.get("sid") != id_claims.get("sid"):
        raise CheckFailed("the logout token's sid differs from the ID token's")
    if claims.get("sub") != id_claims.get("sub"):
        raise CheckFailed("the logout token's sub differs from the ID token's")
    return claims


@module(
    "oidcc-backchannel-rp-initiated-logout",
    "backchannel",
    "RP-initiated logout: a valid logout token with the ID token's sid is POSTed to the RP, the user is "
    "redirected back with state, and the session has ended",
)
def backchannel_rp_initiated_logout(ctx: Context):
    _discovery_flags(ctx)
    receiver = LogoutTokenReceiver(ctx.config.backchannel_logout_uri)
    try:
        browser, flow = signed_in(ctx)
        if not flow.claims.get("sid"):
            raise CheckFailed("the ID token has no sid although backchannel_logout_session_supported is true")
        state = logout_state()
        params = {
            "id_token_hint": flow.id_token,
            "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri,
        }
        outcome = end_session(ctx, browser, {**params, "state": state})
        expect_logout_redirect(ctx, outcome, state)
        deadline = time.monotonic() + min(WAIT, max(1.0, ctx.remaining() - 5))
        mine: list[str] = []
        while time.monotonic() < deadline and not mine:
            receiver.arrived.wait(0.2)
            # Earlier sessions' logout tokens may arrive too: ours carries the ID token's sid.
            mine = [raw for raw in receiver.tokens if jwt_parts(raw)[1].get("sid") == flow.claims["sid"]]
        if not mine:
            raise CheckFailed(
                f"no logout token for this session reached {ctx.config.backchannel_logout_uri} within "
                f"{WAIT:.0f} s (is it the client's registered backchannel_logout_uri, and is the "
                "provider delivering?)"
            )
        check_logout_token(ctx, mine[0], id_claims=flow.claims)
        expect_session_ended(ctx, browser)
    finally:
        receiver.close()
    return ctx.verdict()
