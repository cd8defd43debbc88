"""The explorer's back-channel requests, dispatched in process through the site's own request handler.

A real HTTP/1.1 request (method, path, headers, body) goes through the full middleware stack and the
view, as if it had come over the network: no socket, so no self-call that would deadlock a server's
sync workers or loop through a load balancer. Only this provider's own endpoints can be named (no
URL from input: nothing to forge a request to another host with). Django's request_started and
request_finished are not sent (they would close the outer request's database connection), and the
thread's state the inner request changes (urlconf, language, request id) is put back.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, get_urlconf, reverse, set_urlconf
from django.utils import translation

from .. import logs
from ..conf import idp_settings
from .records import RecordedRequest

# What the explorer may call, by its own name -> the URL name of this provider's endpoint.
ENDPOINTS: dict[str, str] = {
    "discovery": "oauth2_provider:oidc-connect-discovery-info",
    "jwks": "oauth2_provider:jwks-info",
    "token": "oauth2_provider:token",
    "introspect": "oauth2_provider:introspect",
    "revoke": "oauth2_provider:revoke-token",
    "userinfo": "oauth2_provider:user-info",
    "device_authorization": "oauth2_provider:device-authorization",
    "me": "idp-api:me",
    "users": "idp-api:users",
}
USER_AGENT = "idp-flow-explorer/1 (in-process relying party)"
FORM = "application/x-www-form-urlencoded"


class UnknownEndpoint(ValueError):
    """The explorer was asked to call something that is not one of ``ENDPOINTS``."""


@dataclass(frozen=True)
class Reply:
    """A request as sent (nothing dropped yet: see idp.explorer.recorder) and the site's response."""

    request: RecordedRequest
    response: HttpResponse


_handlers: dict[tuple[str, ...], WSGIHandler] = {}


def _handler() -> WSGIHandler:
    """The site's handler with the current MIDDLEWARE (built once per middleware list)."""
    key = tuple(settings.MIDDLEWARE)
    if key not in _handlers:
        _handlers[key] = WSGIHandler()
    return _handlers[key]


def endpoint_url(endpoint: str) -> str:
    """The absolute URL, under the issuer, of one of ``ENDPOINTS``."""
    if endpoint not in ENDPOINTS:
        raise UnknownEndpoint(f"Not an endpoint the explorer calls: {endpoint!r}")
    return idp_settings.issuer_origin + reverse(ENDPOINTS[endpoint])


def _environ(outer: HttpRequest, *, method: str, url: str, headers: dict[str, str], body: bytes) -> dict:
    parts = urlsplit(url)
    prefix = get_script_prefix()
    secure = parts.scheme == "https"
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": prefix.rstrip("/"),
        "PATH_INFO": "/" + parts.path[len(prefix) :],
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "",
        "SERVER_PORT": str(parts.port or (443 if secure else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": parts.netloc,
        # The person's address, as the outer request had it: rate limits and audit events see them.
        "REMOTE_ADDR": outer.META.get("REMOTE_ADDR", ""),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if forwarded := outer.META.get("HTTP_X_FORWARDED_FOR"):
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    if secure and (proxy_header := getattr(settings, "SECURE_PROXY_SSL_HEADER", None)):
        environ[proxy_header[0]] = proxy_header[1]  # the proxy's word that the request came over https
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def dispatch(
    outer: HttpRequest,
    endpoint: str,
    *,
    method: str = "GET",
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send one request to ``endpoint`` (a key of ``ENDPOINTS``) inside the request ``outer``.

    ``form`` is sent as an ``application/x-www-form-urlencoded`` body; ``headers`` are added as
    given (e.g. ``Authorization``).
    """
    url = endpoint_url(endpoint)
    if query:
        url += "?" + urlencode(query)
    body = urlencode(form).encode("ascii") if form is not None else b""
    sent = {"Host": urlsplit(url).netloc, "User-Agent": USER_AGENT, "Accept": "application/json"}
    if form is not None:
        sent |= {"Content-Type": FORM, "Content-Length": str(len(body))}
    sent |= headers or {}
    environ = _environ(outer, method=method, url=url, headers=sent, body=body)
    urlconf, language, request_id = get_urlconf(), translation.get_language(), logs.current_request_id()
    request = WSGIRequest(environ)
    try:
        response = _handler().get_response(request)
    finally:
        # Never response.close(): it sends request_finished, which closes the outer request's
        # database connection. The request's own resources (uploaded files) are closed here.
        request.close()
        set_urlconf(urlconf)
        if language:
            translation.activate(language)
        else:
            translation.deactivate_all()
        if request_id:
            logs.start_request(request_id)
        else:
            logs.end_request()
    recorded = RecordedRequest(method=method, url=url, headers=tuple(sent.items()), body=body.decode("ascii"))
    return Reply(request=recorded, response=response)
