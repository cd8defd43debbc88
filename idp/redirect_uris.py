"""Registered redirect URIs: the same characters, except a native app's loopback port (RFC 8252 §7.3)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .conf import is_loopback_url

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


def is_registered(uri: str, registered: list[str], *, native: bool) -> bool:
    """Simple string comparison (OIDC Core 3.1.2.1), but for RFC 8252 §7.3's loopback port.

    DOT lets a request pick any port of any client's ``http://127.0.0.1`` or ``http://[::1]``
    redirect URI (and compares parsed parts, so ``:08765`` is ``:8765``). Only a native app
    needs that, for the ephemeral port it listens on; every other client matches exactly.
    """
    if uri in registered:
        return True
    return native and any(same_but_loopback_port(uri, allowed) for allowed in registered)


def allowed_schemes(uris: list[str]) -> list[str]:
    """https, plus the schemes of these loopback or private-use redirect URIs."""
    schemes = {"https"}
    for uri in uris:
        scheme = urlsplit(uri).scheme
        if scheme == "http" and is_loopback_url(uri):
            schemes.add("http")
        elif scheme and scheme not in {"http", "https"} and "." in scheme:
            schemes.add(scheme)  # RFC 8252 private-use scheme, e.g. com.example.app
    return sorted(schemes)
