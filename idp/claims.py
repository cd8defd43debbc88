"""The scope -> claims catalogue (OIDC Core 5.4), and the replaceable source of a person's claims."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .conf import idp_settings

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


class ClaimsSource:
    """Where a person's standard claims come from: a plain Django user model, read as it is.

    Subclass it and name the subclass in ``IDP["CLAIMS_SOURCE"]`` (as DOT's
    ``OAUTH2_VALIDATOR_CLASS``): list the claims it can back in ``claims`` and give each a method
    ``claim_<name>(user)`` (or none, where the user has an attribute of that name). Only the listed
    claims are released and advertised (``claims_supported``); a value of None or "" is left out.
    ``email_verified`` is never released here: only a source that knows an address was verified may
    say so.
    """

    @functools.cached_property
    def claims(self) -> tuple[str, ...]:
        """What the site's user model has: first and last name, username and email, where present."""
        User = get_user_model()
        fields = {field.name for field in User._meta.get_fields()}
        names = []
        if {"first_name", "last_name"} <= fields:
            names.append("name")
        names += [claim for claim, field in _PLAIN_FIELDS.items() if field in fields]
        if User.get_email_field_name() in fields:
            names.append("email")
        return tuple(names)

    def values(self, user, names: Iterable[str]) -> dict[str, Any]:
        """The named claims about ``user`` this source backs and that have a value."""
        backed = set(self.claims)
        values = {name: self.value(user, name) for name in dict.fromkeys(names) if name in backed}
        return {name: value for name, value in values.items() if value not in (None, "")}

    def value(self, user, claim: str) -> Any:
        """``claim_<claim>(user)``, else the user's attribute of that name, else None."""
        method = getattr(self, f"claim_{claim}", None)
        return method(user) if method is not None else getattr(user, claim, None)

    def claim_name(self, user) -> str | None:
        return user.get_full_name()

    def claim_given_name(self, user) -> str | None:
        return user.first_name

    def claim_family_name(self, user) -> str | None:
        return user.last_name

    def claim_preferred_username(self, user) -> str | None:
        return user.username

    def claim_email(self, user) -> str | None:
        return getattr(user, get_user_model().get_email_field_name())


# Claims the default source reads straight from a model field of the same meaning.
_PLAIN_FIELDS = {"given_name": "first_name", "family_name": "last_name", "preferred_username": "username"}


@functools.cache
def _source(path: str) -> ClaimsSource:
    return import_string(path)()


def claims_source() -> ClaimsSource:
    """The configured claims source (``IDP["CLAIMS_SOURCE"]``), made once per class."""
    return _source(idp_settings.CLAIMS_SOURCE)


def supported_claims() -> list[str]:
    """Every claim some scope can release and the claims source backs, for ``claims_supported``."""
    backed = {"sub", *claims_source().claims}
    seen: dict[str, None] = {}
    for spec in SCOPES.values():
        seen.update(dict.fromkeys(claim for claim in spec["claims"] if claim in backed))
    return list(seen)


def claim_names_for(scopes: Iterable[str]) -> list[str]:
    """The claims the given scopes release, in catalogue order."""
    granted = set(scopes)
    return [claim for scope, spec in SCOPES.items() if scope in granted for claim in spec["claims"]]


def claim_values(user, names: Iterable[str]) -> dict[str, Any]:
    """The named claims about ``user`` that the claims source backs, leaving out those with no value.

    ``sub`` is not among them: it depends on the client (``idp.subjects.sub_for``).
    """
    return claims_source().values(user, (name for name in names if name != "sub"))


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
