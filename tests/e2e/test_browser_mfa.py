"""Two-step sign-in in a real browser: enroll an authenticator app (codes computed here with pyotp),
recovery codes, sign in with password + TOTP and with a recovery code, step-up by acr_values; each new
page checked with axe-core at phone and desktop widths and screenshotted."""

from __future__ import annotations

import base64
import json
import time

import pyotp
import pytest
from playwright.sync_api import expect

from idp.mfa.acr import MFA

from .browser import check_page, to_the_app
from .test_browser_journeys import authorization_url, exchange, sign_in

pytestmark = pytest.mark.e2e

PERSON = ("dora", "dora-demo-password-4711")
DEMO_WEB = ("demo-web", "demo-web-secret")


def fresh_person(live_idp) -> None:
    """Dora, with no factor yet (the server is shared: she is made again for each run)."""
    username, password = PERSON
    live_idp.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; User = get_user_model(); "
        f"User.objects.filter(username={username!r}).delete(); "
        f"User.objects.create_user({username!r}, 'dora@example.com', {password!r}, first_name='Dora')",
    )


def payload(id_token: str) -> dict:
    body = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def next_step(after: float) -> None:
    """Wait for the TOTP step after the one of ``after``: a code works once per step."""
    while int(time.time() // 30) == int(after // 30):
        time.sleep(0.5)


def sign_out(page, live_idp) -> None:
    page.goto(f"{live_idp.base_url}/account/security")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()


def test_enroll_totp_then_sign_in_with_it_and_with_a_recovery_code(browser_page, live_idp):
    page = browser_page
    fresh_person(live_idp)
    page.goto(f"{live_idp.base_url}/login?next=/account/security")
    sign_in(page, *PERSON)
    expect(page.get_by_role("heading", name="Security", exact=True)).to_be_visible()
    check_page(page, "mfa-01-security")

    # Enroll: the secret is read from the page, the code computed here.
    page.get_by_label("Name of the app or device").fill("Test phone")
    page.get_by_role("button", name="Add an authenticator app").click()
    expect(page.get_by_role("heading", name="Add an authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    check_page(page, "mfa-02-totp-setup")
    totp = pyotp.TOTP(page.locator("#totp-secret").get_attribute("data-secret"))
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    page.get_by_label("Code from the app").fill(totp.now())
    used = time.time()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    check_page(page, "mfa-03-recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("[data-factor='Test phone']")).to_be_visible()
    check_page(page, "mfa-04-security-with-app")
    sign_out(page, live_idp)

    # Password, then the code: the relying party gets acr mfa and amr pwd otp mfa.
    url, verifier = authorization_url(live_idp, "demo-web", acr_values=MFA)
    page.goto(url)
    sign_in(page, *PERSON)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    check_page(page, "mfa-05-verify")
    page.get_by_label("Code from your authenticator app").fill(
        "123456" if totp.now() != "123456" else "654321"
    )
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    check_page(page, "mfa-06-verify-error")
    next_step(used)
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    query = to_the_app(page, page.get_by_role("button", name="Allow").click)
    claims = payload(exchange(live_idp, DEMO_WEB, query["code"], verifier)["id_token"])
    assert claims["acr"] == MFA and claims["amr"] == ["pwd", "otp", "mfa"]
    sign_out(page, live_idp)

    # Password, then a recovery code (consent is remembered: straight back to the app).
    url, verifier = authorization_url(live_idp, "demo-web")
    page.goto(url)
    sign_in(page, *PERSON)
    page.get_by_text("Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    query = to_the_app(page, page.get_by_role("button", name="Continue with a recovery code").click)
    claims = payload(exchange(live_idp, DEMO_WEB, query["code"], verifier)["id_token"])
    assert claims["acr"] == MFA and "otp" in claims["amr"]

    # The same recovery code does not work twice.
    sign_out(page, live_idp)
    page.goto(f"{live_idp.base_url}/login?next=/account/security")
    sign_in(page, *PERSON)
    page.get_by_text("Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue with a recovery code").click()
    expect(page.get_by_role("alert")).to_contain_text("was used before")
    check_page(page, "mfa-07-verify-recovery-error")
