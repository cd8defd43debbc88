"""The explorer's start form: a flow, a client, scopes, the authorization request's options, a break."""

from __future__ import annotations

import json
import re

from django import forms
from django.core.exceptions import ValidationError
from oauth2_provider.models import get_application_model

from ..claims import SCOPES
from .flows import FLOWS, Flow
from .glossary import BREAKS as GLOSSARY_BREAKS
from .playground import PLAYGROUND_CLIENTS, callback_url, playground_secret
from .records import BREAKS
from .runs import Choice

BREAK_LABELS = {key: info.label for key, info in GLOSSARY_BREAKS.items()}
PROMPTS = ("none", "login", "consent", "select_account")
# Printable text without control characters (RFC 6749 Appendix A's characters, and more for hints).
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]*")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3 scope-token


def _printable(value: str) -> str:
    if not _PRINTABLE.fullmatch(value):
        raise ValidationError("Use printable characters only.")
    return value.strip()


class BreakChoices(forms.RadioSelect):
    """The breaks as radio buttons, each with what a real client does to hit it and the flows it fits."""

    template_name = "idp/explorer/_break_choices.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None) -> dict:
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        info = GLOSSARY_BREAKS.get(value)
        option["how"] = info.how if info else ""
        option["flows"] = " ".join(key for key, flow in FLOWS.items() if not value or value in flow.breaks)
        if info and option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}_how"
        return option


class StartForm(forms.Form):
    """Which flow to run, with which client, asking for what; at most one step broken on purpose."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    flow = forms.ChoiceField(
        choices=[(key, flow.label) for key, flow in FLOWS.items()], initial="web",
        widget=forms.Select(attrs={"aria-describedby": "flow-descriptions"}),
    )  # fmt: skip
    client_id = forms.CharField(
        label="Client ID",
        required=False,
        max_length=100,
        help_text="Empty: the flow's playground client (demo data).",
    )
    client_secret = forms.CharField(
        label="Client secret", required=False, max_length=255, widget=forms.PasswordInput, strip=False,
        help_text="Another confidential client's secret. It is kept sealed with the run for an hour.",
    )  # fmt: skip
    scope = forms.CharField(
        label="Scopes", required=False, max_length=500, help_text="Empty: the flow's usual scopes."
    )
    prompt = forms.ChoiceField(
        label="prompt", required=False, choices=[("", "(not sent)")] + [(p, p) for p in PROMPTS]
    )
    max_age = forms.IntegerField(
        label="max_age", required=False, min_value=0, max_value=10**9, help_text="Seconds since sign-in."
    )
    acr_values = forms.CharField(label="acr_values", required=False, max_length=200)
    claims = forms.CharField(
        label="claims", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text='A JSON object, e.g. {"userinfo": {"email": {"essential": true}}}.',
    )  # fmt: skip
    login_hint = forms.CharField(label="login_hint", required=False, max_length=254)
    breaks = forms.ChoiceField(
        required=False, choices=[("", "Nothing")] + [(key, BREAK_LABELS[key]) for key in BREAKS],
        widget=BreakChoices, label="Break a step on purpose",
    )  # fmt: skip

    def clean_client_id(self) -> str:
        return _printable(self.cleaned_data["client_id"])

    def clean_client_secret(self) -> str:
        return _printable(self.cleaned_data["client_secret"])

    def clean_acr_values(self) -> str:
        return " ".join(_printable(self.cleaned_data["acr_values"]).split())

    def clean_login_hint(self) -> str:
        return _printable(self.cleaned_data["login_hint"])

    def clean_scope(self) -> list[str]:
        scopes = list(dict.fromkeys(_printable(self.cleaned_data["scope"]).split()))
        if unknown := [scope for scope in scopes if scope not in SCOPES or not _SCOPE_TOKEN.fullmatch(scope)]:
            raise ValidationError(f"Unknown scopes: {', '.join(unknown)[:200]}. Known: {', '.join(SCOPES)}.")
        return scopes

    def clean_claims(self) -> str:
        text = self.cleaned_data["claims"]
        if not text:
            return ""
        try:
            claims = json.loads(text)
        except (ValueError, RecursionError):
            raise ValidationError("claims must be a JSON object (OpenID Connect Core 5.5).") from None
        if not isinstance(claims, dict):
            raise ValidationError("claims must be a JSON object (OpenID Connect Core 5.5).")
        return json.dumps(claims, separators=(",", ":"))

    def clean(self) -> dict:
        data = super().clean()
        flow = FLOWS.get(data.get("flow", ""))
        if flow is None or self.errors:
            return data
        client_id = data.get("client_id") or PLAYGROUND_CLIENTS[flow.key]
        client = get_application_model().objects.filter(client_id=client_id).first()
        if client is None or not client.is_active:
            self.add_error("client_id", f"No active client has the client_id {client_id!r} here.")
            return data
        if problem := client_problem(flow, client):
            self.add_error("client_id", problem)
            return data
        data["client"] = client
        confidential = client.client_type == "confidential"
        data["secret"] = (data.get("client_secret") or playground_secret(client_id)) if confidential else None
        if confidential and not data["secret"]:
            self.add_error("client_secret", f"{client_id} is confidential: paste its client secret.")
        data["scope"] = data.get("scope") or flow.scope.split()
        if flow.key == "refresh" and "offline_access" not in data["scope"]:
            self.add_error("scope", "A refresh token is issued only for the scope offline_access: add it.")
        broken = data.get("breaks", "")
        if broken and broken not in flow.breaks:
            self.add_error("breaks", f"{BREAK_LABELS[broken]}: not a step of this flow.")
        elif broken == "wrong_secret" and not confidential:
            self.add_error("breaks", f"{client_id} is a public client: it has no secret to get wrong.")
        return data

    def choice(self) -> Choice:
        """The checked request (call after ``is_valid``)."""
        data = self.cleaned_data
        flow = FLOWS[data["flow"]]
        names = ("prompt", "acr_values", "claims", "login_hint")
        options = {name: data[name] for name in names if data[name]}
        if data["max_age"] is not None:
            options["max_age"] = data["max_age"]
        if flow.prompt and "prompt" not in options:
            options["prompt"] = flow.prompt
        return Choice(
            flow=flow, client_id=data["client"].client_id,
            confidential=data["client"].client_type == "confidential", client_secret=data["secret"],
            scope=" ".join(data["scope"]), options=options if flow.front_channel else {},
            breaks=(data["breaks"],) if data["breaks"] else (),
        )  # fmt: skip


def client_problem(flow: Flow, client) -> str | None:
    """Why ``client`` cannot run ``flow`` (a sentence saying what to change), or None."""
    if client.authorization_grant_type != flow.grant_type:
        return (
            f"{client.client_id} uses the grant {client.authorization_grant_type}; this flow needs a "
            f"client of the grant {flow.grant_type}."
        )
    confidential = client.client_type == "confidential"
    if flow.confidential is True and not confidential:
        return f"{client.client_id} is a public client: this flow needs one with a secret."
    if flow.confidential is False and confidential:
        return f"{client.client_id} has a secret: run it as the web app flow."
    if flow.front_channel and not client.redirect_uri_allowed(callback_url()):
        return f"Add {callback_url()} to the redirect URIs of {client.client_id} to run code flows with it."
    return None
