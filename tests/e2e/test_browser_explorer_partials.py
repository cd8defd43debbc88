"""The explorer's partials (diagram, tokens, exports) in Debian's Chromium: axe-clean at phone and desktop
widths, closed and open, usable by keyboard, under the site's CSP. A test page renders a hand-built run."""

from __future__ import annotations

import json
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from playwright.sync_api import expect

from tests import explorer_samples

from .browser import SCREENSHOTS, WIDTHS, axe_violations

pytestmark = pytest.mark.e2e

RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class ThreadedServer(WSGIServer):
    daemon_threads = True


@pytest.fixture
def preview_server(settings):
    """The test page served by the site's own stack (middleware, CSP, static files) in a thread. The
    page needs no database: Playwright's event loop would forbid Django's synchronous database calls."""
    settings.ROOT_URLCONF = "tests.explorer_preview_urls"
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    server = make_server(
        "127.0.0.1",
        0,
        StaticFilesHandler(WSGIHandler()),
        server_class=ThreadedServer,
        handler_class=QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(chromium, preview_server):
    context = chromium.new_context(viewport=WIDTHS["desktop"], locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    failed: list[str] = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    page.on("pageerror", lambda error: failed.append(str(error)))
    yield page
    context.close()
    assert failed == []


def open_all(page) -> None:
    page.evaluate("() => document.querySelectorAll('details').forEach((details) => { details.open = true; })")


def check_widths(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        violations = axe_violations(page)
        assert violations == [], f"{name} at {label} width:\n{json.dumps(violations, indent=2)}"
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} scrolls sideways at {label} width ({width}px)"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDTHS["desktop"])


def test_the_partials_are_axe_clean_closed_and_open_at_both_widths(page, preview_server):
    response = page.goto(f"{preview_server.url}/test-explorer-preview?broken=1")
    assert "style-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("ol.sequence > li.message")).to_have_count(8)
    check_widths(page, "explorer-partials")
    open_all(page)
    check_widths(page, "explorer-partials-open")
    assert page.evaluate("() => window.cspViolations") == []


def test_arrows_point_from_source_to_target_and_collapse_to_text_on_a_phone(page, preview_server):
    page.goto(f"{preview_server.url}/test-explorer-preview")
    token_request = page.locator("#message-6")  # relying party (lane 2) -> token endpoint (lane 4)
    callback = page.locator("#message-5")  # browser (lane 1) -> relying party (lane 2)
    lanes = page.locator("ol.lanes > li")

    def centre(locator) -> float:
        box = locator.bounding_box()
        return box["x"] + box["width"] / 2

    arrow = token_request.locator(".arrow").bounding_box()
    assert abs(arrow["x"] - centre(lanes.nth(1))) < 3  # starts at the relying party's lifeline
    assert abs(arrow["x"] + arrow["width"] - centre(lanes.nth(3))) < 3  # ends at the token endpoint's
    assert "ltr" in token_request.get_attribute("class")
    expect(token_request.locator(".route")).to_have_text("Relying party → Token endpoint")
    expect(callback.locator(".route")).to_be_visible()

    page.goto(f"{preview_server.url}/test-explorer-preview?rtl=1")
    leftwards = page.locator("#message-9")  # userinfo (lane 6) -> relying party (lane 2)
    assert "rtl" in leftwards.get_attribute("class")
    arrow = leftwards.locator(".arrow").bounding_box()
    assert (
        abs(arrow["x"] - centre(lanes.nth(1))) < 3
        and abs(arrow["x"] + arrow["width"] - centre(lanes.nth(5))) < 3
    )
    head = leftwards.locator(".arrow").evaluate("arrow => getComputedStyle(arrow, '::after').left")
    assert head == "-2px"  # the arrowhead at the left end, at the relying party
    expect(leftwards.locator(".route")).to_have_text("Userinfo → Relying party")

    page.set_viewport_size(WIDTHS["phone"])
    expect(token_request.locator(".arrow")).to_be_hidden()
    expect(token_request.locator(".route")).to_be_visible()
    expect(token_request.locator(".route")).to_have_text("Relying party → Token endpoint")


def test_a_message_opens_by_keyboard_and_shows_its_masked_request(page, preview_server):
    page.goto(f"{preview_server.url}/test-explorer-preview")
    summary = page.locator("#message-6 summary")
    summary.focus()
    page.keyboard.press("Enter")
    body = page.locator("#message-6 .message-body")
    expect(body).to_be_visible()
    expect(body.locator("pre.request")).to_contain_text("[masked, ")
    assert explorer_samples.CLIENT_SECRET not in body.inner_text()
    assert explorer_samples.CODE not in page.content()
    page.keyboard.press("Enter")
    expect(body).to_be_hidden()

    page.goto(f"{preview_server.url}/test-explorer-preview?reveal=1")
    open_all(page)
    expect(page.locator("#message-6 pre.request")).to_contain_text(explorer_samples.CODE)
    assert explorer_samples.PASSWORD not in page.content()
    expect(page.locator("#token-id_token .check-signature")).to_have_attribute("data-ok", "true")
