"""Query filters of the user directory."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model


class UserFilter(django_filters.FilterSet):
    """Filters the directory by exact username, email (any case), active flag, or recent changes."""

    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = get_user_model()
        fields = ["username", "email", "is_active", "updated_since"]
