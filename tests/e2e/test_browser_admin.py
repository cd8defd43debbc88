"""An operator in a real browser (Debian's Chromium): adding a client asks for its kind, then shows only
that kind's fields; each form is screenshotted and checked with axe-core. The new client's page shows
its secret once, with Copy buttons that work under the site's Content-Security-Policy."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .browser import SCREENSHOTS, axe_violations, check_page

pytestmark = pytest.mark.e2e

ADMIN = ("admin", "admin-demo-password")
COMMON = {"name", "client_id", "access_token_lifetime"}
FOR_PEOPLE = {
    "redirect_uris",
    "post_logout_redirect_uris",
    "allowed_scopes",
    "skip_authorization",
    "is_verified",
    "require_second_factor",
    "logo_uri",
    "client_uri",
    "policy_uri",
    "tos_uri",
    "subject_type",
    "sector_identifier",
    "algorithm",  # id_token_signed_response_alg
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "logout_ends_offline_access",
}
# The kind's label on the "what kind is it?" page, and the fields its add form shows: idp/admin/clients.py.
KINDS = {
    "web": (
        "Web application (confidential)",
        COMMON | FOR_PEOPLE | {"allow_nonce_instead_of_pkce", "is_resource_server"},
    ),
    "spa": ("Single-page app (public)", COMMON | FOR_PEOPLE | {"allowed_origins"}),
    "native": ("Native or CLI app (public)", COMMON | FOR_PEOPLE),
    "service": ("Service (client credentials)", COMMON | {"is_resource_server"}),
}


def form_fields(page) -> set[str]:
    """The names of the fields the client form shows (not Django's own hidden and button inputs)."""
    names = page.eval_on_selector_all(
        "#application_form :is(input, select, textarea)[name]:not([type=hidden]):not([type=submit])",
        "fields => fields.map(field => field.name)",
    )
    return set(names)


def sign_in_to_admin(page, live_idp) -> None:
    page.goto(f"{live_idp.base_url}/admin/")
    # /admin/login/ sends to the provider's own sign-in (idp.admin.sign_in), then back.
    page.get_by_label("Username or email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


@pytest.mark.parametrize("kind", KINDS)
def test_add_client_form_shows_only_the_fields_of_its_kind(browser_page, live_idp, kind):
    page = browser_page
    label, expected = KINDS[kind]
    sign_in_to_admin(page, live_idp)

    page.goto(f"{live_idp.base_url}/admin/idp/application/add/")
    expect(page.get_by_role("heading", name="Add a client: what kind is it?")).to_be_visible()
    page.get_by_role("link", name=label).click()
    expect(page).to_have_url(f"{live_idp.base_url}/admin/idp/application/add/?kind={kind}")
    expect(page.get_by_text(label).first).to_be_visible()

    assert form_fields(page) == expected
    if kind == "service":
        expect(page.get_by_label("Redirect URIs")).to_have_count(0)
    if kind == "spa":
        expect(page.get_by_label("Allowed origins")).to_be_visible()
    if kind == "web":
        expect(page.get_by_label("Post logout redirect URIs")).to_be_visible()

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"admin-add-{kind}-desktop.png"), full_page=True)
    before = len(page.console_errors)
    violations = axe_violations(page)
    # axe itself probes this form with inline styles, which the page's CSP refuses (and reports): only
    # those are forgiven; anything else the page logs still fails the test.
    by_axe = page.console_errors[before:]
    assert all(error.startswith("Applying inline style violates") for error in by_axe), by_axe
    del page.console_errors[before:]
    assert violations == [], f"admin add-{kind} page:\n{json.dumps(violations, indent=2)}"


def test_new_clients_secret_is_shown_once_and_the_copy_buttons_work(browser_page, live_idp):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_idp.base_url)
    sign_in_to_admin(page, live_idp)
    page.goto(f"{live_idp.base_url}/admin/idp/application/add/?kind=service")
    page.get_by_label("Name").fill("Browser-made service")
    page.get_by_label("Client ID").fill("browser-made-service")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Client secret: copy it now")).to_be_visible()
    secret = page.locator("#idp-secret").inner_text()
    assert len(secret) >= 32
    # Styled by the admin stylesheet file (an inline style would be refused by the CSP).
    assert (
        page.locator(".idp-one-time-secret").evaluate("panel => getComputedStyle(panel).borderTopWidth")
        == "2px"
    )

    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    page.get_by_role("button", name="Copy configuration").click()
    assert '"client_id": "browser-made-service"' in page.evaluate("() => navigator.clipboard.readText()")

    page.reload()
    expect(page.get_by_role("heading", name="Integration")).to_be_visible()
    expect(page.get_by_role("heading", name="Client secret: copy it now")).to_have_count(0)
    assert secret not in page.content()


def test_signing_keys_page_lists_keys_and_rotates_for_a_superuser(browser_page, live_idp):
    page = browser_page
    sign_in_to_admin(page, live_idp)
    page.goto(f"{live_idp.base_url}/admin/idp/signingkey/")
    expect(
        page.get_by_role("heading", name="Published keys, stored and from the environment")
    ).to_be_visible()
    page.get_by_role("link", name="Rotate a key").click()
    page.get_by_label("Algorithm").select_option("ES256")
    before = len(page.console_errors)
    check_page(page, "admin-signing-keys-rotate")
    page.get_by_role("button", name="Rotate").click()
    expect(page.get_by_text("signs now")).to_be_visible()
    expect(page.locator("#all-keys")).to_contain_text("ES256")
    check_page(page, "admin-signing-keys")
    by_axe = page.console_errors[before:]  # axe's own inline-style probes, refused by the CSP
    assert all(error.startswith("Applying inline style violates") for error in by_axe), by_axe
    del page.console_errors[before:]
