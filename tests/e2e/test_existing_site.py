"""The wheel, installed into a fresh virtualenv, drops into an existing Django site the README's way.

The wheel is built from this checkout and installed without its source: the virtualenv borrows only
the third-party packages of the running one. examples/existing_site (Django's auth.User) and its
email-only variant then run the README's steps (generate a key, migrate, check, create a person and
a client) and serve; an independent relying party (Authlib) signs the person in: consent page,
code + PKCE, ID token verified against the served JWKS, userinfo, refresh, logout.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from authlib.common.security import generate_token
from jwcrypto import jwk, jwt

from .live_server import REPO_ROOT, REQUEST_TIMEOUT, _free_port
from .rp import client_session, query_of, sign_in_and_allow

pytestmark = pytest.mark.e2e

REDIRECT = "http://127.0.0.1:8765/callback"
LOGGED_OUT = "http://127.0.0.1:8765/logged-out"
PASSWORD = "alice's own password 2468"


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel of this checkout installed (and the test venv's third parties)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in ("idp", "pyproject.toml", "README.md", "CHANGELOG.md"):
        copy = shutil.copytree if (REPO_ROOT / name).is_dir() else shutil.copy
        copy(REPO_ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run(
        [*pip, "wheel", str(source), "--no-deps", "-w", str(root / "dist")], check=True, timeout=600
    )
    (wheel,) = (root / "dist").glob("django_idp-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    venv_site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    # Third-party packages only: a plain path line, so the test venv's own .pth files (among them
    # the editable install of this checkout) are not read.
    (venv_site / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([python, "-m", "pip", "-q", "install", "--no-deps", str(wheel)], check=True, timeout=300)
    return python


@contextmanager
def database_url(tmp_path: Path, name: str) -> Iterator[str]:
    """SQLite in a file, or a fresh PostgreSQL database beside the test one, dropped afterwards."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'site.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(configured)
    database = f"{parts.path.lstrip('/')}_{name}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{database}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.mark.parametrize(
    ("settings_module", "username"),
    [("shop.settings", "alice"), ("shop.settings_email", "alice@example.com")],
    ids=["auth-user", "email-only-user"],
)
def test_a_person_of_the_existing_site_signs_in_to_a_relying_party(venv, tmp_path, settings_module, username):
    site_dir = tmp_path / "site"
    shutil.copytree(REPO_ROOT / "examples" / "existing_site", site_dir)
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "IDP_", "PYTHON"))
    }
    env.update(DJANGO_SETTINGS_MODULE=settings_module, IDP_ISSUER=issuer, DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    with database_url(tmp_path, settings_module.replace(".", "_")) as url:
        follow_the_readme(venv, site_dir, {**env, "DATABASE_URL": url}, issuer, username, tmp_path)


def follow_the_readme(venv: Path, site_dir: Path, env: dict, issuer: str, username: str, tmp_path: Path):
    """The README's steps, in its order; then serve, and sign alice in from a relying party."""
    port = urlsplit(issuer).port

    def manage(*args: str) -> str:
        result = subprocess.run(
            [venv, "manage.py", *args], cwd=site_dir, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr

    where = [venv, "-c", "import idp; print(idp.__file__)"]
    installed = subprocess.run(where, cwd=site_dir, env=env, capture_output=True, text=True, check=True)
    assert str(venv.parent.parent) in installed.stdout  # the wheel's idp, not this checkout's

    manage("idp_keys", "generate", "--out", "signing-key.pem")
    manage("migrate")
    assert "no issues" in manage("check")
    email = ["--email", "alice@example.com"]
    manage("createsuperuser", "--noinput", *(email if "@" in username else ["--username", username, *email]))
    created = json.loads(
        manage(
            "idp_client", "create", "--kind", "web", "--name", "Shop RP", "--redirect-uri", REDIRECT,
            "--post-logout-redirect-uri", LOGGED_OUT, "--scope", "openid", "--scope", "email",
            "--scope", "profile", "--scope", "offline_access", "--json",
        )
    )  # fmt: skip
    client = (created["client_id"], created["integration"]["client_secret"])

    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [venv, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=site_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        discovery = wait_for_discovery(issuer)
        sign_in_to_the_relying_party(discovery, client, issuer, username)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def wait_for_discovery(issuer: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        try:
            response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=REQUEST_TIMEOUT)
            if response.status_code == 200:
                return response.json()
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "the example site did not start"
        time.sleep(0.2)


def sign_in_to_the_relying_party(
    discovery: dict, client: tuple[str, str], issuer: str, username: str
) -> None:
    assert discovery["issuer"] == issuer
    oauth = client_session(
        client,
        scope="openid profile email offline_access",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = oauth.create_authorization_url(
        discovery["authorization_endpoint"], state=generate_token(20), nonce=nonce, code_verifier=verifier,
        prompt="consent",
    )  # fmt: skip
    location = sign_in_and_allow(discovery, url, {"username": username, "password": PASSWORD})
    assert query_of(location)["state"] == state and query_of(location)["iss"] == issuer
    token = oauth.fetch_token(
        discovery["token_endpoint"], authorization_response=location, code_verifier=verifier, state=state
    )

    keys = jwk.JWKSet.from_json(requests.get(discovery["jwks_uri"], timeout=REQUEST_TIMEOUT).text)
    claims = json.loads(
        jwt.JWT(
            jwt=token["id_token"], key=keys, algs=["RS256"],
            check_claims={"iss": issuer, "aud": client[0], "exp": None, "nonce": nonce},
        ).claims
    )  # fmt: skip
    userinfo = oauth.get(discovery["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"] and userinfo["email"] == "alice@example.com"
    assert "email_verified" not in userinfo  # the default claims source never claims it

    refreshed = oauth.refresh_token(discovery["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert oauth.get(discovery["userinfo_endpoint"]).json()["sub"] == claims["sub"]

    logout = requests.get(
        discovery["end_session_endpoint"],
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGGED_OUT, "state": "bye"},
        allow_redirects=False, timeout=REQUEST_TIMEOUT,
    )  # fmt: skip
    assert logout.status_code == 302 and logout.headers["Location"] == f"{LOGGED_OUT}?state=bye"
