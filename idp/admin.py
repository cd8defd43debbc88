"""Operators' admin: people, clients by kind (secrets shown once), tokens, consents, the audit trail.

DOT registers its own models with the classes named in ``OAUTH2_PROVIDER`` (``*_ADMIN_CLASS``,
set in ``idp.conf``): the subclasses below.
"""

from __future__ import annotations

import json
import secrets

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import ngettext
from oauth2_provider.admin import (
    AccessTokenAdmin,
    ApplicationAdmin,
    GrantAdmin,
    IDTokenAdmin,
    RefreshTokenAdmin,
)
from oauth2_provider.models import get_access_token_model

from .accounts import changes_by
from .audit import Event, record
from .clients import (
    KINDS,
    generate_client_secret,
    integration_settings,
    rotate_client_secret,
    set_client_active,
)
from .consent import revoke_consent
from .forms import ClientForm, RotateSecretForm
from .models import Application, AuditEvent, Consent, User
from .tokens import revoke_by_operator

# The session key holding a reference (never the secret) between the POST that made a secret and
# the one page that shows it; the secret itself waits in the cache, deleted on first read.
ONE_TIME_SECRET = "idp_one_time_secret"  # noqa: S105  (a session key, not a secret)
ONE_TIME_SECRET_SECONDS = 300
USER_FILTER = ("user", admin.RelatedOnlyFieldListFilter)


class ChangesByOperatorMixin:
    """Account and client changes made through these pages are recorded as the operator's.

    Deactivation, password changes and deletions are recorded by signal receivers
    (``idp.accounts``), whatever saves or deletes the row; this names who did it.
    """

    def changeform_view(self, request, *args, **kwargs):
        with changes_by(request):
            return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        with changes_by(request):  # actions, including "delete selected"
            return super().changelist_view(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        with changes_by(request):
            return super().delete_view(request, *args, **kwargs)


# Who may grant administrative power: superusers only. Changing them is recorded.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(ChangesByOperatorMixin, DjangoUserAdmin):
    """Django's user admin plus the OpenID profile claims and the read-only subject identifier.

    Only superusers grant or take away privileges (staff status, superuser status, groups,
    permissions) or change a superuser's account at all; every privilege change is recorded.
    """

    readonly_fields = ("sub", "updated_at", "last_login", "date_joined")
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "sub")
    search_fields = ("username", "email", "first_name", "last_name", "sub")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("OpenID Connect", {"fields": ("sub", "email_verified", "updated_at")}),
        (
            "Profile claims",
            {
                "fields": (
                    "middle_name", "nickname", "picture", "website", "gender", "birthdate", "zoneinfo",
                    "locale", "phone_number", "phone_number_verified",
                )
            },
        ),
        ("Address", {"fields": ("street_address", "locality", "region", "postal_code", "country")}),
    )  # fmt: skip

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += PRIVILEGE_FIELDS
        return fields

    def has_change_permission(self, request, obj=None) -> bool:
        if _outranks(obj, request.user):
            return False  # setting their password or email would take over that account
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if _outranks(obj, request.user):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        with changes_by(request):
            return super().user_change_password(request, id, form_url)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changed = [field for field in PRIVILEGE_FIELDS if field in form.changed_data]
        if change and changed:
            user = form.instance
            record(
                Event.USER_PRIVILEGES_CHANGED, actor=request.user, request=request, user=user.get_username(),
                fields=changed, is_staff=user.is_staff, is_superuser=user.is_superuser,
                groups=sorted(user.groups.values_list("name", flat=True)),
                permissions=_permission_names(user.user_permissions),
            )  # fmt: skip


def _permission_names(permissions) -> list[str]:
    """``app_label.codename`` of each permission in the queryset, sorted (for the audit log)."""
    return sorted(
        f"{app}.{name}" for app, name in permissions.values_list("content_type__app_label", "codename")
    )


def _outranks(person, operator) -> bool:
    """``person``'s account is out of a non-superuser ``operator``'s reach: a superuser, or other staff.

    Staff hold permissions the operator may not have (a group can grant any); changing their email
    or password would hand those over. Staff still edit their own account's ordinary fields.
    """
    if person is None or operator.is_superuser:
        return False
    return person.is_superuser or (person.is_staff and person.pk != operator.pk)


class IdpGroupAdmin(GroupAdmin):
    """Django's group admin, for superusers only to change: a group's permissions are privileges.

    Every change of a group's permissions is recorded, as a person's are.
    """

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "permissions" in form.changed_data:
            record(
                Event.GROUP_PERMISSIONS_CHANGED, actor=request.user, request=request,
                group=form.instance.name, created=not change,
                permissions=_permission_names(form.instance.permissions),
            )  # fmt: skip


admin.site.unregister(Group)  # django.contrib.auth's registration, replaced by the class above
admin.site.register(Group, IdpGroupAdmin)


def keep_one_time_secret(request, *, client, secret: str) -> None:
    """Hold a new secret for the next page of ``client`` only: minutes in the cache, never in the session."""
    reference = secrets.token_urlsafe(32)
    cache.set(f"idp:one-time-secret:{reference}", secret, timeout=ONE_TIME_SECRET_SECONDS)
    request.session[ONE_TIME_SECRET] = {"pk": client.pk, "ref": reference}


