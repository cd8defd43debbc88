"""This site's user admin: Django's, with idp's rules and ``sub``, plus the profile the claims come from."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from idp.admin import HttpsUrlsMixin, IdpUserAdminMixin

from .models import User


@admin.register(User)
class UserAdmin(IdpUserAdminMixin, HttpsUrlsMixin, DjangoUserAdmin):
    """People, with the OpenID profile claims and the read-only subject identifier."""

    readonly_fields = ("updated_at", "last_login", "date_joined")
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "subject")
    search_fields = ("username", "email", "first_name", "last_name", "idp_subject__value")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("OpenID Connect", {"fields": ("subject", "second_factors", "email_verified", "updated_at")}),
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
