"""Clients by kind: their kinds (kinds), the rules for their settings (validation), and the one
lifecycle that creates, changes, disables and re-keys them (lifecycle), which the admin, the
``idp_client`` command and the declarative import all call."""

from .kinds import KINDS, KindSetup, kind_setup
from .lifecycle import (
    PLAIN_FIELDS,
    apply_kind,
    create_client,
    generate_client_secret,
    previous_secret_matches,
    rotate_client_secret,
    set_client_active,
    update_client,
)
from .validation import (
    KIND_SETTINGS,
    clean_access_token_lifetime,
    clean_allowed_origins,
    clean_allowed_scopes,
    clean_client_settings,
    clean_grace_period,
    clean_redirect_uris,
    redirect_uri_problem,
    split_values,
)

__all__ = [
    "KINDS",
    "KIND_SETTINGS",
    "PLAIN_FIELDS",
    "KindSetup",
    "apply_kind",
    "clean_access_token_lifetime",
    "clean_allowed_origins",
    "clean_allowed_scopes",
    "clean_client_settings",
    "clean_grace_period",
    "clean_redirect_uris",
    "create_client",
    "generate_client_secret",
    "kind_setup",
    "previous_secret_matches",
    "redirect_uri_problem",
    "rotate_client_secret",
    "set_client_active",
    "split_values",
    "update_client",
]
