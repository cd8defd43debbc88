"""System checks of the second-factor settings."""

from __future__ import annotations

from django.core import checks

from ..conf import idp_settings
from .stepup import POLICIES


@checks.register(checks.Tags.security)
def check_second_factor_policy(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """``IDP["REQUIRE_SECOND_FACTOR"]`` is None, "staff" or "all": a typo must not silently mean "nobody"."""
    policy = idp_settings.REQUIRE_SECOND_FACTOR
    if policy in POLICIES:
        return []
    return [
        checks.Error(
            f"IDP['REQUIRE_SECOND_FACTOR'] must be None, 'staff' or 'all', not {policy!r}.",
            hint="Until it is fixed, no one is required to give a second factor.",
            id="idp.E020",
        )
    ]
