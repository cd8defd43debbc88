"""A person in a real browser (Debian's Chromium): sign in, consent, account choice, deny, remembered
consent, revoke, lockout, password reset, logout and error pages, each checked with axe-core and
screenshotted."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import expect

from oidc_selftest.pkce import pkce_pair

from .browser import RP_ORIGIN, check_page, to_the_app
from .live_server import REQUEST_TIMEOUT

pytestmark = pytest.mark.e2e

CALLBACK = f"{RP_ORIGIN}/callback"
ALICE = ("alice", "alice-demo-password")


def authorization_url(
    live_idp, client_id: str, *, scope: str = "openid profile email", **extra
) -> tuple[str, str]:
    """An authorization request with PKCE S256; returns the URL and its code_verifier."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{live_idp.base_url}/authorize?{urlencode(params)}", verifier


def sign_in(page, username: str, password: str) -> None:
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def exchange(live_idp, client: tuple[str, str], code: str, verifier: str) -> dict:
    response = requests.post(
        f"{live_idp.base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=client,
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def forget_consents(live_idp, username: str) -> None:
    """Start a journey from a person who has allowed nothing (other tests share the server)."""
    live_idp.manage(
        "shell",
        "-c",
        f"from idp.models import Consent; Consent.objects.filter(user__username={username!r}).delete()",
    )


def test_sign_in_consent_and_redirect_then_consent_is_remembered(browser_page, live_idp):
    page = browser_page
    forget_consents(live_idp, "alice")
    url, _ = authorization_url(live_idp, "demo-web", login_hint="alice@example.com")
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("to continue to Demo web app")).to_be_visible()
    assert page.get_by_label("Username or email").input_value() == "alice@example.com"
    check_page(page, "01-login")

    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That username or email and password do not match")
    check_page(page, "02-login-error")

    sign_in(page, "alice@example.com", ALICE[1])
    expect(page.get_by_role("heading", name="Demo web app wants to access your account")).to_be_visible()
    expect(page.get_by_text("alice@example.com (verified)")).to_be_visible()
    expect(page.get_by_text("Alice Liddell")).to_be_visible()
    expect(page.get_by_text("Verified app")).to_be_visible()
    assert page.get_by_role("link", name="Privacy policy").get_attribute("href") == f"{RP_ORIGIN}/privacy"
    # Neither answer is pre-selected: the focus is not on Allow.
    assert page.evaluate("() => document.activeElement.name") != "allow"
    check_page(page, "03-consent")

    query = to_the_app(page, page.get_by_role("button", name="Allow").click)
    assert query["code"] and query["iss"] == live_idp.base_url and "state" in query

    # Remembered: the same request goes straight back to the app, no consent page.
    url, _ = authorization_url(live_idp, "demo-web")
    assert to_the_app(page, lambda: page.goto(url))["code"]

    # A new scope asks again, showing what was already allowed apart from what is new.
    url, _ = authorization_url(live_idp, "demo-web", scope="openid profile email phone")
    page.goto(url)
    expect(page.get_by_role("heading", name="Demo web app now also asks for:")).to_be_visible()
    expect(page.get_by_text("+441234567890 (verified)")).to_be_visible()
    expect(page.get_by_role("heading", name="Already allowed:")).to_be_visible()
    check_page(page, "04-consent-new-scope")


def test_select_account_offers_continue_or_another_account(browser_page, live_idp):
    page = browser_page
    forget_consents(live_idp, "alice")
    url, _ = authorization_url(live_idp, "demo-web", prompt="select_account")
    page.goto(url)
    sign_in(page, "alice", ALICE[1])  # no session yet: signing in is the choice, then consent
    to_the_app(page, page.get_by_role("button", name="Allow").click)
    url, _ = authorization_url(live_idp, "demo-web", prompt="select_account")
    page.goto(url)
    expect(page.get_by_role("heading", name="Choose an account")).to_be_visible()
    expect(page.get_by_role("link", name="Use another account")).to_be_visible()
    check_page(page, "04b-select-account")
    assert to_the_app(page, page.get_by_role("link", name="Continue as Alice Liddell").click)["code"]


def test_deny_sends_access_denied_to_the_app(browser_page, live_idp):
    page = browser_page
    url, _ = authorization_url(live_idp, "demo-web-2", scope="openid email offline_access", prompt="consent")
    page.goto(url)
    sign_in(page, "bob", "bob-demo-password")
    expect(page.get_by_text("Unverified app.")).to_be_visible()
    expect(page.get_by_text("Keep access while you are away")).to_be_visible()
    expect(page.get_by_text("bob@example.com (not verified)")).to_be_visible()
    check_page(page, "05-consent-unverified-offline")
    assert to_the_app(page, page.get_by_role("button", name="Deny").click)["error"] == "access_denied"


