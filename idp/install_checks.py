"""System checks of how a site installs idp: DOT's models, DOT's settings, middleware, URLs, claims source.

Each names what is missing or wrong and, in its hint, the exact line to add, so that a site that has
just added ``oauth2_provider`` and ``idp`` to ``INSTALLED_APPS`` is told its next step by
``manage.py check`` rather than by an error at the first request.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.module_loading import import_string

from .conf import DEFAULTS

# DOT's swappable models: idp's own carry what the flows record (auth time, claims, consent, ...).
SWAPPABLE_MODELS = {
    "OAUTH2_PROVIDER_APPLICATION_MODEL": "idp.Application",
    "OAUTH2_PROVIDER_GRANT_MODEL": "idp.Grant",
    "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL": "idp.AccessToken",
    "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL": "idp.RefreshToken",
    "OAUTH2_PROVIDER_ID_TOKEN_MODEL": "idp.IDToken",
    "OAUTH2_PROVIDER_DEVICE_GRANT_MODEL": "idp.DeviceGrant",
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
CLIENT_SECRET_HASHER = "idp.hashers.ClientSecretHasher"  # noqa: S105 (a class path, not a secret)
CONTEXT_PROCESSOR = "idp.context_processors.site"
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


@checks.register()
def check_site_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Client secrets can be checked (idp.E017), people can be sent to sign in (idp.E018), and the
    pages get the site's name and colours (idp.E019)."""
    from django.shortcuts import resolve_url

    errors = []
    if CLIENT_SECRET_HASHER not in settings.PASSWORD_HASHERS:
        errors.append(
            checks.Error(
                f"{CLIENT_SECRET_HASHER} is not in PASSWORD_HASHERS: no client secret can be checked.",
                hint=f'Add "{CLIENT_SECRET_HASHER}" to PASSWORD_HASHERS, after your password hashers '
                "(a list that starts with Django's defaults if you had none).",
                id="idp.E017",
            )
        )
    try:
        reverse("idp:login")
    except NoReverseMatch:
        pass  # idp's URLs are not included: idp.E014 says so
    else:
        try:
            resolve(resolve_url(settings.LOGIN_URL).split("?", 1)[0])
        except (NoReverseMatch, Resolver404):
            errors.append(_no_login_page())
    processors = [
        processor
        for engine in settings.TEMPLATES
        for processor in engine.get("OPTIONS", {}).get("context_processors", [])
    ]
    if CONTEXT_PROCESSOR not in processors:
        errors.append(
            checks.Error(
                f"{CONTEXT_PROCESSOR} is not among the templates' context processors: idp's pages need it.",
                hint=f'Add "{CONTEXT_PROCESSOR}" to TEMPLATES[0]["OPTIONS"]["context_processors"].',
                id="idp.E019",
            )
        )
    return errors


def _no_login_page() -> checks.CheckMessage:
    return checks.Error(
        f"LOGIN_URL ({settings.LOGIN_URL!r}) is no page of this site: nobody can sign in to authorize.",
        hint='LOGIN_URL = "idp:login" (or your own sign-in page).',
        id="idp.E018",
    )
