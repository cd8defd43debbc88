"""The flow explorer in Chromium against a live provider: the web-app flow, the SPA flow and one flow
broken on purpose, run through the real sign-in and consent pages; the diagram's arrows, the ID token's
verified signature, the masked secrets; axe-core at phone and desktop widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .browser import check_page

pytestmark = pytest.mark.e2e

ALICE = ("alice", "alice-demo-password")


def start(page, live_idp, *, flow: str, broken: str = "", prompt: str = "") -> None:
    """Open the explorer, pick the flow (its playground client) and press Start."""
    page.goto(f"{live_idp.base_url}/developers/flows")
    page.get_by_label("Flow", exact=True).select_option(flow)
    if prompt:
        page.get_by_text("Options of the authorization request").click()
        page.get_by_label("prompt", exact=True).select_option(prompt)
    if broken:
        page.get_by_role("radio", name=broken).check()
    page.get_by_role("button", name="Start the flow").click()


def sign_in_and_allow(page) -> None:
    """Sign in as alice if asked, allow on the consent page if shown; back on the run page."""
    if page.get_by_label("Username or email").count():
        page.get_by_label("Username or email").fill(ALICE[0])
        page.get_by_label("Password", exact=True).fill(ALICE[1])
        page.get_by_role("button", name="Sign in").click()
    if page.get_by_role("button", name="Allow").count():
        page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(r"/developers/flows/runs/[0-9a-f-]+$"))


def arrows(page) -> list[tuple[str, str]]:
    return page.locator("ol.sequence > li.message").evaluate_all(
        "items => items.map(item => [item.dataset.step, item.dataset.status, item.dataset.broken || ''])"
    )


def test_the_web_app_flow_from_start_to_introspection(browser_page, live_idp):
    page = browser_page
    start(page, live_idp, flow="web", prompt="consent")  # the consent page, whatever was allowed before
    sign_in_and_allow(page)
    page.get_by_role("button", name="Run the remaining steps").click()

    steps = arrows(page)
    assert [step for step, *_ in steps] == [
        "start",
        "authorization_request",
        "sign_in",
        "sign_in",
        "authorization_request",
        "consent",
        "authorization_response",
        "discovery",
        "token_request",
        "jwks",
        "userinfo",
        "api_call",
        "introspection",
    ]
    assert [status for _, status, _ in steps] == [
        "302", "302", "200", "302", "200", "302", "302", "200", "200", "200", "200", "200", "200",
    ]  # fmt: skip
    expect(page.locator("#token-id_token")).to_have_attribute("data-verified", "true")
    expect(page.locator("#token-id_token [data-check='signature']")).to_have_attribute("data-ok", "true")
    token_request = page.locator("li.message[data-step='token_request']")
    token_request.locator("summary").click()
    expect(token_request).to_contain_text("[masked, ")
    expect(page.get_by_role("button", name="Next step")).to_have_count(0)
    check_page(page, "explorer-web-run")


def test_the_spa_flow_sends_no_secret(browser_page, live_idp):
    page = browser_page
    start(page, live_idp, flow="spa")
    sign_in_and_allow(page)
    page.get_by_role("button", name="Next step").click()  # discovery
    page.get_by_role("button", name="Next step").click()  # the token request
    token_request = page.locator("li.message[data-step='token_request']")
    expect(token_request).to_have_attribute("data-status", "200")
    token_request.locator("summary").click()
    expect(token_request).not_to_contain_text("Authorization: Basic")
    expect(token_request).to_contain_text("client_id=explorer-spa")
    page.get_by_role("button", name="Run the remaining steps").click()
    assert [step for step, *_ in arrows(page)][-3:] == ["jwks", "userinfo", "api_call"]


def test_a_wrong_secret_shows_the_provider_own_error(browser_page, live_idp):
    page = browser_page
    start(page, live_idp, flow="web", broken="Wrong client secret")
    sign_in_and_allow(page)
    page.get_by_role("button", name="Run the remaining steps").click()
    assert arrows(page)[-1] == ["token_request", "401", "wrong_secret"]
    expect(page.locator(".run-outcome")).to_contain_text("invalid_client")
    check_page(page, "explorer-broken-run")


def test_the_start_page_is_axe_clean(browser_page, live_idp):
    browser_page.goto(f"{live_idp.base_url}/developers/flows")
    browser_page.locator("details.options").evaluate("details => { details.open = true; }")
    check_page(browser_page, "explorer-start")
