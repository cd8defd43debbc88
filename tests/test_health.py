"""Liveness and readiness probes, and the production deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from idp.keys import generate_private_key_pem

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_without_touching_the_database(client):
    # No db mark: any database access here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_cache_and_key(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "signing_key": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_without_a_usable_signing_key(client, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": "not a key"}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["signing_key"] == "unavailable"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    key = tmp_path / "signing.pem"
    key.write_text(generate_private_key_pem())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "DEBUG", "SECRET_KEY"))}
    env.update(
        IDP_ISSUER="https://id.example.com",
        SECRET_KEY="x" * 20 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH",
        IDP_SIGNING_KEY_FILE=str(key),
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
