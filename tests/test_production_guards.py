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


def import_settings(**env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "DEBUG", "SECRET_KEY"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import project.settings"],
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
    settings.IDP = {**settings.IDP, "ISSUER": "https://id.example.com"}
    with pytest.raises(CommandError, match="not a loopback"):
        call_command("idp_load_demo")


@pytest.mark.django_db
def test_demo_credentials_block_production_start(settings):
    load_demo_data(read_demo_file())
    checks.refuse_unsafe_start()  # loopback issuer: fine
    assert checks.check_demo_credentials(None) == []
    settings.IDP = {**settings.IDP, "ISSUER": "https://id.example.com"}
    with pytest.raises(ImproperlyConfigured, match="demo credentials"):
        checks.refuse_unsafe_start()
    [error] = checks.check_demo_credentials(None)
    assert error.id == "idp.E004"
    assert "client demo-web" in error.msg and "user alice" in error.msg
    assert "client demo-spa" in error.msg


@pytest.mark.django_db
def test_changed_demo_passwords_no_longer_block(settings):
    load_demo_data(read_demo_file())
    from idp.models import Application, User

    for user in User.objects.all():
        user.set_password("a brand new password " + user.username)
        user.save()
    for app in Application.objects.all():
        app.client_secret = "rotated-" + app.client_id + "-" + "x" * 40
        app.redirect_uris = "https://spa.example.com/callback"
        app.save()
    settings.IDP = {**settings.IDP, "ISSUER": "https://id.example.com"}
    checks.refuse_unsafe_start()


@pytest.mark.parametrize(
    ("issuer", "error_id"),
    [("https://id.example.com/path", "idp.E001"), ("http://id.example.com", "idp.E002")],
)
def test_issuer_checks(settings, issuer, error_id):
    settings.IDP = {**settings.IDP, "ISSUER": issuer}
    assert [m.id for m in checks.check_issuer(None)] == [error_id]


def test_sound_issuer_passes_checks():
    assert checks.check_issuer(None) == []
    assert checks.check_signing_key(None) == []