def take_one_time_secret(request, *, object_id: str) -> str | None:
    """The secret kept for ``object_id``'s page, once: the reference and the secret are deleted on read.

    None: nothing was kept for this page; "": a secret was kept but has expired from the cache.
    """
    held = request.session.get(ONE_TIME_SECRET)
    if not isinstance(held, dict) or str(held.get("pk")) != str(object_id) or request.method != "GET":
        return None
    del request.session[ONE_TIME_SECRET]
    key = f"idp:one-time-secret:{held.get('ref')}"
    secret = cache.get(key)
    cache.delete(key)
    return secret or ""


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
    if setup.redirects:
        policy += ["allowed_scopes", "skip_authorization"]
    policy.append("access_token_lifetime")
    if kind == "web":
        policy.append("allow_nonce_instead_of_pkce")
    if setup.has_secret:
        policy.append("is_resource_server")
    if not adding:
        policy.append("is_active")
    fieldsets.append(("Policy", {"fields": policy}))
    if setup.redirects:
        fieldsets.append(
            ("Consent page", {"fields": ["is_verified", "logo_uri", "client_uri", "policy_uri", "tos_uri"]})
        )
    if not adding:
        fieldsets.append(("Usage", {"fields": ["consent_count", "active_token_count", "created", "updated"]}))
    return fieldsets


class IdpApplicationAdmin(ChangesByOperatorMixin, ApplicationAdmin):
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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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

    # --- saving: secrets generated here, shown once; disabling revokes -------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            secret = generate_client_secret() if KINDS[obj.kind].has_secret else None
            obj.client_secret = secret or ""
            super().save_model(request, obj, form, change)
            record(Event.CLIENT_CREATED, actor=request.user, client=obj, request=request, kind=obj.kind)
            if secret:
                keep_one_time_secret(request, client=obj, secret=secret)
            return
        activated = "is_active" in form.changed_data
        if activated:
            obj.is_active = form.initial["is_active"]  # set_client_active makes the change
        super().save_model(request, obj, form, change)
        changed = [field for field in form.changed_data if field != "is_active"]
        if changed:
            record(Event.CLIENT_CHANGED, actor=request.user, client=obj, request=request, fields=changed)
        if activated:
            set_client_active(obj, form.cleaned_data["is_active"], actor=request.user, request=request)

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


# --- tokens, codes, consents: searchable and filterable by person and client ---------------------


class IdpAccessTokenAdmin(AccessTokenAdmin):
    """Access tokens (shown masked), filterable by client and person; revoking is recorded."""

    list_display = ("pk", "masked_token", "user", "application", "scope", "expires")
    list_filter = ("application", USER_FILTER, "expires")

    @admin.action(description="Revoke selected access tokens", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        tokens = queryset.select_related("application", "user")
        revoked = sum(revoke_by_operator(token, actor=request.user, request=request) for token in tokens)
        self.message_user(
            request, ngettext("Revoked %d access token.", "Revoked %d access tokens.", revoked) % revoked
        )


class IdpRefreshTokenAdmin(RefreshTokenAdmin):
    """Refresh tokens (shown masked), filterable by client, person and state; revoking is recorded."""

    list_display = ("pk", "masked_token", "user", "application", "created", "revoked")
    list_filter = ("application", USER_FILTER, ("revoked", admin.EmptyFieldListFilter))

    @admin.action(description="Revoke selected refresh tokens", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        tokens = queryset.filter(revoked__isnull=True).select_related("application", "user")
        revoked = sum(revoke_by_operator(token, actor=request.user, request=request) for token in tokens)
        self.message_user(
            request, ngettext("Revoked %d refresh token.", "Revoked %d refresh tokens.", revoked) % revoked
        )


class IdpGrantAdmin(GrantAdmin):
    """Authorization codes (shown masked), filterable by client and person."""

    list_display = ("pk", "masked_code", "application", "user", "expires", "used_at")
    list_filter = ("application", USER_FILTER)
    actions = ("revoke_codes",)

    @admin.action(
        description="Revoke selected codes and every token issued from them", permissions=["delete"]
    )
    def revoke_codes(self, request, queryset):
        codes = queryset.select_related("application", "user")
        count = sum(revoke_by_operator(grant, actor=request.user, request=request) for grant in codes)
        self.message_user(request, ngettext("Revoked %d code.", "Revoked %d codes.", count) % count)


class IdpIDTokenAdmin(IDTokenAdmin):
    """Issued ID tokens by ``jti``, filterable by client and person."""

    list_filter = ("application", USER_FILTER)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """What people allowed which clients; revoking also revokes the client's tokens for them."""

    list_display = ("user", "application", "scopes", "created", "updated")
    list_filter = ("application", USER_FILTER)
    list_select_related = ("user", "application")
    search_fields = ("user__username", "user__email", "application__client_id", "application__name")
    readonly_fields = ("user", "application", "scopes", "claims", "created", "updated")
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: it also revokes the tokens and is recorded

    def has_revoke_permission(self, request) -> bool:
        """Revoking deletes the consent: it needs the model's delete permission."""
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    @admin.action(
        description="Revoke selected consents (and the client's tokens for those people)",
        permissions=["revoke"],
    )
    def revoke(self, request, queryset):
        count = sum(
            revoke_consent(c.user, c.application, actor=request.user, request=request) for c in queryset
        )
        self.message_user(request, ngettext("Revoked %d consent.", "Revoked %d consents.", count) % count)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only."""

    list_display = ("time", "event", "actor_name", "client_identifier", "ip_address", "details")
    list_filter = ("event", "time", ("client", admin.RelatedOnlyFieldListFilter))
    search_fields = ("actor_name", "client_identifier", "ip_address")
    date_hierarchy = "time"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
