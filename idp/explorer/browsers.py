"""The explorer's own cookie: which browser started a run (never the session, whose key rotates)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.http import HttpRequest, HttpResponse

COOKIE = "idp_explorer"
COOKIE_AGE = 24 * 3600  # seconds; a run lives an hour (idp.explorer.runs.RUN_LIFETIME)
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def browser_key(request: HttpRequest) -> str | None:
    """The explorer cookie's value, if this browser has a well-formed one."""
    value = request.COOKIES.get(COOKIE, "")
    return value if _KEY.fullmatch(value) else None


def browser_hash(key: str) -> str:
    """What a run stores of the cookie: its SHA-256 (a copy of the database opens no run)."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def browser_of(request: HttpRequest) -> str | None:
    """The hash that names this browser's runs, or None without the explorer cookie."""
    key = browser_key(request)
    return browser_hash(key) if key else None


def is_same_browser(stored_hash: str, request: HttpRequest) -> bool:
    """Whether ``request`` comes from the browser whose cookie hashes to ``stored_hash`` (constant time)."""
    mine = browser_of(request)
    return mine is not None and hmac.compare_digest(stored_hash, mine)


def ensure_browser_key(request: HttpRequest) -> str:
    """This browser's cookie value, or a new random one (``remember_browser`` sets it)."""
    return browser_key(request) or secrets.token_urlsafe(32)


def remember_browser(response: HttpResponse, request: HttpRequest, key: str) -> None:
    """Set (or renew) the explorer cookie: random, HttpOnly, SameSite=Lax, Secure on https."""
    response.set_cookie(
        COOKIE, key, max_age=COOKIE_AGE, path="/", secure=request.is_secure(), httponly=True, samesite="Lax"
    )
