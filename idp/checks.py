"""System checks of the identity provider (ids ``idp.E001``...) and the production start-up guard."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.urls import NoReverseMatch, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from .conf import DEFAULTS, MOVED_TO_OAUTH2_PROVIDER, idp_settings, is_loopback_url


@checks.register(checks.Tags.security)
def check_issuer(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The issuer is a bare origin (the discovery document lives at ``{issuer}/.well-known/...``)."""
    parts = urlsplit(idp_settings.ISSUER)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path or parts.query:
        return [
            checks.Error(
                "OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'] (the issuer) must be a bare origin like "
                "https://id.example.com, "
                f"not {idp_settings.ISSUER!r}.",
                id="idp.E001",
            )
        ]
    if parts.scheme != "https" and not is_loopback_url(idp_settings.ISSUER):
        return [
            checks.Error(
                "OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'] (the issuer) must use https unless it is a loopback "
                "address.",
                id="idp.E002",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_signing_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from oauth2_provider.settings import oauth2_settings

    if not oauth2_settings.OIDC_RSA_PRIVATE_KEY and not idp_settings.KEY_ENCRYPTION_KEY:
        return [
            checks.Error(
                "OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY'] is empty and no IDP['KEY_ENCRYPTION_KEY'] is set "
                "for keys kept in the database: ID tokens cannot be signed.",
                id="idp.E003",
            )
        ]
    return []


@checks.register(checks.Tags.security, checks.Tags.database)
def check_stored_signing_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The key-encryption key is well-formed and decrypts every private key stored in the database."""
    from .key_storage import decrypt_stored_keys, parse_kek

    kek = idp_settings.KEY_ENCRYPTION_KEY
    if kek:
        try:
            parse_kek(kek)
        except ImproperlyConfigured as exc:
            return [checks.Error(str(exc), id="idp.E020")]
    try:
        problems = decrypt_stored_keys()
    except DatabaseError:
        return []  # not migrated yet: nothing stored
    return [
        checks.Error(
            problem, hint="Set IDP_KEY_ENCRYPTION_KEY to the key they were stored under.", id="idp.E021"
        )
        for problem in problems
    ]


@checks.register()
def check_idp_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Every ``IDP`` key is read: one DOT holds now is an error (its value would be ignored), an unknown
    one (a typo) a warning."""
    messages = []
    for name in getattr(settings, "IDP", {}):
        if name in MOVED_TO_OAUTH2_PROVIDER:
            messages.append(
                checks.Error(
                    f"IDP[{name!r}] is not read: DOT's setting holds it.",
                    hint=f"Set OAUTH2_PROVIDER[{MOVED_TO_OAUTH2_PROVIDER[name]!r}] instead "
                    "(idp.conf.oauth2_provider_settings builds that dict).",
                    id="idp.E008",
                )
            )
        elif name not in DEFAULTS:
            messages.append(
                checks.Warning(
                    f"IDP[{name!r}] is not an idp setting and is ignored.",
                    hint="The settings are listed in idp/conf.py (DEFAULTS).",
                    id="idp.W002",
                )
            )
    return messages


def demo_credential_errors() -> list[str]:
    """Demo credentials found in the database while the issuer is not loopback."""
    if is_loopback_url(idp_settings.ISSUER):
        return []
    from .demo import demo_credentials_in_use

    try:
        return demo_credentials_in_use()
    except DatabaseError:
        return []  # not migrated yet: nothing to find


@checks.register(checks.Tags.database)
def check_demo_credentials(app_configs, **kwargs) -> list[checks.CheckMessage]:
    found = demo_credential_errors()
    if found:
        return [
            checks.Error(
                f"Development demo credentials are in use on a production issuer: {', '.join(found)}.",
                hint="Delete them or change their passwords and secrets.",
                id="idp.E004",
            )
        ]
    return []


# Email backends that never deliver: a password-reset link would only reach the log or memory.
UNDELIVERED_EMAIL_BACKENDS = frozenset(
    {"django.core.mail.backends.console.EmailBackend", "django.core.mail.backends.locmem.EmailBackend"}
)


@checks.register(checks.Tags.security)
def check_email_backend(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """On a production issuer, email is delivered: reset links in the server log take over accounts."""
    backend = settings.EMAIL_BACKEND
    if is_loopback_url(idp_settings.ISSUER) or backend not in UNDELIVERED_EMAIL_BACKENDS:
        return []
    return [
        checks.Error(
            f"EMAIL_BACKEND {backend} does not deliver email on the production issuer {idp_settings.ISSUER}: "
            "password-reset links would be written to the log or kept in memory.",
            hint="Use SMTP (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).",
            id="idp.E007",
        )
    ]


def refuse_unsafe_start() -> None:
    """Called by the WSGI/ASGI entry points: a production server does not start with demo credentials
    or with email that is never delivered; no server starts with stored keys it cannot decrypt."""
    found = demo_credential_errors()
    if found:
        raise ImproperlyConfigured(
            f"Refusing to start: development demo credentials are in use ({', '.join(found)}) "
            f"on the non-loopback issuer {idp_settings.ISSUER}."
        )
    for error in check_email_backend(None):
        raise ImproperlyConfigured(f"Refusing to start: {error.msg}")
    for error in check_stored_signing_keys(None):
        raise ImproperlyConfigured(f"Refusing to start: {error.msg}")


@checks.register()
def check_branding(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The accent colour is a ``#rrggbb`` colour readable on white (WCAG AA, 4.5:1)."""
    from .branding import HEX_COLOR, contrast_ratio

    color = idp_settings.ACCENT_COLOR
    if not isinstance(color, str) or not HEX_COLOR.match(color):
        return [
            checks.Error(
                f"IDP['ACCENT_COLOR'] must be a colour like #0b57d0, not {color!r}.",
                hint="The default colour is used until it is fixed.",
                id="idp.E005",
            )
        ]
    ratio = contrast_ratio(color)
    if ratio < 4.5:
        return [
            checks.Warning(
                f"IDP['ACCENT_COLOR'] {color} has a contrast of {ratio:.1f}:1 with white; "
                "buttons and links need 4.5:1 to be readable (WCAG 2.1 AA).",
                hint="Choose a darker colour.",
                id="idp.W001",
            )
        ]
    return []


@checks.register()
def check_api_throttle_rates(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Each API and password-reset rate reads like ``1200/minute`` (or is None: no limit)."""
    from .api.throttling import parse_rate

    errors = []
    for setting in (
        "API_THROTTLE_RATES",
        "PASSWORD_RESET_RATES",
        "DEVICE_USER_CODE_RATES",
        "DEVICE_AUTHORIZATION_RATES",
    ):
        for scope, rate in (getattr(idp_settings, setting) or {}).items():
            try:
                parse_rate(rate)
            except ValueError as exc:
                errors.append(checks.Error(f"IDP[{setting!r}][{scope!r}]: {exc}.", id="idp.E006"))
    return errors


# --- CredentialEndpointsMiddleware (optional) ----------------------------------------------------

CREDENTIAL_MIDDLEWARE = "idp.middleware.CredentialEndpointsMiddleware"
# It answers its paths itself: what must still run for them sits above it, what it skips below.
ABOVE_CREDENTIAL_MIDDLEWARE = (
    "idp.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",  # the HTTPS redirect and HSTS
    "idp.middleware.SecurityHeadersMiddleware",
)
BELOW_CREDENTIAL_MIDDLEWARE = ("django.contrib.sessions.middleware.SessionMiddleware",)


def _routes(patterns=None, base: str = "/"):
    """(path pattern, view) of every URL pattern of the site."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = base + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route, pattern.callback


def credential_endpoint_views() -> list[tuple[str, object]]:
    """(path, view) of everything CredentialEndpointsMiddleware answers itself, unknown API paths included."""
    from .middleware import credential_endpoint_paths

    paths, prefix = credential_endpoint_paths()
    found = [(path, resolve(path).func) for path in sorted(paths)]
    found += [(route, view) for route, view in _routes() if route.startswith(prefix)]
    with suppress(Resolver404):  # unresolved, it is Django's 404 page: no session needed either
        found.append((prefix + "(any other)", resolve(prefix + "no-such-endpoint").func))
    return found


def needs_no_session(view) -> bool:
    """The view takes its credentials from the request itself: CSRF-exempt, and no session reading.

    A class-based view must be one of DOT's credential endpoints, ours (``FormEndpointMixin``), or a
    DRF view without session authentication.
    """
    from oauth2_provider.views import IntrospectTokenView, RevokeTokenView, TokenView, UserInfoView
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.views import APIView

    from .views.tokens import FormEndpointMixin

    if not getattr(view, "csrf_exempt", False):
        return False
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return True  # a function view: nothing but the request
    if issubclass(view_class, APIView):
        return not any(issubclass(auth, SessionAuthentication) for auth in view_class.authentication_classes)
    return issubclass(
        view_class, (TokenView, RevokeTokenView, IntrospectTokenView, UserInfoView, FormEndpointMixin)
    )


def _view_name(view) -> str:
    view = getattr(view, "view_class", view)
    return f"{view.__module__}.{view.__qualname__}"


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_credential_endpoints_middleware(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """If the project lists CredentialEndpointsMiddleware: it sits where it must, and every path it
    answers past the session and CSRF middleware is a view that needs neither."""
    middleware = list(settings.MIDDLEWARE)
    if CREDENTIAL_MIDDLEWARE not in middleware:
        return []
    at = middleware.index(CREDENTIAL_MIDDLEWARE)
    messages = []
    misplaced = [name for name in ABOVE_CREDENTIAL_MIDDLEWARE if name in middleware[at:]]
    misplaced += [name for name in BELOW_CREDENTIAL_MIDDLEWARE if name in middleware[:at]]
    if misplaced:
        messages.append(
            checks.Error(
                f"{CREDENTIAL_MIDDLEWARE} is misplaced in MIDDLEWARE: {', '.join(misplaced)}.",
                hint=f"Put it after {' and '.join(ABOVE_CREDENTIAL_MIDDLEWARE)}, "
                f"and before {' and '.join(BELOW_CREDENTIAL_MIDDLEWARE)}.",
                id="idp.E010",
            )
        )
    try:
        answered = credential_endpoint_views()
    except NoReverseMatch:
        answered = []  # idp's URLs are not included: idp.E014 says so
    for path, view in answered:
        if not needs_no_session(view):
            messages.append(
                checks.Error(
                    f"{path} is answered by {CREDENTIAL_MIDDLEWARE} without the session and CSRF "
                    f"middleware, but its view {_view_name(view)} is not a "
                    "credential endpoint (CSRF-exempt, no session authentication).",
                    hint="Route it elsewhere, or take CredentialEndpointsMiddleware out of MIDDLEWARE.",
                    id="idp.E009",
                )
            )
    return messages
