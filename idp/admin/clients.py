"""Clients in the admin: added by kind, validated, secrets shown once, rotated, disabled.

Every change goes through the client lifecycle (``idp.clients``): this admin chooses what to ask
and what to show, never how a client is saved, revoked or recorded.
DOT registers its application model with the class named in ``OAUTH2_PROVIDER``
(``APPLICATION_ADMIN_CLASS``, set in ``idp.conf``): ``IdpApplicationAdmin``.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import ngettext
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.models import get_access_token_model

from ..clients import KINDS, create_client, rotate_client_secret, set_client_active, update_client
from ..forms import ClientForm, RotateSecretForm
from ..models import Application, Consent
from .common import ChangesByOperatorMixin, HttpsUrlsMixin
from .integration import integration_settings
from .one_time_secret import ONE_TIME_SECRET_SECONDS, keep_one_time_secret, take_one_time_secret


def _count(model, **filters) -> Subquery:
    rows = model.objects.filter(application=OuterRef("pk"), **filters).order_by().values("application")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), 0)


def _kind_fieldsets(kind: str, *, adding: bool) -> list:
    setup = KINDS[kind]
    client = ["name", "client_id"] if adding else ["name", "client_id", "kind", "secret_status"]
    fieldsets = [(None, {"fields": client})]
    if setup.redirects:
        redirects = ["redirect_uris", "post_logout_redirect_uris"]
        if setup.origins:
            redirects.append("allowed_origins")
        fieldsets.append(("Redirects", {"fields": redirects}))
    policy = []
    if setup.signs_in_people:
        # A device's consent page is never skipped (RFC 8628 §5.4: remote phishing).
        policy += ["allowed_scopes"] if setup.device else ["allowed_scopes", "skip_authorization"]
        policy.append("require_second_factor")
    if setup.redirects:  # a pairwise sector comes from the redirect URIs' host
        policy += ["subject_type", "sector_identifier"]
    policy.append("access_token_lifetime")
    if kind == "web":
        policy.append("allow_nonce_instead_of_pkce")
    if setup.has_secret:
        policy.append("is_resource_server")
    if not adding:
        policy.append("is_active")
    fieldsets.append(("Policy", {"fields": policy}))
    if setup.signs_in_people:
        fieldsets.append(
            ("Consent page", {"fields": ["is_verified", "logo_uri", "client_uri", "policy_uri", "tos_uri"]})
        )
    if not adding:
        fieldsets.append(("Usage", {"fields": ["consent_count", "active_token_count", "created", "updated"]}))
    return fieldsets


class IdpApplicationAdmin(ChangesByOperatorMixin, HttpsUrlsMixin, ApplicationAdmin):
    """Clients registered by kind; the kind decides grant, client type and which fields are asked."""

    form = ClientForm
    radio_fields = {}
    list_display = (
        "name", "client_id", "kind", "is_active", "skip_authorization", "consent_count", "active_token_count",
        "created",
    )  # fmt: skip
    list_filter = ("kind", "is_active", "skip_authorization", "is_verified")
    search_fields = ("name", "client_id")
    actions = ("disable_clients", "enable_clients", "rotate_secret")
    change_form_template = "admin/idp/application/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                consent_count=_count(Consent),
                active_token_count=_count(get_access_token_model(), expires__gt=timezone.now()),
            )
        )

    # --- adding: choose the kind first, then a form with only what that kind needs ---------------

    def requested_kind(self, request) -> str | None:
        kind = request.GET.get("kind")
        return kind if kind in KINDS else None

    def add_view(self, request, form_url="", extra_context=None):
        kind = self.requested_kind(request)
        if kind is None:
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Add a client: what kind is it?",
                "kinds": [(value, label) for value, label in Application.Kind.choices],
            }
            return TemplateResponse(request, "admin/idp/application/choose_kind.html", context)
        extra_context = {**(extra_context or {}), "subtitle": Application.Kind(kind).label}
        return super().add_view(request, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form = type(form.__name__, (form,), {"client_kind": self.requested_kind(request) or "web"})
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return _kind_fieldsets(self.requested_kind(request) or "web", adding=True)
        return _kind_fieldsets(obj.kind, adding=False)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "client_id",
            "kind",
            "secret_status",
            "consent_count",
            "active_token_count",
            "created",
            "updated",
        )

    # --- saving: through the client lifecycle, which validates, revokes and records -------------

    def save_model(self, request, obj, form, change):
        """Save through ``create_client`` or ``update_client``; a new secret is kept to be shown once.

        ``obj`` is the form's instance, already carrying the submitted values. Adding, it ends up
        as the row ``create_client`` made (the admin's log and redirect name it); changing, it
        starts again from the stored row, so ``update_client`` sees what the operator changed.
        """
        if not change:
            values = {field: form.cleaned_data[field] for field in form.fields if field in form.cleaned_data}
            client, secret = create_client(kind=obj.kind, actor=request.user, request=request, **values)
            obj.pk = client.pk
            obj.refresh_from_db()
            if secret:
                keep_one_time_secret(request, client=obj, secret=secret)
            return
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        obj.refresh_from_db()
        update_client(
            obj, is_active=changes.pop("is_active", None), actor=request.user, request=request, **changes
        )

    def response_add(self, request, obj, post_url_continue=None):
        """Always to the client's page: the secret (once) and the integration panel are there."""
        self.message_user(request, f"The client “{obj}” was added.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:idp_application_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        secret = take_one_time_secret(request, object_id=object_id)
        if secret == "":
            self.message_user(
                request,
                f"The new secret can no longer be shown: it is kept for {ONE_TIME_SECRET_SECONDS // 60} "
                "minutes, in this server's cache. Rotate the secret to get a new one.",
                messages.WARNING,
            )
            secret = None
        client = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if client is not None:
            extra_context.update(
                one_time_secret=secret,
                integration=json.dumps(integration_settings(client, secret=secret), indent=2),
                discovery_url=integration_settings(client)["discovery_url"],
                has_secret=KINDS[client.kind].has_secret,
            )
        return super().change_view(request, object_id, form_url, extra_context)  # never cached

    # --- read-only displays ----------------------------------------------------------------------

    @admin.display(description="users with consent", ordering="consent_count")
    def consent_count(self, obj) -> int:
        return getattr(obj, "consent_count", None) or Consent.objects.filter(application=obj).count()

    @admin.display(description="active access tokens", ordering="active_token_count")
    def active_token_count(self, obj) -> int:
        found = getattr(obj, "active_token_count", None)
        if found is not None:
            return found
        return get_access_token_model().objects.filter(application=obj, expires__gt=timezone.now()).count()

    @admin.display(description="client secret")
    def secret_status(self, obj) -> str:
        if not KINDS[obj.kind].has_secret:
            return "None: a public client proves itself with PKCE."
        status = "Stored hashed; it cannot be shown again. Use “Rotate secret” to issue a new one."
        expires = obj.previous_client_secret_expires
        if obj.previous_client_secret and expires and expires > timezone.now():
            status += f" The previous secret is accepted until {expires:%Y-%m-%d %H:%M} UTC."
        return status

    # --- rotate, disable, enable -------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name="idp_application_rotate_secret",
            ),
            *super().get_urls(),
        ]

    def rotate_secret_view(self, request, object_id):
        client = self.get_object(request, object_id)  # None for an unknown or malformed id
        if client is None:
            raise Http404("No such client.")
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        change_url = reverse("admin:idp_application_change", args=[client.pk])
        if not KINDS[client.kind].has_secret:
            self.message_user(request, "A public client has no secret.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        form = RotateSecretForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            secret = rotate_client_secret(
                client, grace_seconds=form.cleaned_data["grace_period"], actor=request.user, request=request
            )
            keep_one_time_secret(request, client=client, secret=secret)
            self.message_user(request, "The secret was rotated.", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": client,
            "title": f"Rotate the secret of {client}",
            "form": form,
        }
        return TemplateResponse(request, "admin/idp/application/rotate_secret.html", context)

    @admin.action(description="Rotate the secret of the selected client", permissions=["change"])
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one client to rotate its secret.", messages.WARNING)
            return None
        client = queryset.get()
        return HttpResponseRedirect(reverse("admin:idp_application_rotate_secret", args=[client.pk]))

    @admin.action(
        description="Disable the selected clients (revokes all their tokens)", permissions=["change"]
    )
    def disable_clients(self, request, queryset):
        changed = sum(set_client_active(c, False, actor=request.user, request=request) for c in queryset)
        self.message_user(request, ngettext("Disabled %d client.", "Disabled %d clients.", changed) % changed)

    @admin.action(description="Enable the selected clients", permissions=["change"])
    def enable_clients(self, request, queryset):
        changed = sum(set_client_active(c, True, actor=request.user, request=request) for c in queryset)
        self.message_user(request, ngettext("Enabled %d client.", "Enabled %d clients.", changed) % changed)
