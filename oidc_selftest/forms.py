"""HTML forms as a browser sees them: the one form parser of the repository's relying parties.

A browser's form owns the controls inside it and any control elsewhere in the page whose ``form``
attribute names its id (a control inside one form with ``form="other"`` belongs to the other one);
it posts them in document order, and then the name and value of the button that was clicked. Pages
in the wild use both: node-oidc-provider's sign-out page puts its buttons outside its form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

TEXT_ENTRY_TYPES = {"text", "email", "tel", "url", "search", "number"}


@dataclass
class Button:
    """A submit button: its attributes and the label a person reads on it."""

    attrs: dict[str, str]
    text: str = ""

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")

    @property
    def value(self) -> str:
        return self.attrs.get("value", "")

    @property
    def label(self) -> str:
        """What a person reads: the text of a ``<button>``, the value of an ``<input type=submit>``."""
        text = " ".join(self.text.split())
        return text or self.attrs.get("aria-label", "") or self.value or self.attrs.get("title", "")

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.attrs.get(key, default)


@dataclass
class Form:
    """One ``<form>``: its attributes, its fields and its submit buttons, attribute values unescaped."""

    attrs: dict[str, str]
    fields: list[dict[str, str]] = field(default_factory=list)  # inputs, selects, textareas
    buttons: list[Button] = field(default_factory=list)  # submit buttons

    @property
    def has_password(self) -> bool:
        return any(f.get("type", "").lower() == "password" for f in self.fields)

    @property
    def text_entries(self) -> list[dict[str, str]]:
        """The visible fields a person types into (text, email and the like; not passwords)."""
        return [f for f in self.fields if f.get("type", "text").lower() in TEXT_ENTRY_TYPES]

    def button(self, name: str) -> Button | None:
        return next((b for b in self.buttons if b.name == name), None)

    def values(self) -> dict[str, str]:
        """The value the page gave each named field, hidden ones included, by name."""
        return {control["name"]: control.get("value", "") for control in self.fields if control.get("name")}

    def submission(self, click: Button | str | None, fill: dict[str, str]) -> list[tuple[str, str]]:
        """What a browser posts: every successful control (hidden ones included), then the clicked button
        (a :class:`Button`, or the name of one), if it has a name."""
        data: list[tuple[str, str]] = []
        for control in self.fields:
            name = control.get("name")
            if not name or "disabled" in control:
                continue
            kind = control.get("type", "text").lower()
            if kind in {"checkbox", "radio"} and "checked" not in control:
                continue
            if kind == "file":
                continue
            data.append((name, fill.get(name, control.get("value", "on" if kind == "checkbox" else ""))))
        button = self.button(click) if isinstance(click, str) else click
        if isinstance(click, str) and button is None:
            data.append((click, ""))
        elif button is not None and button.name:
            data.append((button.name, button.value))
        return data


class _FormParser(HTMLParser):
    """Collects every control with the form that owns it, resolved once the page is read."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        # (owner by form attribute, enclosing form, control) in document order
        self._controls: list[tuple[str | None, Form | None, dict[str, str] | Button]] = []
        self._textarea: dict[str, str] | None = None
        self._button: Button | None = None
        self._select: dict[str, str] | None = None
        self._options: list[dict] = []
        self._option: dict | None = None

    def _add(self, attributes: dict[str, str], control: dict[str, str] | Button) -> None:
        self._controls.append((attributes.get("form"), self._form, control))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name.lower(): value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self._form = Form(attrs=attributes)
            self.forms.append(self._form)
        elif tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind in {"submit", "image"}:
                self._add(attributes, Button(attrs=attributes))
            elif kind not in {"button", "reset"}:
                self._add(attributes, attributes)
        elif tag == "button":
            button = Button(attrs=attributes)
            if attributes.get("type", "submit").lower() == "submit":
                self._add(attributes, button)
            self._button = button
        elif tag == "textarea":
            self._textarea = {**attributes, "type": "textarea", "value": ""}
            self._add(attributes, self._textarea)
        elif tag == "select":
            self._select = {**attributes, "type": "select", "value": ""}
            self._options = []
            self._add(attributes, self._select)
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attributes.get("value"),
                "text": "",
                "selected": "selected" in attributes,
            }
            self._options.append(self._option)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["value"] += data
        if self._button is not None:
            self._button.text += data
        if self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "button":
            self._button = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            # A browser posts the selected option (the first one if none is), its value or else its text.
            chosen = [o for o in self._options if o["selected"]] or self._options[:1]
            if chosen:
                option = chosen[-1]
                self._select["value"] = (
                    option["value"] if option["value"] is not None else option["text"].strip()
                )
            self._select = self._option = None

    def resolve(self) -> None:
        by_id = {form.attrs["id"]: form for form in self.forms if form.attrs.get("id")}
        for owner_id, enclosing, control in self._controls:
            owner = by_id.get(owner_id) if owner_id is not None else enclosing
            if owner is None:
                continue
            if isinstance(control, Button):
                owner.buttons.append(control)
            else:
                owner.fields.append(control)


def forms_of(html: str) -> list[Form]:
    """Every form of ``html``, in document order, each with the controls a browser would post with it."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    parser.resolve()
    return parser.forms
