"""Registered redirect URIs: the same characters, except a native app's loopback port (RFC 8252 §7.3)."""

from __future__ import annotations

import re

# http://127.0.0.1 or http://[::1], then an optional port, then the rest of the registered URI.
LOOPBACK_PORT = re.compile(r"^(?P<prefix>http://(?:127\.0\.0\.1|\[::1\]))(?::\d+)?(?=[/?]|$)")
# A port as a client writes one: digits without a leading zero (at most 65535).
PORT = re.compile(r"[1-9][0-9]{0,4}")


def same_but_loopback_port(uri: str, registered: str) -> bool:
    """``uri`` is the registered loopback URI (an IP literal) on another port, else the same characters."""
    loopback = LOOPBACK_PORT.match(registered)
    if loopback is None:
        return False
    prefix, rest = loopback.group("prefix"), registered[loopback.end() :]
    if len(uri) < len(prefix) + len(rest) or not uri.startswith(prefix) or not uri.endswith(rest):
        return False
    port = uri[len(prefix) : len(uri) - len(rest)]
    return port == "" or (port[:1] == ":" and PORT.fullmatch(port[1:]) is not None and int(port[1:]) <= 65535)
