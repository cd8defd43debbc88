"""System checks of the identity provider (ids ``idp.E001``...) and the production start-up guard."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

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

    if not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
        return [
            checks.Error(
                "OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY'] is empty: ID tokens cannot be signed.", id="idp.E003"
            )
        ]
    return []


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
    or with email that is never delivered."""
    found = demo_credential_errors()
    if found:
        raise ImproperlyConfigured(
            f"Refusing to start: development demo credentials are in use ({', '.join(found)}) "
            f"on the non-loopback issuer {idp_settings.ISSUER}."
        )
    for error in check_email_backend(None):
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
    for setting in ("API_THROTTLE_RATES", "PASSWORD_RESET_RATES"):
        for scope, rate in (getattr(idp_settings, setting) or {}).items():
            try:
                parse_rate(rate)
            except ValueError as exc:
                errors.append(checks.Error(f"IDP[{setting!r}][{scope!r}]: {exc}.", id="idp.E006"))
    return errors
