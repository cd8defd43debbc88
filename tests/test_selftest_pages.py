"""The self-test's page driver (oidc_selftest.forms, .pages) on real pages: ours as rendered and as an
operator might re-skin them, and node-oidc-provider's development login, consent and sign-out pages
(saved in tests/selftest_pages/), so that a template change cannot silently break recognition."""

from __future__ import annotations

from pathlib import Path

import pytest

from oidc_selftest.forms import forms_of
from oidc_selftest.pages import (
    asks_to_sign_out,
    consent_choice,
    login_form,
    sign_out_choice,
    username_field,
    what_page,
)
from tests.conftest import authorize_params, pkce_pair

PAGES = Path(__file__).parent / "selftest_pages"


def page(name: str) -> str:
    return (PAGES / name).read_text()


# --- node-oidc-provider ------------------------------------------------------------------------------


def test_node_oidc_provider_login_page_fills_login_and_password():
    form = login_form(forms_of(page("node_oidc_provider_login.html")))
    assert form is not None
    assert username_field(form) == "login"
    assert form.submission(None, {"login": "bob", "password": "pw"}) == [
        ("prompt", "login"),
        ("login", "bob"),
        ("password", "pw"),
    ]


def test_node_oidc_provider_consent_page_presses_its_unnamed_continue_button():
    html = page("node_oidc_provider_consent.html")
    assert login_form(forms_of(html)) is None
    choice = consent_choice(html)
    assert choice is not None
    assert choice.button.label == "Continue"
    assert choice.form.submission(choice.button, {}) == [("prompt", "consent")]


def test_node_oidc_provider_sign_out_page_posts_the_yes_button_attached_by_form_attribute():
    html = page("node_oidc_provider_logout.html")
    (form,) = forms_of(html)
    assert [button.label for button in form.buttons] == ["Yes, sign me out", "No, stay signed in"]
    choice = sign_out_choice(html)
    assert choice is not None
    assert choice.button.label == "Yes, sign me out"
    submitted = choice.form.submission(choice.button, {})
    assert [name for name, _ in submitted] == ["xsrf", "logout"]
    assert submitted[-1] == ("logout", "yes")
    assert asks_to_sign_out(html)


def test_node_oidc_provider_signed_out_page_is_not_a_confirmation():
    html = page("node_oidc_provider_logged_out.html")
    assert not asks_to_sign_out(html)
    assert sign_out_choice(html) is None


# --- ours, re-skinned --------------------------------------------------------------------------------


def test_reskinned_consent_page_presses_the_only_button_that_does_not_decline():
    html = page("ours_consent_reskinned.html")
    choice = consent_choice(html)
    assert choice is not None
    assert choice.button.label == "Share my details"
    # The header's sign-out form is never taken for consent.
    assert choice.form.attrs["id"] == "decision"
    assert choice.form.submission(choice.button, {}) == [
        ("csrfmiddlewaretoken", "page-token"),
        ("idp_consent", "1"),
        ("remember", "yes"),
        ("decision", "accept"),
    ]


def test_reskinned_login_page_finds_the_username_by_autocomplete_and_posts_the_select():
    form = login_form(forms_of(page("ours_login_reskinned.html")))
    assert form is not None
    assert username_field(form) == "identifier"
    assert dict(form.submission(None, {"identifier": "alice", "secret": "pw"})) == {
        "csrfmiddlewaretoken": "page-token",
        "next": "/authorize?client_id=demo-web",
        "identifier": "alice",
        "secret": "pw",
        "language": "fr",
    }


def test_an_operator_can_name_fields_and_buttons_the_driver_cannot_recognise():
    html = page("ours_consent_unrecognisable.html")
    assert consent_choice(html) is None
    named = consent_choice(html, wanted="Maybe")
    assert named is not None
    assert named.form.submission(named.button, {})[-1] == ("b", "1")
    form = login_form(forms_of(page("ours_login_reskinned.html")))
    assert username_field(form, "identifier") == "identifier"
    assert username_field(form, "no-such-field") is None


