"""HTML forms as a browser sees them: the one form parser of the repository's relying parties."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """One ``<form>``: its attributes, its fields and its submit buttons, attribute values unescaped."""

    attrs: dict[str, str]
    fields: list[dict[str, str]] = field(default_factory=list)  # inputs, textareas (not buttons)
    buttons: list[dict[str, str]] = field(default_factory=list)  # submit buttons

    @property
    def has_password(self) -> bool:
        return any(f.get("type", "").lower() == "password" for f in self.fields)

    def button(self, name: str) -> dict[str, str] | None:
        return next((b for b in self.buttons if b.get("name") == name), None)

    def values(self) -> dict[str, str]:
        """The value the page gave each named field, hidden ones included, by name."""
        return {control["name"]: control.get("value", "") for control in self.fields if control.get("name")}

    def submission(self, click: str | None, fill: dict[str, str]) -> list[tuple[str, str]]:
        """What a browser posts: every successful control (hidden ones included), then the button."""
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
        if click is not None:
            button = self.button(click)
            data.append((click, (button or {}).get("value", "")))
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name.lower(): value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self._form = Form(attrs=attributes)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind in {"submit", "image"}:
                self._form.buttons.append(attributes)
            elif kind not in {"button", "reset"}:
                self._form.fields.append(attributes)
        elif tag == "button":
            if attributes.get("type", "submit").lower() == "submit":
                self._form.buttons.append(attributes)
        elif tag == "textarea":
            self._textarea = {**attributes, "type": "textarea", "value": ""}
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    """Every form of ``html``, in document order."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms
