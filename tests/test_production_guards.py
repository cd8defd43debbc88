"""Production (any non-loopback issuer) refuses DEBUG, http, missing secrets, keys and demo data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from idp import checks
from idp.conf import is_loopback_url
from idp.demo import load_demo_data, read_demo_file
from idp.keys import generate_private_key_pem

ROOT = Path(__file__).resolve().parent.parent
# The fallback key of project/settings.py, for development only.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-never-used-on-a-non-loopback-issuer"


def import_settings(*, code: str = "import project.settings", **env) -> subprocess.CompletedProcess:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "DEBUG", "SECRET_KEY", "EMAIL_"))
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


PROD = {"IDP_ISSUER": "https://id.example.com", "SECRET_KEY": "s" * 30 + "0123456789abcdefghijklmnopqrstu"}


def test_production_settings_load_with_everything_set():
    result = import_settings(**PROD, IDP_SIGNING_KEY=generate_private_key_pem())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"IDP_ISSUER": "http://id.example.com"}, "must be an https URL"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"IDP_SIGNING_KEY": ""}, "No signing key"),
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY is a development key"),
        ({"SECRET_KEY": "django-insecure-" + "k" * 50}, "SECRET_KEY is a development key"),
    ],
)
def test_production_refuses_to_start(env, message):
    result = import_settings(**{**PROD, "IDP_SIGNING_KEY": generate_private_key_pem(), **env})
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.9.9.9", True),
        ("http://localhost:5000", True),
        ("http://[::1]:8000", True),
        ("https://id.example.com", False),
        ("http://10.0.0.1", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_loopback_detection(url, loopback):
    assert is_loopback_url(url) is loopback


@pytest.mark.django_db
def test_demo_loader_refuses_a_production_issuer(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    with pytest.raises(CommandError, match="not a loopback"):
        call_command("idp_load_demo")


@pytest.mark.django_db
def test_demo_credentials_block_production_start(settings):
    load_demo_data(read_demo_file())
    checks.refuse_unsafe_start()  # loopback issuer: fine
    assert checks.check_demo_credentials(None) == []
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    with pytest.raises(ImproperlyConfigured, match="demo credentials"):
        checks.refuse_unsafe_start()
    [error] = checks.check_demo_credentials(None)
    assert error.id == "idp.E004"
    assert "client demo-web" in error.msg and "user alice" in error.msg
    assert "client demo-spa" in error.msg
    assert "client demo-device" in error.msg
    assert "client explorer-web" in error.msg and "client explorer-spa" in error.msg


@pytest.mark.django_db
def test_changed_demo_passwords_no_longer_block(settings):
    load_demo_data(read_demo_file())
    from idp.models import Application
    from project.accounts.models import User

    for user in User.objects.all():
        user.set_password("a brand new password " + user.username)
        user.save()
    for app in Application.objects.all():
        app.client_secret = "rotated-" + app.client_id + "-" + "x" * 40
        app.redirect_uris = "https://spa.example.com/callback"
        app.is_active = app.client_id != "demo-device"  # no credential to change: disabled
        app.save()
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    checks.refuse_unsafe_start()


@pytest.mark.parametrize(
    ("issuer", "error_id"),
    [("https://id.example.com/path", "idp.E001"), ("http://id.example.com", "idp.E002")],
)
def test_issuer_checks(settings, issuer, error_id):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": issuer}
    assert [m.id for m in checks.check_issuer(None)] == [error_id]


def test_sound_issuer_passes_checks():
    assert checks.check_issuer(None) == []
    assert checks.check_signing_key(None) == []


EMAIL_SETTINGS = (
    "from django.conf import settings; import django; django.setup(); "
    "print([getattr(settings, name) for name in ("
    "'EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', "
    "'EMAIL_USE_TLS', 'DEFAULT_FROM_EMAIL')])"
)


def test_production_email_defaults_to_smtp_configured_from_the_environment():
    result = import_settings(
        code=EMAIL_SETTINGS,
        DJANGO_SETTINGS_MODULE="project.settings",
        **PROD,
        IDP_SIGNING_KEY=generate_private_key_pem(),
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="idp",
        EMAIL_HOST_PASSWORD="mail-password",
        EMAIL_USE_TLS="1",
        DEFAULT_FROM_EMAIL="id@example.com",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        [
            "django.core.mail.backends.smtp.EmailBackend", "smtp.example.com", 587, "idp", "mail-password",
            True, "id@example.com",
        ]
    )  # fmt: skip


def test_development_email_defaults_to_the_console():
    result = import_settings(code=EMAIL_SETTINGS, DJANGO_SETTINGS_MODULE="project.settings")
    assert result.returncode == 0, result.stderr
    assert "django.core.mail.backends.console.EmailBackend" in result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["console", "locmem"])
def test_production_refuses_email_that_is_never_delivered(settings, backend):
    settings.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    assert checks.check_email_backend(None) == []  # loopback issuer: development
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    assert [m.id for m in checks.check_email_backend(None)] == ["idp.E007"]
    with pytest.raises(ImproperlyConfigured, match="does not deliver email"):
        checks.refuse_unsafe_start()


def test_production_accepts_smtp_email(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert checks.check_email_backend(None) == []
