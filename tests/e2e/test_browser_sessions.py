"""The sessions page in a real browser: two browsers of one person, one signs the other out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .browser import check_page

pytestmark = pytest.mark.e2e

PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


PERSON = ("dana", "dana-sessions-passphrase")


def sign_in(page, live_idp, next_path: str = "/account/sessions") -> None:
    page.goto(f"{live_idp.base_url}/login?next={next_path}")
    page.get_by_label("Username or email").fill(PERSON[0])
    page.get_by_label("Password", exact=True).fill(PERSON[1])
    page.get_by_role("button", name="Sign in").click()


def test_sessions_page_lists_both_browsers_and_signs_the_other_out(browser_page, chromium, live_idp):
    page = browser_page
    # A person of this test's own (other tests change the demo people's passwords); a new password
    # also ends any session an earlier run left.
    live_idp.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"u, _ = get_user_model().objects.get_or_create(username={PERSON[0]!r}); "
        f"u.set_password({PERSON[1]!r}); u.save()",
    )
    phone_context = chromium.new_context(user_agent=PHONE_UA, viewport={"width": 390, "height": 844})
    phone = phone_context.new_page()
    try:
        sign_in(phone, live_idp)
        expect(phone.get_by_role("heading", name="Where you are signed in")).to_be_visible()
        sign_in(page, live_idp)
        expect(page.get_by_role("heading", name="Safari on iPhone")).to_be_visible()
        expect(page.get_by_text("This browser")).to_be_visible()
        check_page(page, "21-sessions-two-browsers")
        page.get_by_role("button", name="Sign out everywhere else").click()
        expect(page.get_by_text(re.compile(r"Signed out of \d+ other sessions?\."))).to_be_visible()
        expect(page.get_by_role("heading", name="Safari on iPhone")).to_have_count(0)
        check_page(page, "22-sessions-after-sign-out-elsewhere")
        phone.reload()
        expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()  # signed out there
    finally:
        phone_context.close()
