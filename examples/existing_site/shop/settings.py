"""An existing Django site (``django-admin startproject shop``, Django's own auth.User) that adds idp.

Everything idp needs is in the block marked "idp" at the end; the rest is what startproject wrote,
with the secret key and the database read from the environment. README: "Add to an existing
Django project".
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-an-example-site-only")
DEBUG = os.environ.get("DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- idp ------------------------------------------------------------------------------------------
from idp.conf import oauth2_provider_settings  # noqa: E402

INSTALLED_APPS += ["oauth2_provider", "idp"]
# Request ids in logs and audit events first; the pages' Content-Security-Policy after security.
MIDDLEWARE.insert(0, "idp.middleware.RequestIdMiddleware")
MIDDLEWARE.insert(2, "idp.middleware.SecurityHeadersMiddleware")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("idp.context_processors.site")
# Django's default hashers, then the one idp hashes client secrets with.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "idp.hashers.ClientSecretHasher",
]
LOGIN_URL = "idp:login"
# idp's models in place of DOT's (set before the first migrate).
OAUTH2_PROVIDER_APPLICATION_MODEL = "idp.Application"
OAUTH2_PROVIDER_GRANT_MODEL = "idp.Grant"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "idp.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "idp.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "idp.IDToken"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "idp.DeviceGrant"
# The issuer (this site's origin) and the key ID tokens are signed with (manage.py idp_keys generate).
_key_file = Path(os.environ.get("IDP_SIGNING_KEY_FILE", BASE_DIR / "signing-key.pem"))
OAUTH2_PROVIDER = oauth2_provider_settings(
    OIDC_ISS_ENDPOINT=os.environ.get("IDP_ISSUER", "http://127.0.0.1:8000"),
    OIDC_RSA_PRIVATE_KEY=_key_file.read_text() if _key_file.exists() else "",
)
IDP = {"SITE_NAME": "Shop accounts"}
