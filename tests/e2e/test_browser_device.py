"""The device authorization grant end to end: a device client that follows RFC 8628 (written here, not
the provider's code) polls the live server while a person in Chromium types the code, signs in and
approves; then the device verifies its ID token against the JWKS and calls userinfo. And the /device
page's messages, checked with axe-core at phone and desktop widths."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests
from jwcrypto import jwk, jwt
from playwright.sync_api import expect

from .browser import check_page
from .live_server import REQUEST_TIMEOUT
from .rp import fetch_discovery

pytestmark = pytest.mark.e2e

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ALICE = ("alice", "alice-demo-password")


@dataclass
class DeviceClient:
    """RFC 8628 §3.1-3.5 from the device's side: ask for codes, then poll at the interval, slowing
    down by 5 seconds on each slow_down, until tokens or a final error."""

    discovery: dict
    client_id: str
    answers: list[str] = field(default_factory=list)
    tokens: dict | None = None
    error: str | None = None

    def start(self, scope: str) -> dict:
        response = requests.post(
            self.discovery["device_authorization_endpoint"],
            data={"client_id": self.client_id, "scope": scope},
            timeout=REQUEST_TIMEOUT,
        )
        assert response.status_code == 200, response.text
        self.codes = response.json()
        self.interval = self.codes.get("interval", 5)
        return self.codes

    def poll_once(self) -> dict:
        response = requests.post(
            self.discovery["token_endpoint"],
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": self.codes["device_code"],
                "client_id": self.client_id,
            },
            timeout=REQUEST_TIMEOUT,
        )
        body = response.json()
        self.answers.append(body.get("error", "tokens"))
        return body

    def poll_until_done(self, *, deadline: float) -> None:
        while time.monotonic() < deadline:
            body = self.poll_once()
            error = body.get("error")
            if error is None:
                self.tokens = body
                return
            if error == "slow_down":
                self.interval += 5
            elif error != "authorization_pending":
                self.error = error
                return
            time.sleep(self.interval)
        self.error = "gave up"


def sign_in(page, username: str, password: str) -> None:
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_device_polls_while_a_person_approves_in_chromium(browser_page, live_idp):
    page = browser_page
    discovery = fetch_discovery(live_idp)
    device = DeviceClient(discovery, "demo-device")
    codes = device.start("openid profile email offline_access")
    assert codes["verification_uri"] == f"{live_idp.base_url}/device"
    # Polling at once and again straight away: the second poll is too soon.
    assert device.poll_once()["error"] == "authorization_pending"
    assert device.poll_once()["error"] == "slow_down"
    device.interval += 5
    poller = threading.Thread(target=device.poll_until_done, kwargs={"deadline": time.monotonic() + 120})
    poller.start()

    page.goto(codes["verification_uri_complete"])  # e.g. from a QR code on the TV
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, *ALICE)
    expect(page.get_by_role("heading", name="Connect a device")).to_be_visible()
    assert page.get_by_label("Code").input_value() == codes["user_code"]
    check_page(page, "device-01-code")
    page.get_by_role("button", name="Continue").click()
    expect(
        page.get_by_role("heading", name="Demo TV app on a device wants to access your account")
    ).to_be_visible()
    expect(page.get_by_text("Only continue if you started this on a device in front of you.")).to_be_visible()
    check_page(page, "device-02-consent")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="You can return to your device")).to_be_visible()
    check_page(page, "device-03-done")

    poller.join(timeout=130)
    assert device.error is None, (device.error, device.answers)
    assert device.answers[:2] == ["authorization_pending", "slow_down"]
    assert device.answers[-1] == "tokens"
    tokens = device.tokens
    assert set(tokens["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    assert "refresh_token" in tokens
    keys = jwk.JWKSet.from_json(requests.get(discovery["jwks_uri"], timeout=REQUEST_TIMEOUT).text)
    claims = json.loads(
        jwt.JWT(
            jwt=tokens["id_token"],
            key=keys,
            algs=["RS256"],
            check_claims={"iss": discovery["issuer"], "aud": "demo-device", "exp": None},
        ).claims
    )
    userinfo = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=REQUEST_TIMEOUT,
    )
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == claims["sub"]
    assert userinfo.json()["email"] == "alice@example.com"
    # The device code is used up.
    assert device.poll_once()["error"] == "invalid_grant"


def test_wrong_and_expired_codes_are_messages_on_the_page(browser_page, live_idp):
    page = browser_page
    page.goto(f"{live_idp.base_url}/device")
    sign_in(page, *ALICE)
    expect(page.get_by_role("heading", name="Connect a device")).to_be_visible()
    page.get_by_label("Code").fill("bcdf ghjk")  # case, spaces and dashes do not matter
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right.")
    check_page(page, "device-04-wrong-code")

    codes = DeviceClient(fetch_discovery(live_idp), "demo-device").start("openid")
    live_idp.manage(
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone; "
        "from idp.models import DeviceGrant; "
        "DeviceGrant.objects.filter(status='authorization-pending').update("
        "expires=timezone.now() - timedelta(seconds=1))",
    )
    page.get_by_label("Code").fill(codes["user_code"].lower())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code has expired.")
    check_page(page, "device-05-expired-code")
