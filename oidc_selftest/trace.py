"""``--trace``: each HTTP request and response as text an operator can read and paste, secrets masked.

Masked: the values of protocol parameters that are credentials or grants (by name: in URL queries and
fragments, form bodies, JSON bodies whatever their content type, and HTML ``<input>`` elements such as a
form_post page's), the Authorization header, every cookie's value, anything shaped like a JWT, and
every value the run knows to be secret (client secrets, the password, codes, tokens, PKCE verifiers)
wherever it appears, in each spelling it may take on the wire (plain, form- or percent-encoded, HTML-
or JSON-escaped). Parameters are masked where they stand, never decoded and encoded again, so a secret
keeps the spelling it was sent in and is still recognised. Bodies are cut after ``MAX_BODY`` characters.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

import requests

MASK = "[masked]"
MAX_BODY = 4000
SECRET_PARAMETERS = frozenset(
    {
        "code",
        "code_verifier",
        "client_secret",
        "client_assertion",
        "assertion",
        "password",
        "access_token",
        "refresh_token",
        "id_token",
        "id_token_hint",
        "logout_token",
        "token",
        "request",
        "device_code",
        "user_code",
        "csrfmiddlewaretoken",  # Django's form token unmasks to the csrftoken cookie's value
    }
)
# ``name=value`` of a secret parameter inside text (a page saying "Redirecting to ...?code=..."); after
# ``?``, ``#``, ``&`` or ``;`` (the end of ``&amp;``).
_PARAMETER_IN_TEXT = re.compile(
    r"(?<=[?#&;])(" + "|".join(sorted(SECRET_PARAMETERS, key=len, reverse=True)) + r")=[^&\s\"'<>#]+"
)
# An HTML ``<input>`` element and one attribute in it (quoted either way or not at all, any order).
_INPUT = re.compile(r"""<input\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'=<>/`]+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
# One cookie of a Set-Cookie value, or of several joined with ", " (as ``requests`` joins them): a new
# cookie starts after ", " with ``name=``; an Expires date ("Wed, 21 Oct 2026") never looks like that.
_COOKIE = re.compile(r"(?:^|(?<=,))(\s*)([^;,=\s]+)=([^;,]*)")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_SECRET_HEADERS = {"authorization", "proxy-authorization", "dpop"}


def spellings(secrets: Iterable[str]) -> list[str]:
    """Each secret as written, form-encoded, percent-encoded, HTML-escaped and JSON-escaped, longest first."""
    found = {
        variant
        for value in secrets
        if value
        for variant in (
            value,
            quote_plus(value),
            quote(value, safe=""),
            quote(value),
            html.escape(value),
            html.escape(value, quote=False),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        )
    }
    return sorted(found, key=len, reverse=True)


def mask_known(text: str, secrets: Iterable[str]) -> str:
    for value in spellings(secrets):
        text = text.replace(value, MASK)
    return _JWT.sub(MASK, text)


def mask_query(query: str) -> str:
    """``query`` (or a form body, or a fragment) with each secret parameter's value masked in place: the
    rest keeps its spelling, so that a known secret among it is still found by :func:`mask_known`."""
    pieces = []
    for piece in query.split("&"):
        name, equals, value = piece.partition("=")
        secret = equals and value and unquote_plus(name) in SECRET_PARAMETERS
        pieces.append(f"{name}={MASK}" if secret else piece)
    return "&".join(pieces)


def mask_url(url: str) -> str:
    """``url`` with the secret parameters of its query and of its fragment (an implicit-style response,
    ``#code=...``) masked."""
    parts = urlsplit(url)
    if not parts.query and "=" not in parts.fragment:
        return url
    fragment = mask_query(parts.fragment) if "=" in parts.fragment else parts.fragment
    return urlunsplit((parts.scheme, parts.netloc, parts.path, mask_query(parts.query), fragment))


def _mask_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if k in SECRET_PARAMETERS and v else _mask_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json(item) for item in value]
    return value


