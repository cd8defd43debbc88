"""People and groups: Django's admins, with privileges granted by superusers only and recorded."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group

from ..accounts import changes_by
from ..audit import Event, record
from ..mfa.factors import FACTOR_KINDS
from ..mfa.flow import reset_factors
from .common import ChangesByOperatorMixin, HttpsUrlsMixin

# Who may grant administrative power: superusers only. Changing them is recorded.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class IdpUserAdminMixin(ChangesByOperatorMixin):
    """What idp adds to a site's user admin: the read-only ``sub``, and privileges kept to superusers.

    Only superusers grant or take away privileges (staff status, superuser status, groups,
    permissions) or change a superuser's account at all; every privilege change is recorded. Put it
    first among the bases of the site's own user admin (``class UserAdmin(IdpUserAdminMixin,
    django.contrib.auth.admin.UserAdmin)``); ``IdpUserAdmin`` is that, for Django's fields.
    """

    actions = ["reset_second_factors"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("idp_subject")

    @admin.display(description="second factors")
    def second_factors(self, obj) -> str:
        held = [kind.name for kind in FACTOR_KINDS if obj is not None and obj.pk and kind.held_by(obj)]
        return ", ".join(held) or "none"

    @admin.action(description="Reset second factors (each person is told by email)", permissions=["change"])
    def reset_second_factors(self, request, queryset):
        """Remove every factor of the selected people (a lost phone): audited, each person notified.

        Not the operator's own: /account/security asks a fresh sign-in for that, this would not.
        """
        done = 0
        for person in queryset:
            if person.pk != request.user.pk and not _outranks(person, request.user):
                reset_factors(person, actor=request.user, request=request)
                done += 1
        self.message_user(request, f"Second factors reset for {done} of {queryset.count()} selected.")

    @admin.display(description="public subject identifier")
    def subject(self, obj) -> str:
        subject = getattr(obj, "idp_subject", None) if obj is not None and obj.pk else None
        return subject.value if subject is not None else "(made when first needed)"

    def get_readonly_fields(self, request, obj=None):
        fields = (*super().get_readonly_fields(request, obj), "subject", "second_factors")
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


class IdpUserAdmin(IdpUserAdminMixin, HttpsUrlsMixin, DjangoUserAdmin):
    """Django's user admin with idp's rules and the subject identifier, for Django's own user model."""

    list_display = (*DjangoUserAdmin.list_display, "subject")
    fieldsets = (*DjangoUserAdmin.fieldsets, ("OpenID Connect", {"fields": ("subject", "second_factors")}))


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
