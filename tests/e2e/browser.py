"""Debian's Chromium driven by Playwright: launch, accessibility check with axe-core, screenshots."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .live_server import REPO_ROOT

CHROMIUM = Path(os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where the demo relying party would live: nothing listens there, the tests intercept the navigation.
RP_ORIGIN = "http://127.0.0.1:8765"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def missing_tools() -> list[str]:
    """What the browser tests need and this machine lacks (`make install` provides both)."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        missing.append(f"{AXE.relative_to(REPO_ROOT)} (npm ci)")
    return missing


def require_tools() -> None:
    """Skip without the tools on a developer's machine; in CI (CI=true) their absence is a failure."""
    missing = missing_tools()
    if missing:
        message = "browser tests need " + ", ".join(missing) + ": run `make install`"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def launched_chromium() -> Iterator:
    """A headless Chromium (its own fresh profile in a temporary directory), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


def stub_relying_party(context) -> None:
    """Answer navigations to RP_ORIGIN with a stub page where Playwright can intercept them.

    Chromium does not let Playwright intercept every redirect (a redirect answering ``page.goto`` goes
    to the network and fails: nothing listens there); ``to_the_app`` copes with both outcomes.
    """
    context.route(
        f"{RP_ORIGIN}/**",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><html lang=en><title>Demo app</title><h1>Back at the app</h1></html>",
        ),
    )


def to_the_app(page, action: Callable[[], object], *, path: str = "/callback") -> dict[str, str]:
    """Run ``action`` (a click, a goto) that must send the browser to the app; the query it was sent with."""
    from playwright.sync_api import Error as PlaywrightError

    def arrived(frame) -> bool:  # the stub page, or Chromium's error page for the refused connection
        return frame.parent_frame is None and frame.url.startswith((RP_ORIGIN, "chrome-error:"))

    def sent_to_the_app(request) -> bool:
        return request.url.startswith(f"{RP_ORIGIN}{path}?")

    with page.expect_event("framenavigated", predicate=arrived), page.expect_request(sent_to_the_app) as sent:
        try:
            action()
        except PlaywrightError as exc:
            if "ERR_CONNECTION_REFUSED" not in str(exc):
                raise
    page.wait_for_load_state()  # so that this navigation cannot interrupt the next one
    return {key: values[0] for key, values in parse_qs(urlsplit(sent.value.url).query).items()}


def axe_violations(page) -> list[dict]:
    """WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated over the DevTools protocol, which the page's Content-Security-Policy does not block.
        page.evaluate(AXE.read_text() + "\n;undefined")
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
    ]


def finish_animations(page) -> None:
    """End finite CSS animations now (an arrow the flow explorer just drew, started again by a new
    width): axe and the screenshot see the settled page. Playwright's own screenshot option for it
    injects a style, which the Content-Security-Policy refuses."""
    page.evaluate(
        "document.getAnimations().filter(a => isFinite(a.effect.getComputedTiming().endTime))"
        ".forEach(a => a.finish())"
    )


def check_page(page, name: str) -> None:
    """At desktop and phone widths: zero axe WCAG 2.1 A/AA violations, and a full-page screenshot."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_load_state()
    original = page.viewport_size
    try:
        for label, size in WIDTHS.items():
            page.set_viewport_size(size)
            finish_animations(page)
            violations = axe_violations(page)
            assert violations == [], f"{name} at {label} width:\n{json.dumps(violations, indent=2)}"
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    finally:
        page.set_viewport_size(original)
