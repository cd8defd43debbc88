"""The scope -> claims catalogue."""

import pytest

from idp.claims import ClaimsSource, claim_names_for, claims_for, supported_claims

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


DEFAULT_SOURCE_CLAIMS = {"sub", "name", "given_name", "family_name", "preferred_username", "email"}


@pytest.fixture
def default_source(settings):
    settings.IDP = {**settings.IDP, "CLAIMS_SOURCE": "idp.claims.ClaimsSource"}


class VerifiedEmailClaims(ClaimsSource):
    """A site that checks every address it stores."""

    claims = ("email", "email_verified")

    def claim_email_verified(self, user) -> bool:
        return True


def test_the_default_source_releases_only_what_a_plain_user_model_has(default_source, client, tokens, user):
    user.email_verified = True
    user.save()
    body = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
    assert set(body) == DEFAULT_SOURCE_CLAIMS  # no email_verified, phone, address or updated_at
    assert body["name"] == "Alice Liddell" and body["preferred_username"] == "alice"


def test_discovery_advertises_the_claims_the_configured_source_backs(default_source, client):
    from idp.discovery import ID_TOKEN_CLAIMS

    doc = client.get("/.well-known/openid-configuration").json()
    assert set(doc["claims_supported"]) == DEFAULT_SOURCE_CLAIMS | set(ID_TOKEN_CLAIMS)


def test_a_site_source_may_say_an_email_is_verified(settings, client, tokens):
    settings.IDP = {**settings.IDP, "CLAIMS_SOURCE": f"{__name__}.VerifiedEmailClaims"}
    body = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
    assert body == {"sub": body["sub"], "email": "alice@example.com", "email_verified": True}
    doc = client.get("/.well-known/openid-configuration").json()
    assert {"email", "email_verified"} <= set(doc["claims_supported"]) and "name" not in doc[
        "claims_supported"
    ]
