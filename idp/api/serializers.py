"""Serializers of the API's resources: the person, their connected apps, the user directory, errors."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from ..models import Consent


class SpaceSeparatedListField(serializers.ListField):
    """A space-separated string of the model (scopes, claims) shown as a list of strings."""

    child = serializers.CharField()

    def to_representation(self, data):
        return data.split()


class AddressSerializer(serializers.Serializer):
    """The OIDC ``address`` claim (Core 5.1.1)."""

    formatted = serializers.CharField(required=False)
    street_address = serializers.CharField(required=False)
    locality = serializers.CharField(required=False)
    region = serializers.CharField(required=False)
    postal_code = serializers.CharField(required=False)
    country = serializers.CharField(required=False)


class MeSerializer(serializers.Serializer):
    """The token's person: ``sub`` and the OIDC claims the token's scopes release (empty ones left out)."""

    sub = serializers.CharField()
    name = serializers.CharField(required=False)
    given_name = serializers.CharField(required=False)
    family_name = serializers.CharField(required=False)
    middle_name = serializers.CharField(required=False)
    nickname = serializers.CharField(required=False)
    preferred_username = serializers.CharField(required=False)
    picture = serializers.CharField(required=False)
    website = serializers.CharField(required=False)
    gender = serializers.CharField(required=False)
    birthdate = serializers.CharField(required=False, help_text="YYYY-MM-DD")
    zoneinfo = serializers.CharField(required=False)
    locale = serializers.CharField(required=False)
    updated_at = serializers.IntegerField(required=False, help_text="Seconds since the epoch.")
    email = serializers.CharField(required=False)
    email_verified = serializers.BooleanField(required=False)
    address = AddressSerializer(required=False)
    phone_number = serializers.CharField(required=False)
    phone_number_verified = serializers.BooleanField(required=False)


class ConsentSerializer(serializers.ModelSerializer):
    """An app the person connected to their account, and what they allowed it."""

    client_id = serializers.CharField(source="application.client_id")
    client_name = serializers.CharField(source="application.name")
    client_uri = serializers.CharField(source="application.client_uri")
    logo_uri = serializers.CharField(source="application.logo_uri")
    scopes = SpaceSeparatedListField()
    claims = SpaceSeparatedListField()

    class Meta:
        model = Consent
        fields = [
            "client_id",
            "client_name",
            "client_uri",
            "logo_uri",
            "scopes",
            "claims",
            "created",
            "updated",
        ]
        read_only_fields = fields


def _has_fields(*names: str) -> bool:
    present = {field.name for field in get_user_model()._meta.get_fields()}
    return all(name in present for name in names)


# The directory's members, in order, each shown where the site's user model has what it needs.
_DIRECTORY = {
    "sub": (),
    "username": (),
    "name": ("first_name", "last_name"),
    "given_name": ("first_name",),
    "family_name": ("last_name",),
    "email": ("email",),
    "email_verified": ("email_verified",),
    "is_active": ("is_active",),
    "date_joined": ("date_joined",),
    "updated_at": ("updated_at",),
}


_DECLARED = {"sub", "username", "name", "given_name", "family_name"}


class UserSerializer(serializers.ModelSerializer):
    """A user account as the directory shows it to services (what the site's user model has of it)."""

    sub = serializers.SerializerMethodField(help_text="The subject identifier this client sees.")
    username = serializers.CharField(source="get_username", help_text="What the person signs in with.")
    given_name = serializers.CharField(source="first_name")
    family_name = serializers.CharField(source="last_name")
    name = serializers.CharField(source="get_full_name")

    class Meta:
        model = get_user_model()
        # Declared above, or a field of the model (get_fields drops what the model cannot back).
        fields = [name for name, needs in _DIRECTORY.items() if name in _DECLARED or _has_fields(*needs)]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        for name, needs in _DIRECTORY.items():
            if not _has_fields(*needs):
                fields.pop(name, None)
        return fields

    def get_sub(self, user) -> str:
        from ..subjects import sub_for

        return sub_for(user, self.context["request"].auth.application)


class ErrorSerializer(serializers.Serializer):
    """Every error: an OAuth-style code, a description for developers, and details where there are."""

    error = serializers.CharField()
    error_description = serializers.CharField()
    scope = serializers.CharField(
        required=False, help_text="insufficient_scope: the scope the request needs."
    )
    invalid_params = serializers.DictField(
        required=False, help_text="invalid_request: what is wrong with each query parameter."
    )