def test_connected_apps_revoke_ends_the_apps_access(browser_page, live_idp):
    page = browser_page
    url, verifier = authorization_url(
        live_idp, "demo-web-2", scope="openid profile email offline_access", prompt="consent"
    )
    page.goto(url)
    sign_in(page, *ALICE)
    code = to_the_app(page, page.get_by_role("button", name="Allow").click)["code"]
    tokens = exchange(live_idp, ("demo-web-2", "demo-web-2-secret"), code, verifier)

    page.goto(f"{live_idp.base_url}/account/apps")
    card = page.locator('li[data-client="Second demo web app"]')
    expect(card.get_by_text("Keep access while you are away")).to_be_visible()
    expect(card.get_by_text("just now")).to_be_visible()  # last used: the token just issued
    check_page(page, "06-connected-apps")

    page.goto(f"{live_idp.base_url}/account/profile")
    expect(page.get_by_text("1 Rabbit Hole Lane")).to_be_visible()
    check_page(page, "07-profile")

    page.goto(f"{live_idp.base_url}/account/apps")
    page.get_by_role("button", name="Revoke access of Second demo web app").click()
    expect(page.get_by_role("status")).to_have_text("Second demo web app can no longer access your account.")
    expect(page.locator('li[data-client="Second demo web app"]')).to_have_count(0)
    check_page(page, "08-connected-apps-revoked")

    refresh = requests.post(
        f"{live_idp.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("demo-web-2", "demo-web-2-secret"),
        timeout=REQUEST_TIMEOUT,
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_logout_confirmation_then_logged_out_and_verified_logout_redirects(browser_page, live_idp):
    page = browser_page
    url, verifier = authorization_url(live_idp, "demo-web", prompt="consent")
    page.goto(url)
    sign_in(page, *ALICE)
    code = to_the_app(page, page.get_by_role("button", name="Allow").click)["code"]
    id_token = exchange(live_idp, ("demo-web", "demo-web-secret"), code, verifier)["id_token"]

    # Not verifiable (no id_token_hint): the person is asked.
    page.goto(f"{live_idp.base_url}/end-session?client_id=demo-web")
    expect(page.get_by_role("heading", name="Sign out of Django IdP?")).to_be_visible()
    check_page(page, "09-logout-confirm")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    check_page(page, "10-logged-out")
    page.goto(f"{live_idp.base_url}/account/apps")
    expect(page).to_have_url(re.compile(re.escape(f"{live_idp.base_url}/login?next=")))

    # Verifiable (the app's own ID token and a registered URI): straight back to the app with state.
    page.goto(url)
    sign_in(page, *ALICE)
    logout_url = f"{live_idp.base_url}/end-session?" + urlencode(
        {"id_token_hint": id_token, "post_logout_redirect_uri": f"{RP_ORIGIN}/logged-out", "state": "bye"}
    )
    assert to_the_app(page, lambda: page.goto(logout_url), path="/logged-out") == {"state": "bye"}


def test_error_pages_explain_and_never_echo_markup(browser_page, live_idp):
    page = browser_page
    page.goto(f"{live_idp.base_url}/login")
    sign_in(page, *ALICE)
    injected = "https://evil.example/<img src=x onerror=alert(1)>"
    url, _ = authorization_url(live_idp, "demo-web", redirect_uri=injected)
    page.goto(url)
    expect(page.get_by_role("heading", name="This sign-in request cannot be completed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("has not registered")
    assert page.locator("img[src=x]").count() == 0 and "onerror" not in page.content()
    check_page(page, "11-authorize-error")

    page.goto(f"{live_idp.base_url}/end-session?client_id=<b>nobody</b>")
    expect(page.get_by_role("heading", name="Sign-out request not accepted")).to_be_visible()
    assert page.locator("b", has_text="nobody").count() == 0
    check_page(page, "12-logout-error")


def test_password_reset_by_email(browser_page, live_idp):
    page = browser_page
    page.goto(f"{live_idp.base_url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    check_page(page, "13-password-reset")
    page.get_by_label("Email address").fill("bob@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_page(page, "14-password-reset-sent")

    # The development server's console email backend prints the message into the server log.
    links = re.findall(r"https?://\S+/password-reset/\S+/\S+", live_idp.log_path.read_text())
    assert links, live_idp.log_tail()
    page.goto(links[-1])
    page.get_by_label("New password", exact=True).fill("bob's brand new passphrase")
    page.get_by_label("New password again").fill("bob's brand new passphrase")
    check_page(page, "15-password-reset-confirm")
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("heading", name="Your password was changed")).to_be_visible()
    page.get_by_role("link", name="Sign in").last.click()
    sign_in(page, "bob", "bob's brand new passphrase")
    expect(page.get_by_role("heading", name="Hello, Bob Builder")).to_be_visible()
    check_page(page, "16-home")


def test_lockout_after_repeated_failures_with_a_friendly_page(browser_page, live_idp):
    page = browser_page
    # The live server is shared by every e2e module, and failures count per address too: wrong codes
    # and passwords of earlier tests (test_browser_mfa, test_browser_passkeys) would lock 127.0.0.1
    # out before the fifth attempt here. Start from no failures, as an operator's unlock leaves it.
    live_idp.manage("axes_reset")
    try:
        page.goto(f"{live_idp.base_url}/login")
        for _ in range(5):
            sign_in(page, "admin", "not the admin password")
        expect(page.get_by_role("heading", name="Too many sign-in attempts")).to_be_visible()
        check_page(page, "17-lockout")
        # Even the right password is refused while locked out.
        page.goto(f"{live_idp.base_url}/login")
        sign_in(page, "admin", "admin-demo-password")
        expect(page.get_by_role("heading", name="Too many sign-in attempts")).to_be_visible()
    finally:
        live_idp.manage("axes_reset")  # the operator's unlock; other tests sign in from this address
    page.goto(f"{live_idp.base_url}/login")
    sign_in(page, "admin", "admin-demo-password")
    expect(page).to_have_url(f"{live_idp.base_url}/")
