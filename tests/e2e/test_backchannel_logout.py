"""Single sign-out across two real relying parties: each verifies its logout token with Authlib.

A person signs in to both through the browser (one session here). Signing out at one (RP-initiated
logout), and separately "Sign out everywhere" on the sessions page, make the delivery worker
(``manage.py idp_deliver_logouts``, running as a process) POST each a logout token within seconds.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import warnings
from urllib.parse import urlencode

import authlib.deprecate  # noqa: F401  (installs authlib's own "always" filter before the one below)
import pytest
import requests
from playwright.sync_api import expect

from oidc_selftest.pkce import pkce_pair
from tests.backchannel_rp import LogoutReceiver

from .browser import RP_ORIGIN, check_page, to_the_app
from .live_server import REPO_ROOT, REQUEST_TIMEOUT

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # authlib.jose: see test_authlib_flow
    from authlib.jose import JsonWebKey, jwt

pytestmark = pytest.mark.e2e

EVENT = "http://schemas.openid.net/event/backchannel-logout"
CALLBACK = f"{RP_ORIGIN}/callback"
ALICE = ("alice", "alice-demo-password")


def verifier_for(live_idp, client_id: str):
    """What a relying party does with a logout token (Back-Channel Logout 1.0 §2.6), with Authlib."""

    def verify(token: str) -> dict:
        keys = JsonWebKey.import_key_set(
            requests.get(f"{live_idp.base_url}/.well-known/jwks.json", timeout=5).json()
        )
        claims = jwt.decode(
            token,
            keys,
            claims_options={
                "iss": {"essential": True, "value": live_idp.base_url},
                "aud": {"essential": True, "value": client_id},
                "iat": {"essential": True},
                "exp": {"essential": True},
                "jti": {"essential": True},
            },
        )
        claims.validate(leeway=5)
        assert claims.header["typ"] == "logout+jwt" and claims.header["alg"] == "RS256"
        assert claims["events"] == {EVENT: {}} and "nonce" not in claims
        assert claims.get("sid") and claims.get("sub")
        return dict(claims)

    return verify


@pytest.fixture
def two_rps(live_idp, tmp_path):
    """Two clients registered (declarative import) with the URIs of two verifying RPs, and the worker."""
    suffix = secrets.token_hex(4)
    ids = [f"rp-a-{suffix}", f"rp-b-{suffix}"]
    with (
        LogoutReceiver(verify=verifier_for(live_idp, ids[0])) as a,
        LogoutReceiver(verify=verifier_for(live_idp, ids[1])) as b,
    ):
        specs = [
            {
                "client_id": client_id,
                "name": f"Relying party {client_id}",
                "kind": "web",
                "client_secret": f"{client_id}-secret-of-at-least-32-characters",
                "first_party": True,
                "redirect_uris": [CALLBACK],
                "allowed_scopes": ["openid", "profile"],
                "backchannel_logout_uri": rp.url,
                "backchannel_logout_session_required": True,
            }
            for client_id, rp in zip(ids, (a, b), strict=True)
        ]
        path = tmp_path / "rps.json"
        path.write_text(json.dumps({"clients": specs}))
        live_idp.manage("idp_client", "import", str(path))
        with (tmp_path / "worker.log").open("ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "idp_deliver_logouts", "--interval", "0.5"],
                cwd=REPO_ROOT, env=live_idp.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            yield [(ids[0], a), (ids[1], b)]
        finally:
            worker.terminate()
            worker.wait(timeout=10)


def sign_in_to(page, live_idp, client_id: str, *, first: bool) -> dict:
    """The browser goes to the app's authorization request (signing in if asked); the app's back end
    exchanges the code. Returns the token response."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid profile",
        "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    url = f"{live_idp.base_url}/authorize?{urlencode(params)}"
    if first:
        page.goto(url)
        page.get_by_label("Username or email").fill(ALICE[0])
        page.get_by_label("Password", exact=True).fill(ALICE[1])
        query = to_the_app(page, page.get_by_role("button", name="Sign in").click)
    else:
        query = to_the_app(page, lambda: page.goto(url))
    response = requests.post(
        f"{live_idp.base_url}/token",
        data={"grant_type": "authorization_code", "code": query["code"], "redirect_uri": CALLBACK,
              "code_verifier": verifier},
        auth=(client_id, f"{client_id}-secret-of-at-least-32-characters"),
        timeout=REQUEST_TIMEOUT,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def id_claims(token: str) -> dict:
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def wait_for(rps, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(len(rp.verified) < count for _, rp in rps):
        time.sleep(0.1)


def both_signed_in(page, live_idp, rps) -> tuple[str, dict]:
    tokens = {}
    for index, (client_id, _rp) in enumerate(rps):
        tokens[client_id] = sign_in_to(page, live_idp, client_id, first=index == 0)
    sids = {id_claims(t["id_token"])["sid"] for t in tokens.values()}
    assert len(sids) == 1  # one browser session, one sid, in both apps' ID tokens
    return sids.pop(), tokens


def assert_told(rps, *, sid: str, tokens: dict, count: int) -> None:
    started = time.monotonic()
    wait_for(rps, count)
    for client_id, rp in rps:
        assert rp.errors == [], rp.errors
        assert len(rp.verified) == count, f"{client_id} got {len(rp.verified)} verified logout tokens"
        claims = rp.verified[-1]
        assert claims["sid"] == sid and claims["aud"] == client_id
        assert claims["sub"] == id_claims(tokens[client_id]["id_token"])["sub"]
    assert time.monotonic() - started < 20


def test_signing_out_at_one_app_tells_both(browser_page, live_idp, two_rps):
    page = browser_page
    sid, tokens = both_signed_in(page, live_idp, two_rps)
    first_id = two_rps[0][0]
    page.goto(
        f"{live_idp.base_url}/end-session?" + urlencode({"id_token_hint": tokens[first_id]["id_token"]})
    )
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    assert_told(two_rps, sid=sid, tokens=tokens, count=1)


def test_sign_out_everywhere_on_the_sessions_page_tells_both(browser_page, live_idp, two_rps):
    page = browser_page
    sid, tokens = both_signed_in(page, live_idp, two_rps)
    page.goto(f"{live_idp.base_url}/account/sessions")
    expect(page.get_by_role("heading", name="Where you are signed in")).to_be_visible()
    for client_id, _rp in two_rps:
        expect(page.get_by_text(f"Relying party {client_id}")).to_be_visible()
    check_page(page, "20-sessions")
    page.get_by_role("button", name="Sign out everywhere", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_told(two_rps, sid=sid, tokens=tokens, count=1)
