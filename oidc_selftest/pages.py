"""Recognising the provider's pages as a person would: the login form, the approve button, sign-out.

Nothing here knows one provider's markup. A login page is a form with a password field; its username
field is the text field that says it is one (``autocomplete``, name or placeholder), or the only one.
On a consent or sign-out confirmation page (forms without fields to type into), a button is read by
everything it says: its label, name, value, id and title, so ``<button name=decision value=deny>✕``
declines. A button that declines (Deny, Cancel, No, Close, Stay signed in, Ablehnen, Annuler...) is
never pressed. The button pressed is the page's one button that says it approves (Allow, Accept, Yes,
Sign out... in a few languages), or else its one button that says it goes on (Continue, OK, Submit...);
a button that says neither is pressed only when it is the one button of the only form on the page
(node-oidc-provider's consent page), never just because it comes first (a language chooser's "Go").
Operators of unusual pages name the button (``--approve-button``) or the username field
(``--username-field``) themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .forms import Button, Form, forms_of

# Words a person reads on a button that declines; checked first, so "Do not allow" declines.
_DECLINE = re.compile(
    r"\b(deny|denied|disallow|cancel|reject|decline|refuse|abort|no|not|don'?t|never|stay|remain|keep|back"
    r"|later|skip|close|dismiss|ablehnen|abbrechen|verweigern|nein|nicht|bleiben|zurück|schliessen|refuser"
    r"|annuler|non|rester|fermer|retour|rechazar|cancelar|denegar|volver|rifiuta|annulla|nega)\b"
)
# Words that approve what the page asks (grant access, or sign out on a sign-out page) ...
_APPROVE = re.compile(
    r"\b(allow|approve|accept|authori[sz]e|consent|grant|agree|yes|erlauben|zulassen|akzeptieren|zustimmen"
    r"|genehmigen|ja|autoriser|accepter|approuver|oui|permitir|aceptar|autorizar|sí|consenti|accetta"
    r"|autorizza)\b"
)
# ... and words that only go on, trusted when no button on the page approves outright.
_GO_ON = re.compile(
    r"\b(continue|confirm|ok|okay|proceed|submit|next|weiter|fortfahren|bestätigen|continuer|confirmer"
    r"|valider|continuar|confirmar|continua|conferma)\b"
)
_SIGN_OUT = re.compile(
    r"\b(sign|log)[\s_-]*(me[\s_-]+)?out\b|\blogout\b|\bsignout\b|\babmelden\b|\bausloggen\b"
    r"|\bd[ée]connex|\bcerrar sesi[óo]n\b"
)
_USERNAME = re.compile(r"user|login|e-?mail|account|identifier|\bid\b|\bname\b", re.IGNORECASE)


def _words(button: Button) -> str:
    """Everything the button says: label, name, value, id and title (``name=decision value=deny``)."""
    parts = (
        button.name,
        button.value,
        button.label,
        button.attrs.get("id", ""),
        button.attrs.get("title", ""),
        button.attrs.get("aria-label", ""),
    )
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


@dataclass
class Choice:
    """A form of the page and the button to press on it."""

    form: Form
    button: Button


def _choice(html: str, *, purpose: str, wanted: str | None) -> Choice | None:
    """The button that approves (``purpose="consent"``) or confirms signing out (``"logout"``), or None.

    ``wanted``: the operator's name for it (its name, id or label), used instead of guessing.
    """
    forms = [f for f in forms_of(html) if f.buttons and not f.has_password and not f.text_entries]
    if wanted:
        return next((Choice(f, b) for f in forms if (b := _named(f, wanted)) is not None), None)
    candidates = [
        Choice(form, button)
        for form in forms
        for button in form.buttons
        if not declines(button) and not (purpose == "consent" and signs_out(button))
    ]
    approves = [
        c
        for c in candidates
        if _APPROVE.search(_words(c.button)) or (purpose == "logout" and signs_out(c.button))
    ]
    goes_on = [c for c in candidates if _GO_ON.search(_words(c.button))]
    for said in (approves, goes_on):
        if said:
            return said[0] if len(said) == 1 else None
    if len(forms) == 1 and len(candidates) == 1 and len(forms[0].buttons) == 1:
        lone = candidates[0]
        return lone if lone.form.attrs.get("method", "get").lower() == "post" else None
    return None


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


def consent_choice(html: str, wanted: str | None = None) -> Choice | None:
    return _choice(html, purpose="consent", wanted=wanted)


def sign_out_choice(html: str, wanted: str | None = None) -> Choice | None:
    return _choice(html, purpose="logout", wanted=wanted)


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
