"""Settings of the deployable identity provider, read from the environment.

Development is any loopback issuer (``http://127.0.0.1:PORT``, the default): SQLite, a signing key
generated into ``var/keys/`` and demo data are allowed there. Every other issuer is production and
start-up refuses DEBUG, a non-https issuer, a missing or development SECRET_KEY, no signing key (in
the environment, or a key-encryption key for keys kept in the database), and email that never leaves
the process (the console and local-memory backends).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from idp.conf import is_loopback_url, oauth2_provider_settings
from idp.key_storage import ensure_kek_file
from idp.keys import load_signing_keys

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


PORT = os.environ.get("PORT", "8000")
IDP_ISSUER = os.environ.get("IDP_ISSUER", f"http://127.0.0.1:{PORT}").rstrip("/")
DEVELOPMENT = is_loopback_url(IDP_ISSUER)
DEBUG = env_bool("DEBUG")

# Development only; production refuses it, and any key of Django's "django-insecure-" kind.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-never-used-on-a-non-loopback-issuer"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not DEVELOPMENT:
    if DEBUG:
        raise ImproperlyConfigured(f"DEBUG must be off: the issuer {IDP_ISSUER} is not a loopback address.")
    if not IDP_ISSUER.startswith("https://"):
        raise ImproperlyConfigured(f"IDP_ISSUER must be an https URL in production, not {IDP_ISSUER!r}.")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set (50 random characters or more) in production.")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "SECRET_KEY is a development key: set 50 random characters or more in production."
        )
elif not SECRET_KEY:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

_issuer_host = IDP_ISSUER.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [_issuer_host]
if DEVELOPMENT:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "[::1]", "testserver"]

_dev_keys_dir = Path(os.environ.get("IDP_DEV_KEYS_DIR", BASE_DIR / "var" / "keys")) if DEVELOPMENT else None
# Signing keys kept in the database (`manage.py idp_keys rotate`) are encrypted under this key. In
# development one is generated into var/keys/; production never generates one: set it, or keep the
# signing key in IDP_SIGNING_KEY / IDP_SIGNING_KEY_FILE as before.
_key_encryption_key = os.environ.get("IDP_KEY_ENCRYPTION_KEY") or (
    ensure_kek_file(_dev_keys_dir / "kek") if _dev_keys_dir else None
)
_signing_key, _retired_keys = load_signing_keys(
    pem=os.environ.get("IDP_SIGNING_KEY"),
    path=os.environ.get("IDP_SIGNING_KEY_FILE"),
    retired_paths=env_list("IDP_RETIRED_SIGNING_KEY_FILES"),
    dev_dir=_dev_keys_dir,
    required=not _key_encryption_key,
)

# DOT's settings: the issuer, the signing keys, lifetimes and the OAuth 2.1 defaults (idp.conf).
OAUTH2_PROVIDER = oauth2_provider_settings(
    OIDC_ISS_ENDPOINT=IDP_ISSUER,
    OIDC_RSA_PRIVATE_KEY=_signing_key,
    OIDC_RSA_PRIVATE_KEYS_INACTIVE=_retired_keys,
    # How long relying parties may cache JWKS; a rotated key is published this long (+ the margin
    # below) before it signs.
    OIDC_JWKS_MAX_AGE_SECONDS=int(os.environ.get("IDP_JWKS_MAX_AGE_SECONDS", "3600")),
)
# What DOT has no setting for (idp.conf.DEFAULTS).
IDP = {
    "DEMO_DATA_FILE": BASE_DIR / "fixtures" / "demo.json",
    # This site's user model keeps the whole OpenID profile (phone, address, birthdate ...).
    "CLAIMS_SOURCE": "project.claims.ProfileClaims",
    "SITE_NAME": os.environ.get("IDP_SITE_NAME", "Django IdP"),
    "SITE_LOGO": os.environ.get("IDP_SITE_LOGO", ""),
    "ACCENT_COLOR": os.environ.get("IDP_ACCENT_COLOR", "#0b57d0"),
    # One TLS proxy in front appends the client's address to X-Forwarded-For.
    "TRUSTED_PROXIES": 1 if env_bool("BEHIND_TLS_PROXY") else 0,
    "KEY_ENCRYPTION_KEY": _key_encryption_key,
    "KEY_ROTATION_MARGIN": int(os.environ.get("IDP_KEY_ROTATION_MARGIN", "300")),
}
# e.g. IDP_API_THROTTLE_RATES="client=1200/minute,user=300/minute" ("none" for unlimited).
if _rates := env_list("IDP_API_THROTTLE_RATES"):
    IDP["API_THROTTLE_RATES"] = {
        name.strip(): (None if rate.strip() == "none" else rate.strip())
        for name, rate in (item.split("=", 1) for item in _rates)
    }

AUTH_USER_MODEL = "accounts.User"
OAUTH2_PROVIDER_APPLICATION_MODEL = "idp.Application"
OAUTH2_PROVIDER_GRANT_MODEL = "idp.Grant"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "idp.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "idp.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "idp.IDToken"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "idp.DeviceGrant"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "project.accounts",
    "idp",
]

MIDDLEWARE = [
    # First: every request gets its id (X-Request-ID, the log lines' request_id, the error page's
    # reference), including the credential endpoints' answers below.
    "idp.middleware.RequestIdMiddleware",
    # Optional: the flow explorer (/developers/flows) records the person's browser at /authorize,
    # /login and /device while a run of that browser is there. A request without the explorer's
    # cookie passes straight through.
    "idp.explorer.middleware.ExplorerRecorderMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy and X-Frame-Options on every response, including the credential
    # endpoints' answers below.
    "idp.middleware.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Token, introspection, revocation, userinfo and the API skip the browser's middleware below.
    "idp.middleware.CredentialEndpointsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "idp.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check that reads the socket instead of sending SELECT 1.
    DATABASES["default"]["ENGINE"] = "project.postgresql"
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers queue on the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# Any instance can serve any request: state lives in the database and, when REDIS_URL is set,
# in Redis (cache and sessions). Without it, one process's local memory (development).
if REDIS_URL := os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "project.cache.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 for people's passwords (paid once per sign-in); one HMAC-SHA256, keyed by a per-secret salt,
# for client secrets, which are long random strings and must not cost a password KDF per token request.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "idp.hashers.ClientSecretHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The resource API (idp.api) sets its own authentication, permissions, throttles and renderers per
# view; these defaults only make any other DRF view as strict, and describe views for drf-spectacular.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["idp.api.authentication.IdpOAuth2Authentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "idp.api.schema.IdpAutoSchema",
    "EXCEPTION_HANDLER": "idp.api.exceptions.api_exception_handler",
}

# django-axes first: it refuses locked-out sign-ins before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "idp.backends.UsernameOrEmailBackend",
]

# Brute-force protection (django-axes): 5 failed sign-ins lock that account, and separately that
# address, for 15 minutes. Operators unlock early in the admin (Axes > Access attempts: delete) or
# with `manage.py axes_reset_username alice` / `axes_reset_ip 192.0.2.1`.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "idp.backends.lockout_username"
AXES_CLIENT_IP_CALLABLE = "idp.backends.client_ip"
# Not axes' own reset: it clears the address's failures too, so signing in to one's own account
# between guesses would reset the count against another. idp clears only the account's own.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "idp/lockout.html"
# The second step's codes too: a wrong recovery code may be one character off a real one.
AXES_SENSITIVE_PARAMETERS = ["username", "password", "code", "recovery_code"]

LOGIN_URL = "idp:login"
LOGIN_REDIRECT_URL = "idp:home"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEVELOPMENT
CSRF_COOKIE_SECURE = not DEVELOPMENT
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEVELOPMENT:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    if env_bool("BEHIND_TLS_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Development and tests serve app static files without collectstatic; `make serve` collects them.
WHITENOISE_USE_FINDERS = DEVELOPMENT
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Password-reset links: printed to the console in development, sent by SMTP otherwise. Production
# refuses the console and local-memory backends (system check idp.E007): a reset link in a log is
# an account takeover.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEVELOPMENT
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")

# Everything goes to stderr (the server's log), one line per event with the request's id, every
# secret parameter, token and reset link redacted (idp.logs): request errors with their traceback,
# django.security warnings, the provider's own events (IDP_LOG_LEVEL), runserver's access log and any
# library's warnings. gunicorn's access log (`make serve`) is redacted by gunicorn.conf.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "idp.logs.RequestIdFilter"},
        "redact": {"()": "idp.logs.RedactingFilter"},
    },
    "formatters": {"line": {"()": "idp.logs.LineFormatter"}},
    "handlers": {
        "stderr": {
            "class": "idp.logs.StderrHandler",
            "filters": ["request_id", "redact"],
            "formatter": "line",
        }
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # Django's defaults (mail_admins, a console only while DEBUG) are replaced: no ADMINS are set,
        # and a production traceback must reach the log.
        "django": {"handlers": [], "level": "WARNING", "propagate": True},
        # 5xx with their traceback; the 4xx warnings ("Not Found: /x") only in development.
        "django.request": {"level": "WARNING" if DEBUG else "ERROR"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "idp": {"handlers": [], "level": os.environ.get("IDP_LOG_LEVEL", "INFO"), "propagate": True},
    },
}
