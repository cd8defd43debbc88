"""Client settings checked against the client's kind: redirect URIs, origins, scopes, lifetimes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from ..claims import SCOPES, USER_SCOPES
from ..conf import idp_settings, is_loopback_url
from .kinds import kind_setup

# RFC 8252 §7.1: a private-use scheme is a reverse domain name, e.g. com.example.app.
PRIVATE_USE_SCHEME = re.compile(r"^[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+$")
# The settings whose rules depend on the kind, as clean_client_settings takes them.
KIND_SETTINGS = (
    "redirect_uris",
    "post_logout_redirect_uris",
    "allowed_origins",
    "allowed_scopes",
    "access_token_lifetime",
    "backchannel_logout_uri",
)


def split_values(value: str | Iterable[str] | None) -> list[str]:
    """A whitespace-separated string or a list, as a list without duplicates."""
    if value is None:
        return []
    items = value.split() if isinstance(value, str) else [v.strip() for v in value]
    return list(dict.fromkeys(item for item in items if item))


def redirect_uri_problem(uri: str, *, kind: str) -> str | None:
    """Why ``uri`` cannot be a redirect URI of a ``kind`` client, or None when it can."""
    if "*" in uri:
        return f"{uri}: wildcards are not allowed; register every URI exactly."
    if "#" in uri:
        return f"{uri}: a redirect URI must not contain a fragment (#)."
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme:
        return f"{uri}: must be an absolute URI (https://...)."
    if scheme in {"http", "https"}:
        if not parts.hostname:
            return f"{uri}: must be an absolute URI with a host."
        if parts.username is not None or parts.password is not None:
            return f"{uri}: must not contain a user name or password."
        if scheme == "http" and not is_loopback_url(uri):
            return (
                f"{uri}: http is allowed only on loopback addresses (127.0.0.1, [::1], localhost); use https."
            )
        return None
    if PRIVATE_USE_SCHEME.match(scheme):
        if kind != "native":
            return f"{uri}: private-use schemes like {scheme}: are for native apps only; use https."
        return None
    if kind == "native":
        return f"{uri}: use https, loopback http, or a reverse-domain scheme like com.example.app:/callback."
    return f"{uri}: the scheme {scheme}: is not allowed; use https."


def clean_redirect_uris(value, *, kind: str, required: bool = True, label: str = "redirect URI") -> list[str]:
    """The exact redirect URIs a ``kind`` client registers; every problem reported at once."""
    uris = split_values(value)
    setup = kind_setup(kind)
    if not setup.redirects:
        if uris:
            raise ValidationError(f"A {kind} client uses no browser redirects: leave the {label}s empty.")
        return []
    if required and not uris:
        raise ValidationError(f"Register at least one {label}.")
    problems = [problem for uri in uris if (problem := redirect_uri_problem(uri, kind=kind))]
    if problems:
        raise ValidationError(problems)
    return uris


def clean_backchannel_logout_uri(value, *, kind: str) -> str:
    """Back-Channel Logout 1.0 §2.2: an absolute https URI (http on loopback), no fragment; clients that
    sign people in through a browser only."""
    uris = split_values(value)
    if not uris:
        return ""
    if len(uris) > 1:
        raise ValidationError("Register one back-channel logout URI.")
    if not kind_setup(kind).redirects:
        raise ValidationError(f"A {kind} client has no browser sessions to be logged out of.")
    problem = redirect_uri_problem(uris[0], kind="web")
    if problem is not None:
        raise ValidationError(problem.replace("a redirect URI", "a back-channel logout URI"))
    if len(uris[0]) > 255:
        raise ValidationError("The back-channel logout URI is longer than 255 characters.")
    return uris[0]


def clean_allowed_origins(value, *, kind: str) -> list[str]:
    """Bare origins (scheme://host[:port]) a single-page app calls the token endpoint from."""
    origins = split_values(value)
    if origins and not kind_setup(kind).origins:
        raise ValidationError(
            "Only single-page apps call the provider from a browser: leave the origins empty."
        )
    problems = []
    for origin in origins:
        parts = urlsplit(origin)
        if "*" in origin:
            problems.append(f"{origin}: wildcards are not allowed.")
        elif parts.scheme not in {"http", "https"} or not parts.hostname:
            problems.append(f"{origin}: an origin looks like https://app.example.com.")
        elif parts.path or parts.query or parts.fragment or "#" in origin or "@" in parts.netloc:
            problems.append(f"{origin}: an origin is scheme://host[:port] only, without a path or a slash.")
        elif parts.scheme == "http" and not is_loopback_url(origin):
            problems.append(f"{origin}: http is allowed only for loopback addresses; use https.")
    if problems:
        raise ValidationError(problems)
    return origins


def clean_allowed_scopes(value, *, kind: str) -> list[str]:
    """Known scopes only; a service acts for itself, so it gets no scope about a person."""
    scopes = split_values(value)
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValidationError(f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(SCOPES)}.")
    if kind == "service" and (personal := [scope for scope in scopes if scope in USER_SCOPES]):
        raise ValidationError(f"A service acts for itself, not for a person: remove {', '.join(personal)}.")
    return scopes


def clean_access_token_lifetime(value: int | str | None) -> int | None:
    """Seconds within the safe bounds, or None for the provider's default."""
    if value in (None, ""):
        return None
    low, high = idp_settings.CLIENT_ACCESS_TOKEN_LIFETIME_BOUNDS
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise ValidationError("The access token lifetime is a number of seconds.") from None
    if not low <= seconds <= high:
        raise ValidationError(f"The access token lifetime must be between {low} and {high} seconds.")
    return seconds


def clean_grace_period(value: int | str | None) -> int:
    """Seconds the previous secret stays valid after a rotation (0: not at all)."""
    seconds = int(value or 0)
    if not 0 <= seconds <= idp_settings.MAX_SECRET_GRACE_PERIOD:
        raise ValidationError(
            f"The grace period must be between 0 and {idp_settings.MAX_SECRET_GRACE_PERIOD} seconds."
        )
    return seconds


def clean_client_settings(
    *,
    kind: str,
    redirect_uris=None,
    post_logout_redirect_uris=None,
    allowed_origins=None,
    allowed_scopes=None,
    access_token_lifetime=None,
    backchannel_logout_uri=None,
) -> dict:
    """Every kind-dependent setting of a client, cleaned; errors keyed by field, all at once."""
    kind_setup(kind)
    cleaners = {
        "redirect_uris": lambda: " ".join(clean_redirect_uris(redirect_uris, kind=kind)),
        "post_logout_redirect_uris": lambda: " ".join(
            clean_redirect_uris(
                post_logout_redirect_uris, kind=kind, required=False, label="post-logout redirect URI"
            )
        ),
        "allowed_origins": lambda: " ".join(clean_allowed_origins(allowed_origins, kind=kind)),
        "allowed_scopes": lambda: " ".join(clean_allowed_scopes(allowed_scopes, kind=kind)),
        "access_token_lifetime": lambda: clean_access_token_lifetime(access_token_lifetime),
        "backchannel_logout_uri": lambda: clean_backchannel_logout_uri(backchannel_logout_uri, kind=kind),
    }
    cleaned, errors = {}, {}
    for field, clean in cleaners.items():
        try:
            cleaned[field] = clean()
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned
