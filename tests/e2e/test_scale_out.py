"""Any instance serves any request: two gunicorn processes on one PostgreSQL and Redis share a flow,
and a key rotation, without a restart."""

from __future__ import annotations

import os
import time
from urllib.parse import urlencode, urljoin

import pytest
import requests
from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException

from idp.key_storage import generate_kek
from idp.keys import generate_private_key_pem
from oidc_selftest.forms import forms_of
from oidc_selftest.pkce import pkce_pair

from .live_server import (
    _HOSTILE_ENV,
    REQUEST_TIMEOUT,
    _free_port,
    _manage,
    fresh_postgres_database,
    serving_with_gunicorn,
)
from .rp import ALICE, REDIRECT_URI, WEB, query_of

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/7"
JWKS_MAX_AGE = 2


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
            # Keys kept in the database as well; a rotated key signs 2 + 1 seconds after it is published.
            IDP_KEY_ENCRYPTION_KEY=generate_kek(),
            IDP_JWKS_MAX_AGE_SECONDS=str(JWKS_MAX_AGE),
            IDP_KEY_ROTATION_MARGIN="1",
            DEBUG="0",
            PYTHONUNBUFFERED="1",
        )
        with serving_with_gunicorn(env, ports, tmp_path / "servers.log") as urls:
            yield urls, issuer, env, tmp_path / "servers.log"


def test_a_flow_crosses_instances(two_instances):
    (a, b), issuer, _env, _log = two_instances
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


def id_token_from(base: str) -> str:
    """Alice signs in at ``base`` and the web client gets an ID token there (consent given if asked)."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code", "client_id": WEB[0], "redirect_uri": REDIRECT_URI, "scope": "openid",
        "state": "st", "nonce": "nn", "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    with requests.Session() as browser:
        login = browser.get(f"{base}/login", timeout=REQUEST_TIMEOUT)
        (form,) = forms_of(login.text)
        browser.post(
            f"{base}/login", data={"csrfmiddlewaretoken": form.values()["csrfmiddlewaretoken"], **ALICE},
            headers={"Referer": f"{base}/login"}, allow_redirects=False, timeout=REQUEST_TIMEOUT,
        )  # fmt: skip
        answer = browser.get(
            f"{base}/authorize?{urlencode(params)}", allow_redirects=False, timeout=REQUEST_TIMEOUT
        )
        if answer.status_code == 200:  # the consent page, the first time
            (form,) = [f for f in forms_of(answer.text) if f.attrs.get("id") == "consent-form"]
            hidden = {f["name"]: f.get("value", "") for f in form.fields if f.get("type") == "hidden"}
            answer = browser.post(
                answer.url, data={**hidden, "allow": "1"}, headers={"Referer": answer.url},
                allow_redirects=False, timeout=REQUEST_TIMEOUT,
            )  # fmt: skip
    code = query_of(answer.headers["Location"])["code"]
    tokens = requests.post(
        f"{base}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
              "code_verifier": verifier},
        auth=WEB, timeout=REQUEST_TIMEOUT,
    )  # fmt: skip
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["id_token"]


def kid_of(token: str) -> str:
    parsed = jws.JWS()
    parsed.deserialize(token)
    return parsed.jose_header["kid"]


def kids(base: str) -> list[str]:
    return [
        key["kid"]
        for key in requests.get(f"{base}/.well-known/jwks.json", timeout=REQUEST_TIMEOUT).json()["keys"]
    ]


def eventually(check, *, seconds: float = 5.0):
    """``check()``'s first true value within ``seconds`` (the instances look for key changes every second)."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, "not seen in time"
        time.sleep(0.1)
    return value


def test_a_rotation_reaches_both_instances_without_restart_and_a_caching_rp_never_fails(two_instances):
    (a, b), _issuer, env, log = two_instances
    old_kid = kid_of(id_token_from(a))
    assert kids(a) == kids(b) == [old_kid]
    _manage(env, log, "idp_keys", "rotate")
    started = time.monotonic()
    # Published by both within seconds; still not signing.
    (new_kid,) = eventually(lambda: set(kids(a)) - {old_kid} if set(kids(a)) == set(kids(b)) else None)
    seen_after = time.monotonic() - started
    cached = jwk.JWKSet.from_json(requests.get(f"{b}/.well-known/jwks.json", timeout=REQUEST_TIMEOUT).content)
    before = [id_token_from(a), id_token_from(b)]
    assert {kid_of(token) for token in before} == {old_kid}
    # After the pre-publication period, the scheduled step activates it; no instance restarts.
    time.sleep(JWKS_MAX_AGE + 1)
    _manage(env, log, "idp_keys", "advance")
    eventually(lambda: kid_of(id_token_from(a)) == new_kid and kid_of(id_token_from(b)) == new_kid)
    after = [id_token_from(a), id_token_from(b)]
    # The relying party verifies every token, before and after, with the JWKS it fetched once.
    failures = 0
    for token in before + after:
        try:
            jwt.JWT(jwt=token, key=cached, algs=["RS256"], check_claims={"exp": None})
        except JWException:
            failures += 1
    assert failures == 0 and {kid_of(token) for token in after} == {new_kid}
    assert kids(a)[0] == kids(b)[0] == new_kid and old_kid in kids(a)  # the old key stays published
    print(f"rotation published by both instances {seen_after:.2f} s after `idp_keys rotate` returned")
