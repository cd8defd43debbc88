"""A deployment made while the user model was ``idp.User`` migrates to the new layout and loses nothing.

The old code (the newest commit whose ``idp.User`` still held the ``sub``) makes and fills
a database; this code then runs ``manage.py migrate`` on it: people still sign in with their
passwords, keep the ``sub`` every client has seen, and keep permissions granted on them.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent

OLD_SIDE = """
from django.contrib.auth.models import Permission
from idp.models import User
person = User.objects.create_user("early", password="an early password 1234")
helpdesk = User.objects.create_user("helpdesk", password="x" * 20, is_staff=True)
helpdesk.user_permissions.add(Permission.objects.get(content_type__app_label="idp", codename="change_user"))
print(person.sub)
"""
NEW_SIDE = """
from django.contrib.auth import get_user_model
from idp.subjects import sub_for
person, helpdesk = (get_user_model().objects.get(username=name) for name in ("early", "helpdesk"))
print(person._meta.label, person.check_password("an early password 1234"), sub_for(person, None))
print(helpdesk.has_perm("accounts.change_user"))
"""


GIT, TAR = shutil.which("git"), shutil.which("tar")


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GIT, *args], cwd=ROOT, capture_output=True, check=False)


def last_commit_with_sub_on_idp_user() -> str | None:
    """The newest commit whose ``idp.User`` held the ``sub`` (before idp's own table of subjects)."""
    if GIT is None or TAR is None or not (ROOT / ".git").exists():
        return None
    for commit in git("log", "--format=%H", "--", "idp/models.py").stdout.decode().split():
        subjects_table = git("cat-file", "-e", f"{commit}:idp/migrations/0008_subjects.py").returncode == 0
        if (
            not subjects_table
            and b"class User(AbstractUser)" in git("show", f"{commit}:idp/models.py").stdout
        ):
            return commit
    return None


def run(code_root: Path, database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(code_root)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=code_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def database_url(tmp_path):
    """A database of its own: SQLite in a file, or a fresh PostgreSQL database beside the test one."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(configured)
    name = parts.path.lstrip("/") + "_upgrade"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_people_passwords_subs_and_permissions_survive_the_user_model_move(tmp_path, database_url):
    commit = last_commit_with_sub_on_idp_user()
    if commit is None:
        pytest.skip("needs the git history of this repository")
    old = tmp_path / "old"
    old.mkdir()
    subprocess.run([TAR, "-x", "-C", str(old)], input=git("archive", commit).stdout, check=True)

    run(old, database_url, "migrate", "--verbosity", "0")
    issued_sub = run(old, database_url, "shell", "--no-imports", "-c", OLD_SIDE).strip()

    migrated = run(ROOT, database_url, "migrate")
    assert "Recorded accounts.0001_initial" in migrated
    assert run(ROOT, database_url, "shell", "--no-imports", "-c", NEW_SIDE).split() == [
        "accounts.User",
        "True",
        issued_sub,
        "True",
    ]
    run(ROOT, database_url, "migrate", "--check")  # nothing left to apply, and a second run is harmless
