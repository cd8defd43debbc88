"""What the explorer keeps of an HTTP message: everything but passwords, cookies, CSRF and typed codes.

Dropped at capture, never stored: the values of ``NEVER_RECORDED_NAMES`` (in the query, a form or
JSON body) and the ``NEVER_RECORDED_HEADERS``, plus any name a caller adds (the one-time code a
person types on /login/verify), and the browser's own HTTP credentials (``BROWSER_CREDENTIAL_HEADERS``).
Everything else is kept as sent, secrets included, sealed at rest and masked on display
(idp.explorer.masking) unless the person reveals them. An HTML page's body is kept as
``[HTML page: <its title>]``; other bodies are cut after ``MAX_BODY`` characters.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException

from .records import NEVER_RECORDED_HEADERS, NEVER_RECORDED_NAMES, RecordedRequest, RecordedResponse

MAX_BODY = 16 * 1024
MAX_JSON_READ = 8 * MAX_BODY  # a longer JSON body is not read (its names to drop would cost a parse)
MAX_NESTING = 100  # brackets open at once in a kept body (JSON or anything that looks like it)
# What a browser sends as the person's own credentials: a user name and password for a site or a proxy
# behind HTTP authentication (a staging server's gate). The explorer's own Authorization header (its
# client authentication, its bearer token) is kept; the person's never is.
BROWSER_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _dropped(names: Iterable[str]) -> frozenset[str]:
    return NEVER_RECORDED_NAMES | {name.lower() for name in names}


def _kept_pairs(pairs: list[tuple[str, str]], drop: frozenset[str]) -> tuple[list[tuple[str, str]], bool]:
    kept = [(name, value) for name, value in pairs if name.lower() not in drop]
    return kept, len(kept) != len(pairs)


def without_names_in_query(url: str, drop: frozenset[str]) -> str:
    """``url`` without the dropped parameters (unchanged, byte for byte, when none is there), cut
    after ``MAX_BODY`` characters."""
    parts = urlsplit(url)
    kept, changed = _kept_pairs(parse_qsl(parts.query, keep_blank_values=True), drop)
    return _cut(urlunsplit(parts._replace(query=urlencode(kept))) if changed else url)


def _shallow(body: str) -> str:
    """``body``, unless it opens more than ``MAX_NESTING`` brackets at once: the pages that show a
    message read any body that looks like JSON as JSON, and so deep a one ends their parser
    (RecursionError). No client sends such a body; a person can, to any page the middleware records."""
    depth, in_string, escaped = 0, False, False
    for character in body:
        if in_string:
            escaped, in_string = (False, True) if escaped else (character == "\\", character != '"')
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return "[a body nested too deep to show: not recorded]"
        elif character in "]}":
            depth -= 1
    return body


def _cut(text: str) -> str:
    if len(text) <= MAX_BODY:
        return text
    return f"{text[:MAX_BODY]}… [cut: {len(text) - MAX_BODY} more characters]"


def _without_json_names(value, drop: frozenset[str]):
    if isinstance(value, dict):
        return {k: _without_json_names(v, drop) for k, v in value.items() if str(k).lower() not in drop}
    if isinstance(value, list):
        return [_without_json_names(item, drop) for item in value]
    return value


def request_body(body: str, *, content_type: str, drop: frozenset[str]) -> str:
    """A request body as kept: form and JSON bodies without the dropped names; others cut."""
    return _shallow(_request_body(body, content_type=content_type, drop=drop))


def _request_body(body: str, *, content_type: str, drop: frozenset[str]) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        # Only what is kept is read: a form of a million fields costs no more than a small one.
        head = body[:MAX_BODY]
        kept, changed = _kept_pairs(parse_qsl(head, keep_blank_values=True), drop)
        text = urlencode(kept) if changed else head
        return text + (f"… [cut: {len(body) - MAX_BODY} more characters]" if len(body) > MAX_BODY else "")
    if media == "application/json" or media.endswith("+json"):
        if len(body) > MAX_JSON_READ:
            return f"[a JSON body of {len(body)} characters: not recorded]"
        try:
            return _cut(json.dumps(_without_json_names(json.loads(body), drop)))
        except (ValueError, RecursionError):
            return "[a body that is not JSON: not recorded]"
    if media.startswith("multipart/"):
        return "[multipart body: not recorded]"
    return _cut(body)


def _headers(
    pairs: Iterable[tuple[str, str]], *, drop: frozenset[str] = frozenset()
) -> tuple[tuple[str, str], ...]:
    dropped = NEVER_RECORDED_HEADERS | drop
    return tuple((name, value) for name, value in pairs if name.lower() not in dropped)


def recorded_request(request: RecordedRequest, *, also_drop: Iterable[str] = ()) -> RecordedRequest:
    """A request the explorer built (idp.explorer.transport), as it is kept."""
    drop = _dropped(also_drop)
    content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
    return RecordedRequest(
        method=request.method,
        url=without_names_in_query(request.url, drop),
        headers=_headers(request.headers),
        body=request_body(request.body, content_type=content_type, drop=drop) if request.body else "",
    )


def _raw_body(request: HttpRequest) -> str:
    try:
        return request.body.decode("utf-8", errors="replace")
    except (RawPostDataException, RequestDataTooBig, BadRequest, OSError):
        return "[body not recorded: it could not be read]"


def browser_request(request: HttpRequest, *, also_drop: Iterable[str] = ()) -> RecordedRequest:
    """A request the person's browser sent to this site, as it is kept (read before the view runs)."""
    drop = _dropped(also_drop)
    body = _raw_body(request) if request.method not in ("GET", "HEAD") else ""
    return RecordedRequest(
        method=request.method,
        url=without_names_in_query(request.build_absolute_uri(), drop),
        headers=_headers(request.headers.items(), drop=BROWSER_CREDENTIAL_HEADERS),
        body=request_body(body, content_type=request.content_type or "", drop=drop) if body else "",
    )


def _html_title(text: str) -> str:
    match = _TITLE.search(text)
    title = " ".join(html.unescape(match.group(1)).split()) if match else ""
    return title[:200] or "untitled"


def recorded_response(response: HttpResponse) -> RecordedResponse:
    """A response as kept: status, reason, headers but cookies, and the body (an HTML page by its title)."""
    content = b"[a streamed body: not recorded]" if response.streaming else response.content
    try:
        text = content.decode(response.charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = content.decode("utf-8", errors="replace")
    media = response.get("Content-Type", "").split(";")[0].strip().lower()
    body = f"[HTML page: {_html_title(text)}]" if media == "text/html" and text else _shallow(_cut(text))
    return RecordedResponse(
        status=response.status_code,
        reason=response.reason_phrase,
        headers=_headers(response.items()),
        body=body,
    )
