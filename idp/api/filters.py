"""Query filters of the user directory."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model


class UserFilter(django_filters.FilterSet):
    """Filters the directory by exact username, email (any case), active flag, or recent changes.

    ``username`` is what people sign in with (the user model's ``USERNAME_FIELD``); a filter on a
    field the site's user model lacks (``updated_at``, say) matches nobody.
    """

    username = django_filters.CharFilter(method="filter_field", label="username")
    email = django_filters.CharFilter(method="filter_field", label="email")
    updated_since = django_filters.IsoDateTimeFilter(method="filter_field", label="updated since")

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
