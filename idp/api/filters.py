"""Query filters of the user directory."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO allows."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:  # before year 1 or after 9999 once in UTC
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` with the value in UTC."""

    field_class = UtcIsoDateTimeField


class UserFilter(django_filters.FilterSet):
    """Filters the directory by exact username, email (any case), active flag, or recent changes.

    ``username`` is what people sign in with (the user model's ``USERNAME_FIELD``); a filter on a
    field the site's user model lacks (``updated_at``, say) matches nobody.
    """

    username = django_filters.CharFilter(method="filter_field", label="username")
    email = django_filters.CharFilter(method="filter_field", label="email")
    updated_since = UtcIsoDateTimeFilter(method="filter_field", label="updated since")

    class Meta:
        model = get_user_model()
        fields = ["is_active"]

    def filter_field(self, queryset, name, value):
        User = queryset.model
        field, lookup = {
            "username": (User.USERNAME_FIELD, "exact"),
            "email": (User.get_email_field_name(), "iexact"),
            "updated_since": ("updated_at", "gte"),
        }[name]
        if field not in {f.name for f in User._meta.get_fields()}:
            return queryset.none()
        return queryset.filter(**{f"{field}__{lookup}": value})
