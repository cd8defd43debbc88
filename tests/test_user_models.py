"""idp with a site's own user model: Django's auth.User, an email-only custom user, a UUID primary key.

A user model is fixed for the life of a process, so each runs tests/other_users in a pytest of its own.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("site", ["auth", "email", "uuid"])
def test_the_flow_passes_with_the_sites_user_model(site):
    env = {**os.environ}
    if env.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = env["DATABASE_URL"] + f"_{site}"  # its own test database
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests/other_users", "-q", "-p", "no:cacheprovider",
            "--ds", f"tests.other_users.settings_{site}", "--create-db",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout
