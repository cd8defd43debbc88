"""The scope -> claims catalogue."""

import pytest

from idp.claims import claim_names_for, claims_for, supported_claims

pytestmark = pytest.mark.django_db


def test_each_scope_releases_its_oidc_core_claims():
    assert claim_names_for(["openid"]) == ["sub"]
    assert {"email", "email_verified"} == set(claim_names_for(["email"]))
    assert claim_names_for(["address"]) == ["address"]
    assert {"phone_number", "phone_number_verified"} == set(claim_names_for(["phone"]))
    assert {"name", "given_name", "family_name", "preferred_username", "updated_at"} <= set(
        claim_names_for(["profile"])
    )
    assert claim_names_for(["offline_access"]) == []


def test_claims_for_omits_empty_values(user):
    user.phone_number = ""
    claims = claims_for(user, scopes=["openid", "phone", "email"])
    assert "phone_number" not in claims and "phone_number_verified" not in claims
    assert claims["email"] == "alice@example.com"


def test_address_is_a_structured_claim(user):
    address = claims_for(user, scopes=["address"])["address"]
    assert address["locality"] == "Oxford"
    assert "Oxford" in address["formatted"]


def test_supported_claims_lists_every_catalogue_claim_once():
    claims = supported_claims()
    assert len(claims) == len(set(claims))
    assert "sub" in claims and "address" in claims
