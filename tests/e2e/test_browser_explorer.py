"""The flow explorer in Chromium against a live provider: the web-app flow, the SPA flow and one flow
broken on purpose, run through the real sign-in and consent pages; the diagram's arrows, the ID token's
verified signature, the masked secrets; axe-core at phone and desktop widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .browser import SCREENSHOTS, WIDTHS, check_page, finish_animations

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


def screenshot_down_to_the_diagram(page, name: str) -> None:
    """For the README: the run page from its top to the end of the diagram; on a desktop with the
    messages opened as they are, on a phone with all of them closed (every arrow in sight)."""
    page.evaluate("document.activeElement.blur()")
    original = page.viewport_size
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        if label == "phone":
            page.locator("li.message details[open]").evaluate_all(
                "all => all.forEach(d => { d.open = false; })"
            )
        finish_animations(page)
        bottom = page.locator("#flow-diagram").evaluate("d => d.getBoundingClientRect().bottom + scrollY")
        clip = {"x": 0, "y": 0, "width": size["width"], "height": bottom + 24}
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True, clip=clip)
    page.set_viewport_size(original)


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
    screenshot_down_to_the_diagram(page, "explorer-web-diagram")


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
    browser_page.screenshot(path=str(SCREENSHOTS / "explorer-start-closed-desktop.png"), full_page=True)
    browser_page.locator("details.options").evaluate("details => { details.open = true; }")
    check_page(browser_page, "explorer-start")


def test_the_device_flow_approved_in_a_second_page_polls_until_tokens(browser_page, live_idp):
    page = browser_page
    start(page, live_idp, flow="device")
    expect(page.locator("li.message[data-step='device_authorization']")).to_have_attribute(
        "data-status", "200"
    )
    user_code = page.locator(".user-code").inner_text()
    link = page.get_by_role("link", name="Open the device page with this code")

    device_page = page.context.new_page()  # the phone the person picks up: same browser, another tab
    device_page.goto(live_idp.base_url + link.get_attribute("href"))
    device_page.get_by_label("Username or email").fill(ALICE[0])
    device_page.get_by_label("Password", exact=True).fill(ALICE[1])
    device_page.get_by_role("button", name="Sign in").click()
    assert device_page.get_by_label("Code").input_value() == user_code
    device_page.get_by_role("button", name="Continue").click()
    device_page.get_by_role("button", name="Allow").click()
    expect(device_page.get_by_role("heading", name="You can return to your device")).to_be_visible()
    device_page.close()

    # The run page polls by itself (explorer.js) at the interval the provider asked for.
    polled = page.locator("li.message[data-step='device_poll'][data-status='200']")
    expect(polled).to_have_count(1, timeout=30_000)
    expect(page.locator("#token-access_token")).to_be_visible()
    page.get_by_role("button", name="Run the remaining steps").click()
    assert [step for step, *_ in arrows(page)][-3:] == ["jwks", "userinfo", "api_call"]
    expect(page.locator("#token-id_token")).to_have_attribute("data-verified", "true")
    polled.locator("summary").click()
    expect(polled).to_contain_text("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code")
    check_page(page, "explorer-device-run")


def test_play_draws_the_arrows_one_by_one_without_a_click(browser_page, live_idp):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_idp.base_url)
    page.emulate_media(reduced_motion="reduce")  # no animation, still advancing
    start(page, live_idp, flow="client_credentials")
    messages = page.locator("ol.sequence > li.message")
    expect(messages).to_have_count(0)

    page.get_by_role("button", name="Play the remaining steps").click()

    expect(messages).to_have_count(1)
    expect(page.get_by_role("button", name="Pause")).to_be_focused()  # a keyboard can stop it at once
    for count in (2, 3, 4):
        expect(messages).to_have_count(count)
    assert [step for step, *_ in arrows(page)] == [
        "discovery",
        "client_credentials",
        "api_call",
        "introspection",
    ]
    expect(page.locator("#explorer-live")).to_have_text(
        "Message 4. POST /introspect, 200 OK, Relying party → Token endpoint. "
        "Play stopped: every step is done."
    )
    expect(page.locator("#message-4 summary")).to_be_focused()  # keyboard users are where it happened
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    new_arrow = page.locator("#message-4.is-new .arrow")
    assert new_arrow.evaluate("arrow => getComputedStyle(arrow).animationName") == "none"
    page.emulate_media(reduced_motion="no-preference")
    assert new_arrow.evaluate("arrow => getComputedStyle(arrow).animationName") == "explorer-arrow-grow"
    expect(page.locator("#message-4.drawn")).to_have_count(1)  # drawn once, then left at full length

    page.get_by_text("As a curl script").click()
    page.get_by_role("button", name="Copy the curl script").click()
    expect(page.locator("#export-curl-details .copy-status")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#export-curl").inner_text() and copied.startswith("#!/usr/bin/env bash")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download explorer-run.sh").click()
    assert download.value.suggested_filename == "explorer-run.sh"
    messages.nth(1).locator("summary").click()  # the token request opened
    check_page(page, "explorer-service-run")


def test_play_stops_at_an_error(browser_page, live_idp):
    page = browser_page
    start(page, live_idp, flow="client_credentials", broken="Wrong client secret")
    page.get_by_role("button", name="Play the remaining steps").click()
    expect(page.locator("#explorer-live")).to_contain_text(
        "Play stopped: the provider answered with an error"
    )
    assert arrows(page) == [["discovery", "200", ""], ["client_credentials", "401", "wrong_secret"]]
