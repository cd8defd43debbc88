"""idp added to a site ``django-admin startproject`` made: each missing setting is a check, never a crash."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def startproject(tmp_path: Path) -> Path:
    """A fresh site with ``oauth2_provider`` and ``idp`` installed and ``idp.urls`` included, nothing else."""
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "shop", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    settings = tmp_path / "shop" / "settings.py"
    text = settings.read_text()
    settings.write_text(
        text.replace(
            "'django.contrib.staticfiles',",
            "'django.contrib.staticfiles',\n    'oauth2_provider',\n    'idp',",
        )
    )
    urls = tmp_path / "shop" / "urls.py"
    urls.write_text(
        urls.read_text()
        .replace("from django.urls import path", "from django.urls import include, path")
        .replace("urlpatterns = [", "urlpatterns = [\n    path('', include('idp.urls')),")
    )
    return tmp_path


def manage(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "shop.settings"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=site, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_fresh_site_is_told_each_missing_setting_by_a_check_id(tmp_path):
    result = manage(startproject(tmp_path), "check")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    ids = re.findall(r"\((idp\.[EW]\d{3})\)", result.stderr)
    assert ids.count("idp.E011") == 6  # the six OAUTH2_PROVIDER_*_MODEL settings (the device grant too)
    assert {"idp.E001", "idp.E003", "idp.E012", "idp.W003"} <= set(ids)
    assert 'Add OAUTH2_PROVIDER_APPLICATION_MODEL = "idp.Application" to settings.py' in result.stderr


@pytest.mark.parametrize("module", ["idp.models", "idp.admin", "idp.urls", "idp.conf"])
def test_importing_idp_before_it_is_configured_never_raises(tmp_path, module):
    site = startproject(tmp_path)
    result = manage(site, "shell", "-c", f"import {module}")
    assert result.returncode == 0 and "Error" not in result.stderr, result.stderr
