"""Authentication context classes (``acr``): what each means in ``amr`` terms, and which one a token states.

- ``https://refeds.org/profile/sfa``: any single factor (REFEDS SFA profile).
- ``https://refeds.org/profile/mfa``: two factors of different kinds (``amr`` has ``mfa``; REFEDS MFA).
- ``phr``: phishing-resistant (OpenID EAP ACR Values 1.0): a WebAuthn credential, ``amr`` has ``hwk``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SFA = "https://refeds.org/profile/sfa"
MFA = "https://refeds.org/profile/mfa"
PHR = "phr"
# Weakest first: discovery's acr_values_supported, and the order "strongest" is read in.
ACR_VALUES = (SFA, MFA, PHR)

# RFC 8176 values by kind of factor: two kinds together make "mfa".
KNOWLEDGE = frozenset({"pwd", "pin"})
POSSESSION = frozenset({"otp", "hwk", "swk", "sms", "tel"})
INHERENCE = frozenset({"fpt", "face", "iris", "retina", "vbm"})


def with_mfa(methods: Iterable[str]) -> list[str]:
    """``methods`` without duplicates, plus ``mfa`` when factors of two kinds are among them."""
    values = [method for method in dict.fromkeys(methods) if method != "mfa"]
    kinds = sum(1 for kind in (KNOWLEDGE, POSSESSION, INHERENCE) if kind & set(values))
    return [*values, "mfa"] if kinds >= 2 else values


def satisfied(amr: Iterable[str]) -> list[str]:
    """The acr values a session signed in with ``amr`` satisfies, weakest first."""
    methods = set(amr)
    if not methods:
        return []
    values = [SFA]
    if "mfa" in methods:
        values.append(MFA)
    if "hwk" in methods:
        values.append(PHR)
    return values


def requested_acr(*, acr_values: str | None, claims_request: Any) -> tuple[list[str], bool]:
    """The acr values a request asks for (``acr_values``, or the claims request's ``id_token.acr``),
    and whether they are essential (only the claims request can say so; OIDC Core 5.5.1.1)."""
    member = claims_request.get("id_token") if isinstance(claims_request, dict) else None
    query = member.get("acr") if isinstance(member, dict) else None
    if isinstance(query, dict):
        values = query.get("values") if "values" in query else [query.get("value")]
        # From a forged consent form as well: only a list of strings is a list of acr values.
        values = [value for value in values if isinstance(value, str)] if isinstance(values, list) else []
        if values:
            return values, query.get("essential") is True
    return (acr_values or "").split(), False


def acr_for(amr: Iterable[str], *, requested: Iterable[str] = ()) -> str | None:
    """The ID token's ``acr``: the strongest requested value ``amr`` satisfies, else the strongest it does."""
    reached = satisfied(amr)
    wanted = [value for value in reached if value in set(requested)]
    chosen = wanted or reached
    return chosen[-1] if chosen else None


def unmet(amr: Iterable[str], *, requested: Iterable[str]) -> list[str]:
    """The known acr values asked for when ``amr`` satisfies none of them (a step-up could); else []."""
    known = [value for value in requested if value in ACR_VALUES]
    if not known or set(known) & set(satisfied(amr)):
        return []
    return known
