"""What a recorded exchange says at a glance: its path, its status's reason, the OAuth error it carries."""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from urllib.parse import SplitResult, parse_qs, urlsplit

from .records import Exchange

_CHALLENGE_ERROR = re.compile(r'error="([^"]*)"')
_CHALLENGE_DESCRIPTION = re.compile(r'error_description="([^"]*)"')


def split_url(url: str) -> SplitResult:
    """``urlsplit(url)``, even for a URL it refuses (``http://[``): then scheme and host are left empty."""
    try:
        return urlsplit(url)
    except ValueError:
        rest, _, fragment = url.partition("#")
        path, _, query = rest.partition("?")
        return SplitResult("", "", path, query, fragment)


def path_of(url: str) -> str:
    """The path of ``url``, without its query or fragment (where codes and tokens travel)."""
    return split_url(url).path or "/"


def reason_of(status: int, reason: str = "") -> str:
    """The reason phrase of ``status``: the recorded one, else the standard one."""
    if reason:
        return reason
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def status_class(status: int) -> str:
    """``2xx``, ``3xx``, ``4xx`` or ``5xx`` (``1xx`` too); anything else counts as ``5xx``."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "5xx"


def error_of(exchange: Exchange) -> tuple[str, str]:
    """The OAuth ``error`` the exchange carries and its ``error_description``, else ``("", "")``.

    Looked for in the response's JSON body, its ``WWW-Authenticate`` challenge, its ``Location`` (an
    error sent back to the redirect_uri) and, for the callback, in the request's own query."""
    response = exchange.response
    try:
        body = json.loads(response.body) if response.body.lstrip().startswith("{") else None
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return body["error"], description if isinstance(description, str) else ""
    for name, value in response.headers:
        if name.lower() == "www-authenticate" and (found := _CHALLENGE_ERROR.search(value)):
            description = _CHALLENGE_DESCRIPTION.search(value)
            return found.group(1), description.group(1) if description else ""
    urls = [value for name, value in response.headers if name.lower() == "location"]
    if exchange.step == "authorization_response":
        urls.append(exchange.request.url)
    for url in urls:
        parts = split_url(url)
        for text in (parts.query, parts.fragment):
            params = parse_qs(text)
            if params.get("error"):
                return params["error"][0], params.get("error_description", [""])[0]
    return "", ""
