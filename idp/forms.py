"""Forms of the operators' admin: a client's settings, shaped by its kind."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from oauth2_provider.models import get_application_model

from .claims import SCOPES
from .clients import KINDS, apply_kind, clean_client_settings, clean_grace_period


def https_url_formfield(db_field, **kwargs):
    """Model fields as form fields; a URL typed without a scheme is taken as https."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class ClientForm(forms.ModelForm):
    """A client of one kind; its grant type, client type and secret handling follow from the kind."""

    client_kind = "web"  # set per request by the admin for new clients

    allowed_scopes = forms.MultipleChoiceField(
        choices=[(name, f"{name}: {spec['description']}") for name, spec in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The scopes this client may ask for. Check only what it needs.",
    )

    subject_type = forms.ChoiceField(
        choices=[("public", "Public: one sub per person"), ("pairwise", "Pairwise: one sub per sector")],
        required=False,
        help_text="Pairwise: clients of unrelated sites cannot correlate a person (OIDC Core 8). "
        "Changing it later changes every sub the client has seen.",
    )

    algorithm = forms.ChoiceField(
        label="ID token signing algorithm",
        choices=[("RS256", "RS256 (every OpenID library)"), ("ES256", "ES256 (needs an active ES256 key)")],
        required=False,
        help_text="id_token_signed_response_alg. RS256 unless the client asks for ES256.",
    )

    class Meta:
        model = get_application_model()
        fields = (
            "name", "client_id", "redirect_uris", "post_logout_redirect_uris", "allowed_origins",
            "allowed_scopes", "skip_authorization", "access_token_lifetime", "allow_nonce_instead_of_pkce",
            "is_resource_server", "is_active", "is_verified", "logo_uri", "client_uri", "policy_uri",
            "tos_uri", "subject_type", "sector_identifier", "algorithm",
            "tos_uri", "subject_type", "sector_identifier", "backchannel_logout_uri",
            "backchannel_logout_session_required", "logout_ends_offline_access",
        )  # fmt: skip
        formfield_callback = https_url_formfield
        widgets = {
            "redirect_uris": forms.Textarea(attrs={"rows": 3, "cols": 80}),
            "post_logout_redirect_uris": forms.Textarea(attrs={"rows": 2, "cols": 80}),
            "allowed_origins": forms.Textarea(attrs={"rows": 2, "cols": 80}),
        }
        help_texts = {
            "redirect_uris": "One per line, matched exactly. https, or http on 127.0.0.1, [::1] or "
            "localhost; native apps may also use a private-use scheme like com.example.app:/callback.",
            "post_logout_redirect_uris": "Where the client may send people after signing out; same rules.",
            "allowed_origins": "Origins the app runs on, like https://app.example.com (no path).",
            "skip_authorization": "First-party: the operator vouches for this client, so people are not "
            "asked for consent. Leave off for third-party clients.",
        }
        labels = {"skip_authorization": "First-party (skip consent)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("subject_type", self.instance.subject_type)
        for declared in ("allowed_scopes", "algorithm"):
            if declared not in self._meta.fields:
                del self.fields[declared]  # declared here, so listed even where the kind omits it
        if self.instance.pk is None:
            apply_kind(self.instance, self.client_kind)
            self.initial.setdefault("allowed_scopes", ["openid", "profile", "email"])
        else:
            # Empty means every scope the kind may have: show exactly that.
            self.initial["allowed_scopes"] = self.instance.allowed_scopes.split() or list(SCOPES)
        if "client_id" in self.fields:
            self.fields["client_id"].help_text = "Keep the generated one, or choose a readable name."

    def clean_algorithm(self) -> str:
        """Left unset (a form that does not show it): RS256, the default."""
        return self.cleaned_data.get("algorithm") or "RS256"

    def clean_subject_type(self) -> str:
        """Left unset (a form that does not show it): the client stays public, the default."""
        return self.cleaned_data.get("subject_type") or "public"

    @property
    def kind(self) -> str:
        return self.instance.kind

    def clean(self):
        cleaned = super().clean()
        present = {
            field: cleaned.get(field)
            for field in (
                "redirect_uris",
                "post_logout_redirect_uris",
                "allowed_origins",
                "allowed_scopes",
                "access_token_lifetime",
                "backchannel_logout_uri",
            )
            if field in self.fields
        }
        if "allowed_scopes" in present and KINDS[self.kind].signs_in_people and not present["allowed_scopes"]:
            self.add_error("allowed_scopes", "Choose at least one scope (openid, to sign people in).")
            return cleaned
        try:
            settings = clean_client_settings(kind=self.kind, **present)
        except ValidationError as exc:
            raise ValidationError({f: m for f, m in exc.message_dict.items() if f in present}) from None
        cleaned.update({field: settings[field] for field in present})
        return cleaned


class RotateSecretForm(forms.Form):
    """How long the secret being replaced keeps working."""

    GRACE_CHOICES = [
        (0, "Immediately: the old secret stops working now"),
        (3600, "1 hour"),
        (86400, "24 hours"),
        (7 * 86400, "7 days"),
    ]
    grace_period = forms.TypedChoiceField(
        choices=GRACE_CHOICES,
        coerce=int,
        initial=0,
        help_text="Keep the old secret valid while you deploy the new one.",
    )

    def clean_grace_period(self) -> int:
        return clean_grace_period(self.cleaned_data["grace_period"])
