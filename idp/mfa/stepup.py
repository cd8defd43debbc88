"""Step-up: whether this session is strong enough for an authorization request, and what to ask if not."""

from __future__ import annotations

import enum
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.urls import reverse
from oauthlib.oauth2.rfc6749 import errors

from ..conf import idp_settings
from ..sessions import authentication_methods
from . import acr
from .factors import FACTOR_KINDS, has_second_factor

# IDP["REQUIRE_SECOND_FACTOR"] values: nobody (None), staff members, everyone.
POLICIES = (None, "staff", "all")


class StepUp(enum.Enum):
    """What the person must do before a code is issued (the values describe it)."""

    VERIFY = "Give a second factor."
    ENROLL = "Add a second factor first."
    UNMET = "The requested authentication context cannot be met."


def with_acr_values(claims_request: Any, *, acr_values: str | None) -> Any:
    """The claims request with ``acr_values`` as a voluntary ``id_token.acr`` request (OIDC Core
    3.1.2.1 defines them so), unless it names ``acr`` itself; only the values this provider knows.

    Carried with the code and the refresh token, it is how the ID token learns what was asked.
    """
    known = [value for value in (acr_values or "").split() if value in acr.ACR_VALUES]
    if not known:
        return claims_request
    claims = dict(claims_request) if isinstance(claims_request, dict) else {}
    id_token = claims.get("id_token") if isinstance(claims.get("id_token"), dict) else {}
    if "acr" in id_token:
        return claims_request
    claims["id_token"] = {**id_token, "acr": {"values": known}}
    return claims


def second_factor_required(user, *, client) -> bool:
    """The client's policy, or ``IDP["REQUIRE_SECOND_FACTOR"]`` ("all", or "staff" for staff members)."""
    policy = idp_settings.REQUIRE_SECOND_FACTOR
    return (
        bool(getattr(client, "require_second_factor", False))
        or policy == "all"
        or (policy == "staff" and bool(getattr(user, "is_staff", False)))
    )


def _holds(user, kind_name: str) -> bool:
    return any(kind.held_by(user) for kind in FACTOR_KINDS if kind.name == kind_name)


def step_up_for(request, *, client, claims_request: Any) -> StepUp | None:
    """What this signed-in session lacks for the request: None when it is enough (no query then).

    A second factor is wanted when the client or the site requires one, or when the requested acr
    values (``acr_values`` or the claims request's ``id_token.acr``) are known here and the session
    satisfies none of them. A person without a factor enrolls first. ``phr`` needs a passkey; a
    person without one gets what the session has (voluntary) or ``UNMET`` (essential).
    """
    amr = authentication_methods(request)
    requested, essential = acr.requested_acr(acr_values=None, claims_request=claims_request)
    wanted = acr.unmet(amr, requested=requested)
    if not wanted and second_factor_required(request.user, client=client) and "mfa" not in amr:
        wanted = [acr.MFA]
    if not wanted:
        return None
    user = request.user
    if acr.MFA in wanted or acr.SFA in wanted:
        return StepUp.VERIFY if has_second_factor(user) else StepUp.ENROLL
    if _holds(user, "passkey"):
        return StepUp.VERIFY
    return StepUp.UNMET if essential else None


def step_up_error(needed: StepUp, *, prompt: set[str]) -> errors.OAuth2Error | None:
    """The error for the client when no page may be shown: ``prompt=none`` answers
    ``interaction_required`` (OIDC Core 3.1.2.6); an essential acr that cannot be met,
    ``unmet_authentication_requirements`` (OpenID Connect Core Error Code 1.0). Else None."""
    if needed is StepUp.UNMET:
        return errors.CustomOAuth2Error(error="unmet_authentication_requirements", description=needed.value)
    if "none" in prompt:
        return errors.CustomOAuth2Error(error="interaction_required", description=needed.value)
    return None


def consent_step_up_error(request, *, client, claims_request: Any) -> errors.OAuth2Error | None:
    """``interaction_required`` when the session answering a consent page is weaker than the request
    needs, else None: the page is shown only to a strong enough session, so the form is forged or stale."""
    if step_up_for(request, client=client, claims_request=claims_request) is None:
        return None
    return step_up_error(StepUp.VERIFY, prompt={"none"})


def step_up_url(needed: StepUp, *, next_url: str) -> str:
    """The page that gives the session what it lacks (the second step, or enrollment), then ``next_url``."""
    page = "idp:login-verify" if needed is StepUp.VERIFY else "idp:account-security"
    return f"{reverse(page)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
