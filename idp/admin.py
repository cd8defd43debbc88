"""Operators' admin: people (with their ``sub``); DOT registers clients and tokens itself."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus the OpenID profile claims and the read-only subject identifier."""

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
