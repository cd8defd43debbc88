"""System checks of how a site installs idp: DOT's models, DOT's settings, middleware, URLs, claims source.

Each names what is missing or wrong and, in its hint, the exact line to add, so that a site that has
just added ``oauth2_provider`` and ``idp`` to ``INSTALLED_APPS`` is told its next step by
``manage.py check`` rather than by an error at the first request.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from .conf import DEFAULTS

# DOT's swappable models: idp's own carry what the flows record (auth time, claims, consent, ...).
SWAPPABLE_MODELS = {
    "OAUTH2_PROVIDER_APPLICATION_MODEL": "idp.Application",
    "OAUTH2_PROVIDER_GRANT_MODEL": "idp.Grant",
    "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL": "idp.AccessToken",
    "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL": "idp.RefreshToken",
    "OAUTH2_PROVIDER_ID_TOKEN_MODEL": "idp.IDToken",
}
# Middleware the pages need: who is signed in (sessions, auth), safe forms (CSRF), notices (messages).
REQUIRED_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)
# Recommended, near the top of MIDDLEWARE, and what each gives.
RECOMMENDED_MIDDLEWARE = {
    "idp.middleware.RequestIdMiddleware": "a request id in every log line, audit event and error page",
    "idp.middleware.SecurityHeadersMiddleware": "the pages' Content-Security-Policy (no inline scripts)",
}
# DOT's hooks that idp's flows are built on: the validator, the server and the scopes backend.
DOT_CLASSES = ("OAUTH2_VALIDATOR_CLASS", "OIDC_SERVER_CLASS", "SCOPES_BACKEND_CLASS")
OAUTH2_PROVIDER_HINT = (
    'OAUTH2_PROVIDER = idp.conf.oauth2_provider_settings(OIDC_ISS_ENDPOINT="https://id.example.com", '
    "OIDC_RSA_PRIVATE_KEY=...) in settings.py (import idp.conf there): it sets idp's classes and "
    "DOT's knobs together."
)


def idp_models_in_place() -> bool:
    """Whether DOT's swappable models are idp's: what idp's forms and admins are built on."""
    return all(getattr(settings, setting, None) == model for setting, model in SWAPPABLE_MODELS.items())


@checks.register()
def check_swappable_models(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """idp's own models stand in for DOT's (idp.E011)."""
    return [
        checks.Error(
            f"{setting} is {getattr(settings, setting, None)!r}: idp needs its own model there.",
            hint=f'Add {setting} = "{model}" to settings.py (before the first migrate).',
            id="idp.E011",
        )
        for setting, model in SWAPPABLE_MODELS.items()
        if getattr(settings, setting, None) != model
    ]


@checks.register()
def check_dot_classes(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """DOT runs idp's validator, server and scopes backend, or subclasses of them (idp.E012)."""
    from oauth2_provider.settings import oauth2_settings

    from .conf import oauth2_provider_settings

    wanted = oauth2_provider_settings()
    errors = []
    for name in DOT_CLASSES:
        configured = getattr(oauth2_settings, name)
        if isinstance(configured, str):  # DOT imports some of its class settings, not all
            try:
                configured = import_string(configured)
            except ImportError:
                configured = None
        expected = import_string(wanted[name])
        if not (isinstance(configured, type) and issubclass(configured, expected)):
            errors.append(
                checks.Error(
                    f"OAUTH2_PROVIDER[{name!r}] is not {wanted[name]} (or a subclass).",
                    hint=OAUTH2_PROVIDER_HINT,
                    id="idp.E012",
                )
            )
    return errors


@checks.register()
def check_middleware(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The middleware the pages need (idp.E013), and what idp recommends (idp.W003)."""
    installed = list(settings.MIDDLEWARE)
    messages = [
        checks.Error(
            f"{path} is not in MIDDLEWARE: idp's sign-in, consent and account pages need it.",
            hint=f'Add "{path}" to MIDDLEWARE, in the order startproject lists it.',
            id="idp.E013",
        )
        for path in REQUIRED_MIDDLEWARE
        if path not in installed
    ]
    messages += [
        checks.Warning(
            f"{path} is not in MIDDLEWARE.",
            hint=f'Add "{path}" near the top of MIDDLEWARE: {gives}.',
            id="idp.W003",
        )
        for path, gives in RECOMMENDED_MIDDLEWARE.items()
        if path not in installed
    ]
    return messages


@checks.register(checks.Tags.urls)
def check_urls(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """``idp.urls`` is included, so the endpoints and pages resolve (idp.E014)."""
    try:
        reverse("oauth2_provider:authorize")
        reverse("idp:login")
    except NoReverseMatch:
        return [
            checks.Error(
                "idp's URLs are not included: no authorization endpoint or sign-in page.",
                hint='Add path("", include("idp.urls")) to the root URLconf\'s urlpatterns.',
                id="idp.E014",
            )
        ]
    return []


@checks.register()
def check_idp_setting(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """``IDP`` is a dict of known keys (idp.E015), and its claims source can be used (idp.E016)."""
    configured = getattr(settings, "IDP", {})
    if not isinstance(configured, dict):
        return [
            checks.Error(
                f"IDP must be a dict, not {type(configured).__name__}.",
                hint="IDP = {} (or the keys of idp.conf.DEFAULTS you change).",
                id="idp.E015",
            )
        ]
    from .claims import ClaimsSource

    path = configured.get("CLAIMS_SOURCE", DEFAULTS["CLAIMS_SOURCE"])
    try:
        source = import_string(path)
    except ImportError as exc:
        problem = f"cannot be imported ({exc})"
    else:
        if isinstance(source, type) and issubclass(source, ClaimsSource):
            return []
        problem = "is not a subclass of idp.claims.ClaimsSource"
    return [
        checks.Error(
            f"IDP['CLAIMS_SOURCE'] = {path!r} {problem}.",
            hint="A dotted path to a subclass of idp.claims.ClaimsSource, or leave it out for the default.",
            id="idp.E016",
        )
    ]
