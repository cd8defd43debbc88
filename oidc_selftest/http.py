"""Small helpers for URLs and responses: what to print about a page, JSON bodies, OAuth error bodies."""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from .registry import CheckFailed


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def short_url(url: str) -> str:
    """A URL without its query and fragment: safe to print (no codes, tokens or hints)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_query(url: str, params: dict[str, str] | list[tuple[str, str]]) -> str:
    if not params:
        return url
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def shannon_bits(value: str) -> float:
    """Estimated entropy of ``value`` in bits: per-character Shannon entropy times its length."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CODE = re.compile(r"<code[^>]*>(.*?)</code>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def describe_page(response: requests.Response) -> str:
    """``HTTP 400 text/html /authorize "title" (error_code)``: what a person would see, no secrets."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    text = response.text if "html" in content_type else ""
    title = _TITLE.search(text)
    code = _CODE.search(text)
    description = f"HTTP {response.status_code} {content_type} at {urlsplit(response.url).path}"
    if title:
        description += f' "{" ".join(_TAGS.sub("", title.group(1)).split())[:80]}"'
    if code:
        description += f" ({' '.join(_TAGS.sub('', code.group(1)).split())[:60]})"
    return description


def is_html(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower() in {
        "text/html",
        "application/xhtml+xml",
    }


def json_body(response: requests.Response, what: str) -> dict[str, Any]:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise CheckFailed(f"{what}: Content-Type is {content_type or 'missing'}, not application/json")
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(f"{what}: the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise CheckFailed(f"{what}: the JSON body is not an object")
    return body


def error_of(response: requests.Response) -> str:
    """``error: description`` from an OAuth JSON error body, for details."""
    try:
        body = response.json()
    except ValueError:
        return "no JSON error body"
    if not isinstance(body, dict):
        return "no JSON error body"
    error = body.get("error", "no error code")
    description = body.get("error_description")
    return f"{error}: {description}" if description else str(error)


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.fragment
