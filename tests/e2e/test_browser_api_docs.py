"""The API docs (Swagger UI) in Debian's Chromium, under the site's Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .browser import SCREENSHOTS
from .test_browser_journeys import ALICE, forget_consents, sign_in

pytestmark = pytest.mark.e2e

# Runs before the page's own scripts, over the DevTools protocol (which the page's CSP does not govern).
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def test_api_docs_show_the_operations_and_authorize_signs_in_without_csp_violations(browser_page, live_idp):
    page = browser_page
    forget_consents(live_idp, "alice")
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    response = page.goto(f"{live_idp.base_url}/api/docs/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy

    operations = page.locator(".opblock")
    expect(operations).to_have_count(5)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/me/consents/{client_id}")).to_be_visible()

    # An operation opens with its responses (Swagger UI styles them through the CSSOM, which CSP allows).
    page.locator(".opblock-summary-path", has_text="/api/v1/users/{sub}").click()
    expect(page.locator(".opblock.is-open .responses-wrapper")).to_be_visible()

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Available authorizations")).to_be_visible()
    expect(dialog.locator("input#client_id_authorizationCode")).to_have_value("demo-spa")

    # The whole round trip: popup sign-in and consent, the redirect page, the token request, a call.
    with page.expect_popup() as opened:
        dialog.locator("button.authorize").first.click()  # the authorization code flow
    popup = opened.value
    popup_errors: list[str] = []
    popup.on("pageerror", lambda error: popup_errors.append(str(error)))
    sign_in(popup, *ALICE)
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Allow").click()
    assert popup_errors == []
    expect(dialog.get_by_role("heading", name="Authorized").first).to_be_visible()
    expect(dialog.get_by_role("button", name="Remove authorization").first).to_be_visible()
    dialog.locator("button.btn-done").first.click()
    me = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text="/api/v1/me")).first
    me.locator(".opblock-summary-path").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    expect(me.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")

    assert page.evaluate("window.cspViolations") == []
    assert [error for error in page.console_errors if "Content Security Policy" in error] == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "api-docs-desktop.png"))
