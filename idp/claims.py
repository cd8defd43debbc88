"""The scope -> claims catalogue (OIDC Core 5.4), used by ID tokens, userinfo, consent and discovery."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

# What a person is told each scope lets a client see, and which claims it releases.
SCOPES: dict[str, dict[str, Any]] = {
    "openid": {
        "description": _("Sign you in with your account identifier"),
        "claims": ("sub",),
    },
    "profile": {
        "description": _("Your name and basic profile"),
        "claims": (
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ),
    },
    "email": {
        "description": _("Your email address"),
        "claims": ("email", "email_verified"),
    },
    "address": {
        "description": _("Your postal address"),
        "claims": ("address",),
    },
    "phone": {
        "description": _("Your phone number"),
        "claims": ("phone_number", "phone_number_verified"),
    },
    "offline_access": {
        "description": _("Keep access while you are away"),
        "claims": (),
    },
    # Resource API scopes (idp.api): they release no claims.
    "consents:manage": {
        "description": _("See the apps connected to your account and disconnect them"),
        "claims": (),
    },
    "users:read": {
        "description": _("Read the directory of user accounts (services only)"),
        "claims": (),
    },
}

# The OpenID Connect scopes: what a client that signs people in may ask for unless told otherwise.
OPENID_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "offline_access"})
# Scopes that act on behalf of a person; a client-credentials token never carries them.
USER_SCOPES = OPENID_SCOPES | {"consents:manage"}
# Scopes only a service (client credentials, no person) may obtain.
SERVICE_SCOPES = frozenset({"users:read"})


def supported_claims() -> list[str]:
    """Every claim some scope can release, for ``claims_supported``."""
    seen: dict[str, None] = {}
    for spec in SCOPES.values():
        seen.update(dict.fromkeys(spec["claims"]))
    return list(seen)


def claim_names_for(scopes: Iterable[str]) -> list[str]:
    """The claims the given scopes release, in catalogue order."""
    granted = set(scopes)
    return [claim for scope, spec in SCOPES.items() if scope in granted for claim in spec["claims"]]


def _address(user) -> dict[str, str] | None:
    parts = {
        "street_address": user.street_address,
        "locality": user.locality,
        "region": user.region,
        "postal_code": user.postal_code,
        "country": user.country,
    }
    parts = {key: value for key, value in parts.items() if value}
    if not parts:
        return None
    lines = [user.street_address, " ".join(filter(None, [user.postal_code, user.locality])), user.region]
    lines.append(user.country)
    return {"formatted": "\n".join(line for line in lines if line), **parts}


def _claim_value(user, claim: str) -> Any:
    match claim:
        case "sub":
            return None  # a client's own value: idp.subjects.sub_for, added by the caller
        case "name":
            return user.get_full_name() or None
        case "given_name":
            return user.first_name or None
        case "family_name":
            return user.last_name or None
        case "preferred_username":
            return user.get_username()
        case "updated_at":
            return int(user.updated_at.timestamp()) if user.updated_at else None
        case "birthdate":
            return user.birthdate.isoformat() if user.birthdate else None
        case "email":
            return user.email or None
        case "email_verified":
            return bool(user.email_verified) if user.email else None
        case "phone_number_verified":
            return bool(user.phone_number_verified) if user.phone_number else None
        case "address":
            return _address(user)
        case _:
            return getattr(user, claim, None) or None


def claim_values(user, names: Iterable[str]) -> dict[str, Any]:
    """The named claims about ``user``, leaving out those with no value."""
    values = {claim: _claim_value(user, claim) for claim in dict.fromkeys(names)}
    return {claim: value for claim, value in values.items() if value is not None}


def claims_for(user, *, scopes: Iterable[str]) -> dict[str, Any]:
    """The claims about ``user`` that ``scopes`` release, leaving out those with no value."""
    return claim_values(user, claim_names_for(scopes))


def userinfo_claims(user, *, client, scopes: Iterable[str], claims_request: Any) -> dict[str, Any]:
    """``sub`` as ``client`` sees it, the claims the token's scopes release, and those the RP asked for
    by name at consent (Core 5.5)."""
    from .subjects import sub_for

    claims = {"sub": sub_for(user, client), **claims_for(user, scopes=scopes)}
    claims.update(claim_values(user, requested_claims(claims_request, targets=("userinfo",))))
    return claims


def requested_claims(claims_request: Any, *, targets: Iterable[str] = ("userinfo", "id_token")) -> list[str]:
    """Known claims that the OIDC ``claims`` request parameter (Core 5.5) names under ``targets``."""
    if not isinstance(claims_request, dict):
        return []
    known = set(supported_claims()) - {"sub"}
    names: dict[str, None] = {}
    for target in targets:
        member = claims_request.get(target)
        if isinstance(member, dict):
            names.update(dict.fromkeys(name for name in member if name in known))
    return list(names)