def _mask_input(match: re.Match[str]) -> str:
    """One ``<input>`` element, its ``value`` masked if its ``name`` is a secret parameter's."""
    tag = match.group(0)
    attributes = {m.group(1).lower(): m for m in _ATTRIBUTE.finditer(tag, 6)}
    name, value = attributes.get("name"), attributes.get("value")
    if name is None or value is None or value.group(3) is None:
        return tag
    if html.unescape(name.group(3) or "").strip("\"'") not in SECRET_PARAMETERS:
        return tag
    quote_mark = value.group(3)[0] if value.group(3)[0] in "\"'" else '"'
    return tag[: value.start(3)] + quote_mark + MASK + quote_mark + tag[value.end(3) :]


def mask_body(body: str, content_type: str) -> str:
    """``body`` with secret parameters masked: as a form, as JSON (whatever the content type says, if it
    parses), or as text and HTML (``?code=...`` in a link, ``<input name="code" value="...">``)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return mask_query(body)
    if body.lstrip()[:1] in {"{", "["}:
        try:
            return json.dumps(_mask_json(json.loads(body)), indent=1, ensure_ascii=False)
        except ValueError:
            pass
    body = _INPUT.sub(_mask_input, body)
    return _PARAMETER_IN_TEXT.sub(lambda match: f"{match.group(1)}={MASK}", body)


def mask_set_cookie(value: str) -> str:
    """Every cookie's value masked, its attributes (Path, Expires, HttpOnly...) left readable."""
    return _COOKIE.sub(lambda m: f"{m.group(1)}{m.group(2)}={MASK}" if m.group(3) else m.group(0), value)


def mask_header(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in _SECRET_HEADERS:
        scheme = value.split(" ", 1)[0] if " " in value else ""
        return f"{scheme} {MASK}".strip()
    if lowered == "cookie":
        return "; ".join(
            f"{pair.split('=', 1)[0].strip()}={MASK}" for pair in value.split(";") if pair.strip()
        )
    if lowered == "set-cookie":
        return mask_set_cookie(value)
    if lowered in {"location", "referer", "content-location"}:
        return mask_url(value)
    return _PARAMETER_IN_TEXT.sub(lambda match: f"{match.group(1)}={MASK}", value)


def _text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body


def _cut(text: str) -> str:
    return (
        text if len(text) <= MAX_BODY else text[:MAX_BODY] + f"\n... ({len(text) - MAX_BODY} more characters)"
    )


def _headers(headers: Any) -> list[str]:
    return [f"  {name}: {mask_header(name, str(value))}" for name, value in headers.items()]


def _response_headers(response: requests.Response) -> list[str]:
    """The headers as they came, one line per ``Set-Cookie`` (``requests`` joins repeated ones)."""
    raw = getattr(response.raw, "headers", None)
    if raw is not None and hasattr(raw, "getlist"):
        return _headers(raw)
    return _headers(response.headers)


def request_lines(request: requests.PreparedRequest) -> list[str]:
    lines = [f"> {request.method} {mask_url(request.url or '')}", *_headers(request.headers)]
    body = _text(request.body)
    if body:
        lines.append("  " + _cut(mask_body(body, request.headers.get("Content-Type", ""))))
    return lines


def response_lines(response: requests.Response) -> list[str]:
    lines = [f"< {response.status_code} {response.reason or ''}".rstrip(), *_response_headers(response)]
    body = response.text
    if body:
        lines.append("  " + _cut(mask_body(body, response.headers.get("Content-Type", ""))))
    return lines


def trace_exchange(
    write: Callable[[str], None],
    secrets: Iterable[str],
    *,
    request: requests.PreparedRequest | None,
    response: requests.Response | None = None,
    failure: str | None = None,
) -> None:
    """Write one exchange, every line masked: the request, then the response or why there was none."""
    lines = request_lines(request) if request is not None else []
    if response is not None:
        lines += response_lines(response)
    if failure is not None:
        lines.append(f"< no response: {failure}")
    write(mask_known("\n".join(lines), list(secrets)) + "\n")
