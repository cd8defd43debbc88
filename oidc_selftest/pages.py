"""Recognising the provider's pages as a person would: the login form, the approve button, sign-out.

Nothing here knows one provider's markup. A login page is a form with a password field; its username
field is the text field that says it is one (``autocomplete``, name, id or placeholder), or the only
one. A consent or sign-out confirmation page is a form without fields to type into whose buttons
include one that does not decline: the button that says so (Allow, Continue, Yes, Sign out...) if there
are several, the only such button if there is one. A button that declines (Deny, Cancel, No, Stay
signed in...) is never pressed. Operators of unusual pages name the button (``--approve-button``) or
the username field (``--username-field``) themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .forms import Button, Form, forms_of

# Words a person reads on a button that declines; checked first, so "Do not allow" declines.
_DECLINE = re.compile(
    r"\b(deny|denied|disallow|cancel|reject|decline|refuse|abort|no|not|don'?t|stay|back|later|skip)\b"
)
_APPROVE = re.compile(
    r"\b(allow|approve|accept|authori[sz]e|continue|yes|consent|confirm|grant|agree|ok|okay|proceed|submit)\b"
)
_SIGN_OUT = re.compile(r"\b(sign|log)[\s_-]*(me[\s_-]+)?out\b|\blogout\b|\bsignout\b")
_USERNAME = re.compile(r"user|login|e-?mail|account|identifier|\bid\b|\bname\b", re.IGNORECASE)


def _words(button: Button) -> str:
    parts = (button.name, button.label, button.attrs.get("id", ""), button.attrs.get("title", ""))
    return " ".join(re.sub(r"[_\-]+", " ", part) for part in parts).casefold()


def declines(button: Button) -> bool:
    return bool(_DECLINE.search(_words(button)))


def signs_out(button: Button) -> bool:
    return bool(_SIGN_OUT.search(_words(button)))


def _named(form: Form, wanted: str) -> Button | None:
    wanted_folded = " ".join(wanted.split()).casefold()
    for button in form.buttons:
        if wanted in {button.name, button.attrs.get("id")} or button.label.casefold() == wanted_folded:
            return button
    return None


def approve_button(form: Form, *, purpose: str, wanted: str | None = None) -> Button | None:
    """The button that approves (``purpose="consent"``) or confirms signing out (``"logout"``), or None.

    ``wanted``: the operator's name for it (its name, id or label), used instead of guessing.
    """
    if form.has_password or form.text_entries:
        return None
    if wanted:
        return _named(form, wanted)
    candidates = [button for button in form.buttons if not declines(button)]
    if purpose == "consent":
        candidates = [button for button in candidates if not signs_out(button)]
    if len(candidates) == 1 and (len(form.buttons) > 1 or form.attrs.get("method", "get").lower() == "post"):
        return candidates[0]
    said = [b for b in candidates if _APPROVE.search(_words(b)) or (purpose == "logout" and signs_out(b))]
    return said[0] if len(said) == 1 else None


def login_form(forms: list[Form]) -> Form | None:
    return next((form for form in forms if form.has_password), None)


def username_field(form: Form, wanted: str | None = None) -> str | None:
    """The name of the login form's username field: ``wanted``, or the text field that says it is one."""
    entries = [f for f in form.text_entries if f.get("name") and "disabled" not in f]
    if wanted:
        return wanted if any(f["name"] == wanted for f in form.fields) else None
    for control in entries:
        if control.get("autocomplete", "").lower() in {"username", "email"} or control.get("type") == "email":
            return control["name"]
    for control in entries:
        said = " ".join(control.get(key, "") for key in ("name", "id", "placeholder", "aria-label"))
        if _USERNAME.search(said):
            return control["name"]
    return entries[0]["name"] if len(entries) == 1 else None


@dataclass
class Choice:
    """A form of the page and the button to press on it."""

    form: Form
    button: Button


def consent_choice(html: str, wanted: str | None = None) -> Choice | None:
    for form in forms_of(html):
        button = approve_button(form, purpose="consent", wanted=wanted)
        if button is not None:
            return Choice(form, button)
    return None


def sign_out_choice(html: str, wanted: str | None = None) -> Choice | None:
    for form in forms_of(html):
        button = approve_button(form, purpose="logout", wanted=wanted)
        if button is not None:
            return Choice(form, button)
    return None


def asks_to_sign_out(html: str) -> bool:
    """The page still offers to sign out: a sign-out confirmation, not a signed-out page."""
    return any(
        signs_out(button) and not declines(button) for form in forms_of(html) for button in form.buttons
    )


def what_page(html: str) -> str:
    """Why a page stopped the relying party, in words that do not depend on its title."""
    forms = forms_of(html)
    if login_form(forms) is not None:
        return "a login page"
    labels = [f'"{button.label}"' for form in forms for button in form.buttons if button.label]
    if not labels:
        return "a page without buttons (neither a login page nor a consent page)"
    return (
        "a page that is neither a login page (no password field) nor a recognised consent page "
        f"(its buttons: {', '.join(labels[:6])}; name the approving one with --approve-button)"
    )