def test_an_unrecognised_page_is_described_by_what_it_lacks_not_by_its_title():
    description = what_page(page("ours_consent_unrecognisable.html"))
    assert "neither a login page" in description
    assert "recognised consent page" in description
    assert '"Maybe"' in description
    assert "--approve-button" in description
    assert what_page(page("node_oidc_provider_login.html")) == "a login page"


@pytest.mark.parametrize(
    ("label", "declines"),
    [
        ("Deny", True),
        ("Cancel", True),
        ("No, stay signed in", True),
        ("Do not allow", True),
        ("Close", True),
        ("Remain logged in", True),
        ("Ablehnen", True),
        ("Abbrechen", True),
        ("Refuser", True),
        ("Annuler", True),
        ("Allow", False),
        ("Continue", False),
        ("Authorise", False),
    ],
)
def test_declining_buttons_are_never_pressed(label, declines):
    html = f'<form method="post"><button type="submit">{label}</button></form>'
    assert (consent_choice(html) is None) is declines
    assert (sign_out_choice(html) is None) is declines


def test_a_sign_out_button_is_pressed_on_a_sign_out_page_only():
    html = '<form method="post"><button type="submit">Yes, sign me out</button></form>'
    assert consent_choice(html) is None
    assert sign_out_choice(html) is not None


def test_a_buttons_value_and_name_are_read_with_its_label():
    """``✕`` / ``✓`` say nothing a machine reads; ``value=deny`` / ``value=allow`` do."""
    lone_deny = '<form method="post"><button name="decision" value="deny">✕</button></form>'
    assert consent_choice(lone_deny) is None
    pair = (
        '<form method="post"><button name="decision" value="deny">✕</button>'
        '<button name="decision" value="allow">✓</button></form>'
    )
    choice = consent_choice(pair)
    assert choice is not None
    assert choice.form.submission(choice.button, {}) == [("decision", "allow")]


def test_a_lone_button_of_an_earlier_form_is_not_pressed_for_the_consent_form():
    """Django's language chooser (a select and "Go") before the consent form is not consent."""
    language = (
        '<form method="post" action="/i18n/setlang/"><input type="hidden" name="next" value="/">'
        '<select name="language"><option value="de">Deutsch</option></select>'
        '<input type="submit" value="Go"></form>'
    )
    allow = (
        '<form method="post" action="/consent"><button name="decision" value="accept">Share</button></form>'
    )
    choice = consent_choice(language + allow)
    assert choice is not None
    assert choice.form.attrs["action"] == "/consent"
    # A consent form whose button says nothing approving is not guessed at when another form is there.
    share = '<form method="post" action="/consent"><button>Teilen</button></form>'
    assert consent_choice(language + share) is None
    assert consent_choice(share) is not None  # alone on its page, its one button is the one to press


def test_a_separate_deny_form_first_is_never_pressed():
    for deny in ("Ablehnen", "Close", "Annuler"):
        html = (
            f'<form method="post" action="/deny"><button type="submit">{deny}</button></form>'
            '<form method="post" action="/allow"><button type="submit">Zulassen</button></form>'
        )
        choice = consent_choice(html)
        assert choice is not None, deny
        assert choice.form.attrs["action"] == "/allow"


def test_remain_logged_in_is_never_pressed_on_a_sign_out_page():
    html = (
        '<form method="post" action="/stay"><button type="submit">Remain logged in</button></form>'
        '<form method="post" action="/logout"><button type="submit">Log out</button></form>'
    )
    choice = sign_out_choice(html)
    assert choice is not None
    assert choice.form.attrs["action"] == "/logout"


# --- ours, as rendered now ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_our_login_and_consent_pages_as_rendered(client, user, web_client):
    params = authorize_params(web_client, challenge=pkce_pair()[1])
    login_page = client.get("/authorize", params, follow=True)
    form = login_form(forms_of(login_page.content.decode()))
    assert form is not None
    assert username_field(form) == "username"

    client.force_login(user)
    consent = client.get("/authorize", params)
    assert consent.status_code == 200
    choice = consent_choice(consent.content.decode())
    assert choice is not None
    assert (choice.button.name, choice.button.label) == ("allow", "Allow")
