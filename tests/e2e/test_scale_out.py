"""Any instance serves any request: two gunicorn processes on one PostgreSQL and Redis share a flow."""

from __future__ import annotations

import os
from urllib.parse import urlencode, urljoin

import pytest
import requests

from idp.keys import generate_private_key_pem
from oidc_selftest.forms import forms_of
from oidc_selftest.pkce import pkce_pair

from .live_server import (
    _HOSTILE_ENV,
    REQUEST_TIMEOUT,
    _free_port,
    fresh_postgres_database,
    serving_with_gunicorn,
)
from .rp import ALICE, REDIRECT_URI, WEB, query_of

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture
def two_instances(tmp_path):
    """Instances A and B: same database, same Redis, same key, same issuer; different processes."""
    key = tmp_path / "signing.pem"
    key.write_text(generate_private_key_pem())
    ports = [_free_port(), _free_port()]
    issuer = f"http://127.0.0.1:{ports[0]}"
    with fresh_postgres_database() as database:
        env = {k: v for k, v in os.environ.items() if k not in _HOSTILE_ENV}
        env.update(
            DJANGO_SETTINGS_MODULE="project.settings",
            DATABASE_URL=database,
            REDIS_URL=REDIS_URL,
            IDP_ISSUER=issuer,
            IDP_SIGNING_KEY_FILE=str(key),
            DEBUG="0",
            PYTHONUNBUFFERED="1",
        )
        with serving_with_gunicorn(env, ports, tmp_path / "servers.log") as urls:
            yield urls, issuer


def test_a_flow_crosses_instances(two_instances):
    (a, b), issuer = two_instances
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code", "client_id": WEB[0], "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email", "state": "st", "nonce": "nn",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    with requests.Session() as browser:
        # Sign in on B (the session lands in Redis)...
        login = browser.get(f"{b}/login", timeout=REQUEST_TIMEOUT)
        (form,) = forms_of(login.text)
        token = form.values()["csrfmiddlewaretoken"]
        signed_in = browser.post(
            f"{b}/login", data={"csrfmiddlewaretoken": token, **ALICE}, headers={"Referer": f"{b}/login"},
            allow_redirects=False, timeout=REQUEST_TIMEOUT,
        )  # fmt: skip
        assert signed_in.status_code == 302, signed_in.text[:300]
        # ...and authorize on A, which knows that session.
        consent = browser.get(f"{a}/authorize?{urlencode(params)}", timeout=REQUEST_TIMEOUT)
        assert consent.status_code == 200 and "consent-form" in consent.text, consent.url
        (form,) = [f for f in forms_of(consent.text) if f.attrs.get("id") == "consent-form"]
        hidden = {f["name"]: f.get("value", "") for f in form.fields if f.get("type") == "hidden"}
        answer = browser.post(
            consent.url, data={**hidden, "allow": "1"}, headers={"Referer": consent.url},
            allow_redirects=False, timeout=REQUEST_TIMEOUT,
        )  # fmt: skip
    assert answer.status_code == 302, answer.text[:300]
    response = query_of(answer.headers["Location"])
    assert response["iss"] == issuer and response["state"] == "st"

    # The code minted by A is exchanged at B.
    tokens = requests.post(
        f"{b}/token",
        data={"grant_type": "authorization_code", "code": response["code"], "redirect_uri": REDIRECT_URI,
              "code_verifier": verifier},
        auth=WEB, timeout=REQUEST_TIMEOUT,
    )  # fmt: skip
    assert tokens.status_code == 200, tokens.text
    # The access token minted by B is honoured by A.
    info = requests.get(
        urljoin(a, "/userinfo"),
        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
        timeout=REQUEST_TIMEOUT,
    )
    assert info.status_code == 200 and info.json()["email"] == "alice@example.com"
    # Both instances publish the same discovery document and keys.
    for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json"):
        assert (
            requests.get(a + path, timeout=REQUEST_TIMEOUT).json()
            == requests.get(b + path, timeout=REQUEST_TIMEOUT).json()
        )
