"""What several admins share: changes named as the operator's, https for typed URLs, a person filter,
read-only pages."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from ..accounts import changes_by

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


class HttpsUrlsMixin:
    """A URL typed without a scheme is taken as https.

    The admin builds its forms with ``formfield_for_dbfield`` as the callback, which replaces the
    form class's own ``Meta.formfield_callback`` (``idp.forms.https_url_formfield``): so the admin
    needs the rule too.
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ReadOnlyAdminMixin:
    """Rows are listed and viewed, never added, changed or deleted through the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
