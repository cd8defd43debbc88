"""``--trace``: each HTTP request and response as text an operator can read and paste, secrets masked.

Masked: the values of protocol parameters that are credentials or grants (in URLs, form bodies and
JSON bodies, by name), the Authorization header, cookie values, anything shaped like a JWT, and every
value the run knows to be secret (client secrets, the password, codes, tokens, PKCE verifiers), in
plain and percent-encoded spelling, wherever it appears. Bodies are cut after ``MAX_BODY`` characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

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
    }
)
# ``name=value`` of a secret parameter inside text (a page saying "Redirecting to ...?code=..."); after
# ``?``, ``&`` or ``;`` (the end of ``&amp;``).
_PARAMETER_IN_TEXT = re.compile(
    r"(?<=[?&;])(" + "|".join(sorted(SECRET_PARAMETERS, key=len, reverse=True)) + r")=[^&\s\"'<>#]+"
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_SECRET_HEADERS = {"authorization", "proxy-authorization", "dpop"}


def spellings(secrets: Iterable[str]) -> list[str]:
    """Each secret as written, form-encoded and percent-encoded, longest first."""
    found = {
        variant for value in secrets if value for variant in (value, quote_plus(value), quote(value, safe=""))
    }
    return sorted(found, key=len, reverse=True)


def mask_known(text: str, secrets: Iterable[str]) -> str:
    for value in spellings(secrets):
        text = text.replace(value, MASK)
    return _JWT.sub(MASK, text)


def _mask_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, MASK if name in SECRET_PARAMETERS and value else value) for name, value in pairs]


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = urlencode(_mask_pairs(parse_qsl(parts.query, keep_blank_values=True)), safe="[]")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _mask_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if k in SECRET_PARAMETERS and v else _mask_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json(item) for item in value]
    return value


def mask_body(body: str, content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return urlencode(_mask_pairs(parse_qsl(body, keep_blank_values=True)), safe="[]")
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.dumps(_mask_json(json.loads(body)), indent=1)
        except ValueError:
            pass
    return _PARAMETER_IN_TEXT.sub(lambda match: f"{match.group(1)}={MASK}", body)


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
        name_value, _, attributes = value.partition(";")
        return f"{name_value.split('=', 1)[0].strip()}={MASK}" + (f";{attributes}" if attributes else "")
    if lowered == "location":
        return mask_url(value)
    return value


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


def request_lines(request: requests.PreparedRequest) -> list[str]:
    lines = [f"> {request.method} {mask_url(request.url or '')}", *_headers(request.headers)]
    body = _text(request.body)
    if body:
        lines.append("  " + _cut(mask_body(body, request.headers.get("Content-Type", ""))))
    return lines


def response_lines(response: requests.Response) -> list[str]:
    lines = [f"< {response.status_code} {response.reason or ''}".rstrip(), *_headers(response.headers)]
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
