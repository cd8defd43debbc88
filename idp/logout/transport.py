"""The one outbound request: a logout token POSTed to a registered URI, to a checked address, no redirects."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
from urllib.parse import urlencode, urlsplit

from ..conf import idp_settings, is_loopback_url

USER_AGENT = "django-idp back-channel logout"


class DeliveryError(Exception):
    """The logout token was not accepted; the message says why (no secrets, no response bodies)."""


def private_targets_allowed() -> bool:
    """``IDP['BACKCHANNEL_LOGOUT_ALLOW_PRIVATE']``; unset, only when the issuer is on loopback."""
    allowed = idp_settings.BACKCHANNEL_LOGOUT_ALLOW_PRIVATE
    return is_loopback_url(idp_settings.ISSUER) if allowed is None else bool(allowed)


# IPv6 prefixes whose last 32 bits are an IPv4 address a gateway (or the host) reaches: NAT64's
# well-known prefix (RFC 6052), IPv4-compatible (deprecated) and IPv4-translated (RFC 2765) addresses.
_LAST_32_BITS_IPV4 = tuple(
    ipaddress.ip_network(prefix) for prefix in ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96")
)
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: this network's own translators


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global unicast address, judged by the IPv4 address an IPv6 one carries when it carries one."""
    if ip.version == 6:
        if ip in _LOCAL_NAT64:
            return False
        if ip.ipv4_mapped is not None or ip.sixtofour is not None:
            ip = ip.ipv4_mapped or ip.sixtofour
        elif any(ip in network for network in _LAST_32_BITS_IPV4) and int(ip) > 1:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def checked_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to, each refused unless public (or ``allow_private``).

    All are checked and the connection goes to one of them, never to a second lookup's answer: a
    name that resolves to a public address once and a private one next (DNS rebinding) gains nothing.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(f"cannot resolve {host}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise DeliveryError(f"cannot resolve {host}")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not is_public(ip) and not allow_private:
            raise DeliveryError(f"{host} resolves to a non-public address ({ip})")
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked ``address``; ``hang_up()`` (from another thread) ends the exchange."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._socket: socket.socket | None = None
        self.hung_up = False

    def _open(self) -> socket.socket:
        self._socket = socket.create_connection((self._address, self.port), self.timeout)
        return self._socket

    def connect(self):
        self.sock = self._open()

    def hang_up(self) -> None:
        """Shut the socket down under whatever is reading or writing it: it sees the end of the stream at
        once (which ``http.client`` may take for a short answer, so ``hung_up`` says it was cut)."""
        self.hung_up = True
        try:
            if self._socket is not None:
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)  # not SSLSocket's: no TLS state
        except OSError:
            pass  # not connected yet, or already closed


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, address=address, timeout=timeout)
        self._tls = ssl.create_default_context()

    def connect(self):
        tls = self._tls.wrap_socket(self._open(), server_hostname=self.host, do_handshake_on_connect=False)
        self._socket = tls  # the TCP socket's descriptor now belongs to it
        tls.do_handshake()  # the name's certificate
        self.sock = tls


def post_logout_token(uri: str, token: str, *, allow_private: bool, timeout: float) -> int:
    """POST ``logout_token=token`` (form-encoded) to ``uri``; the status of a 2xx answer, else DeliveryError.

    Only http(s); http only to loopback (as registration allows); redirects are not followed (a 3xx
    is a failure); ``timeout`` bounds the whole exchange, not just each read: a relying party dripping
    its answer a byte at a time is hung up on when it runs out.
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    loopback_http = scheme == "http" and is_loopback_url(uri)
    if not parts.hostname or not (scheme == "https" or loopback_http):
        raise DeliveryError("not an https URI")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise DeliveryError("invalid port") from exc
    addresses = checked_addresses(parts.hostname, port, allow_private=allow_private)
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address=addresses[0], timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = urlencode({"logout_token": token})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": USER_AGENT,
        "Cache-Control": "no-store",
    }
    watchdog = threading.Timer(timeout, connection.hang_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(4096)
    except (OSError, http.client.HTTPException) as exc:
        if connection.hung_up:
            raise DeliveryError(f"no answer from {parts.hostname} within {timeout:g} s") from exc
        raise DeliveryError(f"{type(exc).__name__} talking to {parts.hostname}") from exc
    finally:
        watchdog.cancel()
        connection.close()
    if connection.hung_up:  # the answer was cut short by the watchdog: not an answer
        raise DeliveryError(f"no answer from {parts.hostname} within {timeout:g} s")
    if not 200 <= response.status < 300:
        raise DeliveryError(f"answered HTTP {response.status}")
    return response.status
