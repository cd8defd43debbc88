"""Secrets hidden for display: an exchange with every secret value shortened to a masked text."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus

from .records import (
    NEVER_RECORDED_HEADERS,
    NEVER_RECORDED_NAMES,
    SECRET_HEADERS,
    SECRET_NAMES,
    Exchange,
    RecordedRequest,
    RecordedResponse,
)

# A value at least this long keeps its first characters visible (enough to match it with another
# message); a shorter one would give away too much of itself, and shows none.
SHOWN_PREFIX = 6
LONG_ENOUGH_TO_SHOW_A_PREFIX = 16
NOT_RECORDED = "[not recorded]"
# Headers whose value is a URL that may carry a code or a token in its query or fragment.
URL_HEADERS = frozenset({"location", "content-location", "refresh"})


def mask_value(value: str) -> str:
    """``value`` as ``abc123… [masked, 43 characters]``: its first 6 characters (only for a long
    value) and its length."""
    value = str(value)
    shown = value[:SHOWN_PREFIX] if len(value) >= LONG_ENOUGH_TO_SHOW_A_PREFIX else ""
    unit = "character" if len(value) == 1 else "characters"
    return f"{shown}… [masked, {len(value)} {unit}]"


def masked(exchange: Exchange) -> Exchange:
    """``exchange`` as shown by default: every secret value (SECRET_NAMES in the query, a form or JSON
    body, a URL header; SECRET_HEADERS) masked, and anything never to be recorded removed."""
    return _rewritten(exchange, mask_value)


def scrubbed(exchange: Exchange) -> Exchange:
    """``exchange`` as shown when the person reveals secrets: tokens and codes in full, but passwords,
    cookies and CSRF tokens removed, should a record ever hold one."""
    return _rewritten(exchange, None)


def secret_values(exchange: Exchange) -> set[str]:
    """Every secret value ``exchange`` holds (what ``masked`` would mask), in full."""
    found: set[str] = set()

    def collect(value: str) -> str:
        found.add(value)
        return value

    _rewritten(exchange, collect)
    return found


def _rewritten(exchange: Exchange, mask: Callable[[str], str] | None) -> Exchange:
    request, response = exchange.request, exchange.response
    request_type = _header(request.headers, "content-type")
    response_type = _header(response.headers, "content-type")
    return replace(
        exchange,
        request=RecordedRequest(
            method=request.method,
            url=_url(request.url, mask),
            headers=_headers(request.headers, mask),
            body=_body(request.body, request_type, mask),
        ),
        response=RecordedResponse(
            status=response.status,
            reason=response.reason,
            headers=_headers(response.headers, mask),
            body=_body(response.body, response_type, mask),
        ),
    )


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def _headers(headers: tuple[tuple[str, str], ...], mask: Callable[[str], str] | None):
    kept = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in NEVER_RECORDED_HEADERS:
            continue
        if lowered in SECRET_HEADERS and mask is not None:
            value = _authorization(value, mask)
        elif lowered in URL_HEADERS:
            value = _url(value, mask)
        kept.append((name, value))
    return tuple(kept)


def _authorization(value: str, mask: Callable[[str], str]) -> str:
    """``Bearer <masked>``; ``Basic base64(<client_id>:<masked secret>)``: the client_id stays readable."""
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return f"{scheme} {mask(credentials)}"
        client_id, colon, secret = decoded.partition(":")
        if colon:
            return f"{scheme} base64({unquote_plus(client_id)}:{mask(unquote_plus(secret))})"
        return f"{scheme} {mask(credentials)}"
    if credentials:
        return f"{scheme} {mask(credentials.strip())}"
    return mask(value)


def _url(url: str, mask: Callable[[str], str] | None) -> str:
    """``url`` with secret query and fragment parameters masked (RFC 6749 §4.2 puts tokens in the
    fragment), the rest of its text as it was."""
    base, hash_mark, fragment = url.partition("#")
    path, question_mark, query = base.partition("?")
    if question_mark:
        query = _params(query, mask)
    if hash_mark:
        fragment = _params(fragment, mask)
    return f"{path}{question_mark}{query}{hash_mark}{fragment}"


def _params(text: str, mask: Callable[[str], str] | None) -> str:
    """A ``name=value&...`` text with secret values masked (shown decoded) and never-recorded ones removed."""
    parts = []
    for part in text.split("&"):
        name, equals, value = part.partition("=")
        key = unquote_plus(name)
        if key in NEVER_RECORDED_NAMES:
            parts.append(f"{name}={NOT_RECORDED}")
        elif key in SECRET_NAMES and equals and mask is not None:
            parts.append(f"{name}={mask(unquote_plus(value))}")
        else:
            parts.append(part)
    return "&".join(parts)


def _body(body: str, content_type: str, mask: Callable[[str], str] | None) -> str:
    if not body:
        return body
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return _params(body, mask)
    if media_type.endswith("json") or (not media_type and body.lstrip()[:1] in "{["):
        try:
            data = json.loads(body)
        except ValueError:
            return body
        cleaned = _json(data, mask)
        return body if cleaned == data else json.dumps(cleaned, indent=2, ensure_ascii=False)
    return body


def _json(data: Any, mask: Callable[[str], str] | None) -> Any:
    if isinstance(data, dict):
        cleaned = {}
        for key, value in data.items():
            if key in NEVER_RECORDED_NAMES:
                cleaned[key] = NOT_RECORDED
            elif key in SECRET_NAMES and value is not None and mask is not None:
                cleaned[key] = mask(value if isinstance(value, str) else json.dumps(value))
            else:
                cleaned[key] = _json(value, mask)
        return cleaned
    if isinstance(data, list):
        return [_json(item, mask) for item in data]
    return data
