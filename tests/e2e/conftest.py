"""The ``live_idp`` fixture: one real provider process shared by every end-to-end test of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .live_server import LiveIdp, running_idp


@pytest.fixture(scope="session")
def live_idp(tmp_path_factory) -> Iterator[LiveIdp]:
    """A migrated, demo-loaded provider served by ``runserver`` at ``live_idp.base_url`` until the end."""
    with running_idp(tmp_path_factory.mktemp("live_idp")) as idp:
        yield idp


@pytest.fixture(scope="session")
def chromium():
    """One headless Debian Chromium for the session (skipped without it, except in CI where it fails)."""
    from .browser import launched_chromium, require_tools

    require_tools()
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def browser_page(chromium, live_idp):
    """A fresh browser context (no cookies) where console errors (CSP reports included) and failed
    subresources (styles, images) fail the test; error pages themselves may answer 4xx."""
    from .browser import stub_relying_party

    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(15_000)
    stub_relying_party(context)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message):
        # A page answered 400/429 on purpose logs "Failed to load resource"; subresources are checked below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response):
        if response.request.resource_type != "document" and response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()
    assert errors == [], f"browser console errors: {errors}"
