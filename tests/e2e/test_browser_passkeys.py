"""Passkeys in Chromium with a virtual WebAuthn authenticator (DevTools protocol): enroll, sign in with the
passkey alone, and with a password plus the passkey as second factor; the ID tokens say how."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
import requests
from jwcrypto import jwk, jwt
from playwright.sync_api import expect

from .browser import check_page, stub_relying_party, to_the_app
from .live_server import REQUEST_TIMEOUT, running_idp
from .test_browser_journeys import ALICE, authorization_url, exchange

pytestmark = pytest.mark.e2e

WEB = ("demo-web", "demo-web-secret")
VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture(scope="module")
def passkey_idp(tmp_path_factory):
    """A provider whose issuer is http://localhost:PORT: an IP address cannot be a WebAuthn RP ID."""
    with running_idp(tmp_path_factory.mktemp("passkey_idp"), host="localhost") as idp:
        yield idp


# Chromium's virtual authenticator answers a conditional (autofill) request at once, as if the person
# had picked the passkey from the list: pages that must wait for a click get autofill switched off.
NO_AUTOFILL = (
    "if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;"
)


@contextmanager
def passkey_page(chromium, *, autofill: bool = False, holding: list[dict] = ()):
    """A fresh context with one virtual platform authenticator (holding ``holding``); console errors fail."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(15_000)
    if not autofill:
        context.add_init_script(NO_AUTOFILL)
    stub_relying_party(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    page.authenticator = (cdp, added["authenticatorId"])
    for credential in holding:
        cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": added["authenticatorId"], "credential": credential}
        )
    try:
        yield page
    finally:
        context.close()
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


def sign_in(page, username: str, password: str) -> None:
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def credentials(page) -> list[dict]:
    cdp, authenticator_id = page.authenticator
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def id_token_claims(idp, code: str, verifier: str) -> dict:
    token = exchange(idp, WEB, code, verifier)["id_token"]
    keys = jwk.JWKSet.from_json(
        requests.get(f"{idp.base_url}/.well-known/jwks.json", timeout=REQUEST_TIMEOUT).text
    )
    return json.loads(jwt.JWT(jwt=token, key=keys, algs=["RS256"], check_claims={"iss": idp.base_url}).claims)


def to_the_app_after_consent(page) -> dict[str, str]:
    """Allow on the consent page if it is asked; the query the app was sent with."""
    allow = page.get_by_role("button", name="Allow")
    allow.wait_for()
    return to_the_app(page, allow.click)


def sign_out(page, idp) -> None:
    page.goto(f"{idp.base_url}/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_enroll_a_passkey_then_sign_in_with_it_alone_and_as_second_factor(chromium, passkey_idp):
    with passkey_page(chromium) as page:
        held = enroll_and_sign_in(page, passkey_idp)
    # Autofill: the login page's conditional request, answered by the passkey the person picks.
    with passkey_page(chromium, autofill=True, holding=held) as page:
        url, verifier = authorization_url(passkey_idp, WEB[0])
        query = to_the_app(page, lambda: page.goto(url))
        claims = id_token_claims(passkey_idp, query["code"], verifier)
        assert set(claims["amr"]) == {"hwk", "pin", "mfa"}


def enroll_and_sign_in(page, idp) -> list[dict]:
    """Enroll, sign in with the passkey alone, then with a password and the passkey; the credentials held."""
    page.goto(f"{idp.base_url}/login")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    check_page(page, "passkey-01-login")
    sign_in(page, *ALICE)
    page.goto(f"{idp.base_url}/account/security")
    expect(page.get_by_text("No passkey yet.")).to_be_visible()
    check_page(page, "passkey-02-security-empty")

    page.get_by_label("Name of the passkey").fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").get_by_text("Passkey “Work laptop” added.")).to_be_visible()
    expect(page.locator("[data-factors=passkeys] li")).to_have_count(1)
    check_page(page, "passkey-03-security-enrolled")
    [credential] = credentials(page)
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == "localhost"

    # Adding the same authenticator again is refused by the browser (excludeCredentials).
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("already registered")

    # The passkey alone, through a real authorization code flow.
    sign_out(page, idp)
    url, verifier = authorization_url(idp, WEB[0])
    page.goto(url)
    page.get_by_role("button", name="Sign in with a passkey").click()
    query = to_the_app_after_consent(page)
    claims = id_token_claims(idp, query["code"], verifier)
    assert set(claims["amr"]) == {"hwk", "pin", "mfa"} and claims["acr"] == "phr"
    assert credentials(page)[0]["signCount"] >= 1

    # A password, then the passkey as the second factor.
    sign_out(page, idp)
    url, verifier = authorization_url(idp, WEB[0], prompt="login")
    page.goto(url)
    sign_in(page, *ALICE)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.get_by_role("button", name="Use a passkey")).to_be_visible()
    check_page(page, "passkey-04-second-step")
    # Consent is remembered from the first flow: the passkey sends the browser straight to the app.
    query = to_the_app(page, page.get_by_role("button", name="Use a passkey").click)
    claims = id_token_claims(idp, query["code"], verifier)
    assert set(claims["amr"]) == {"pwd", "hwk", "pin", "mfa"} and claims["acr"] == "phr"
    return credentials(page)


def test_without_a_passkey_the_person_is_told_what_happened(chromium, passkey_idp):
    with passkey_page(chromium) as page:
        page.goto(f"{passkey_idp.base_url}/login")
        page.get_by_role("button", name="Sign in with a passkey").click()
        expect(page.get_by_role("alert")).to_contain_text("no passkey for this site was found on this device")
        check_page(page, "passkey-05-login-no-passkey")
        # The password still works on the same page (bob has no second factor).
        sign_in(page, "bob", "bob-demo-password")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_on_an_ip_address_host_the_passkey_button_stays_hidden(browser_page, live_idp):
    """An IP address cannot be an RP ID: the sign-in page offers the password only, with no error."""
    browser_page.goto(f"{live_idp.base_url}/login")
    expect(browser_page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(browser_page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    expect(browser_page.get_by_role("alert")).to_have_count(0)
