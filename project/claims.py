"""This site's claims source: the rich OpenID profile its own user model keeps (idp reads it through here)."""

from __future__ import annotations

from idp.claims import ClaimsSource


class ProfileClaims(ClaimsSource):
    """Every standard claim of OIDC Core 5.1, from the profile fields of this site's user model.

    Claims without a method here (middle_name, nickname, picture ...) are the fields of that name.
    """

    claims = (
        "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "picture",
        "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at", "email", "email_verified",
        "address", "phone_number", "phone_number_verified",
    )  # fmt: skip

    def claim_preferred_username(self, user) -> str:
        return user.get_username()

    def claim_email_verified(self, user) -> bool | None:
        return bool(user.email_verified) if user.email else None

    def claim_phone_number_verified(self, user) -> bool | None:
        return bool(user.phone_number_verified) if user.phone_number else None

    def claim_updated_at(self, user) -> int | None:
        return int(user.updated_at.timestamp()) if user.updated_at else None

    def claim_birthdate(self, user) -> str | None:
        return user.birthdate.isoformat() if user.birthdate else None

    def claim_address(self, user) -> dict[str, str] | None:
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
        locality = " ".join(filter(None, [user.postal_code, user.locality]))
        lines = [user.street_address, locality, user.region, user.country]
        return {"formatted": "\n".join(line for line in lines if line), **parts}
