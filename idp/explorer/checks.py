"""System check of the flow explorer's setting, ``IDP["FLOW_EXPLORER"]``."""

from __future__ import annotations

from django.core import checks

from ..conf import idp_settings
from .access import EVERYONE, STAFF


@checks.register(checks.Tags.security)
def check_flow_explorer_setting(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """``IDP["FLOW_EXPLORER"]`` is None, "staff", "everyone" or False: a typo must be seen, not guessed."""
    configured = idp_settings.FLOW_EXPLORER
    if (
        configured is None
        or configured is False
        or (isinstance(configured, str) and configured in (STAFF, EVERYONE))
    ):
        return []
    return [
        checks.Error(
            f"IDP['FLOW_EXPLORER'] must be None, 'staff', 'everyone' or False, not {configured!r}.",
            hint="Until it is fixed, the flow explorer at /developers/flows is open to signed-in staff only.",
            id="idp.E023",
        )
    ]
