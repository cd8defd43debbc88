"""Signing keys: listed (never private material); rotation and emergency rotation for superusers."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ..key_models import SigningKey
from ..key_rotation import describe_keys, emergency_rotate, prepublication_period, rotate_key
from ..key_set import current_key_set
from .common import ReadOnlyAdminMixin


class RotateKeyForm(forms.Form):
    """Which algorithm to rotate; an emergency rotation must be confirmed in words."""

    alg = forms.ChoiceField(label="Algorithm", choices=SigningKey.Algorithm.choices, initial="RS256")
    emergency = forms.BooleanField(
        label="Emergency: the key is compromised",
        required=False,
        help_text="The new key signs at once and the old one leaves JWKS at once.",
    )
    confirm = forms.CharField(
        label="Type EMERGENCY to confirm an emergency rotation", required=False, max_length=16
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("emergency") and cleaned.get("confirm") != "EMERGENCY":
            raise ValidationError("An emergency rotation must be confirmed: type EMERGENCY.")
        return cleaned


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The keys as operators see them: states and schedule; changed only by rotating."""

    list_display = ("kid", "alg", "state", "created", "activates_at", "retires_at", "removes_at")
    list_filter = ("state", "alg")
    fields = ("kid", "alg", "state", "created", "activates_at", "retires_at", "removes_at", "public_jwk")
    readonly_fields = fields
    change_list_template = "admin/idp/signingkey/change_list.html"

    def changelist_view(self, request, extra_context=None):
        context = {
            "all_keys": describe_keys(),
            "can_rotate": request.user.is_superuser,
            "prepublication": prepublication_period(),
            "key_problems": current_key_set().problems,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def get_urls(self):
        return [
            path("rotate/", self.admin_site.admin_view(self.rotate_view), name="idp_signingkey_rotate"),
            *super().get_urls(),
        ]

    def rotate_view(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied
        form = RotateKeyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            alg, emergency = form.cleaned_data["alg"], form.cleaned_data["emergency"]
            try:
                if emergency:
                    key = emergency_rotate(alg=alg, actor=request.user, request=request)
                else:
                    key = rotate_key(alg=alg, actor=request.user, request=request)
            except (ValidationError, ImproperlyConfigured) as exc:
                form.add_error(None, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                if key.state == SigningKey.State.ACTIVE:
                    text = f"The {alg} key {key.kid} signs now."
                else:
                    when = f"{key.activates_at:%Y-%m-%d %H:%M} UTC"
                    text = f"The {alg} key {key.kid} is published; it signs from {when}."
                self.message_user(request, text, messages.WARNING if emergency else messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:idp_signingkey_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Rotate a signing key",
            "form": form,
            "prepublication": prepublication_period(),
        }
        return TemplateResponse(request, "admin/idp/signingkey/rotate.html", context)
