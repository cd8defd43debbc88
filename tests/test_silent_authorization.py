"""A remembered approval issues its code without a second validation: the same code as the consent page's."""

import json
import re

import pytest
from django.forms.models import model_to_dict

from idp.models import Grant
from tests.conftest import ISSUER, authorize, authorize_params, exchange, pkce_pair, query_of, verify_id_token
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

API = "https://api.example.com"
CLAIMS = json.dumps({"id_token": {"email": None}})
# Every parameter the code stores: offline_access (dropped without prompt=consent), a nonce,
# claims, a resource, state and PKCE.
PARAMS = {"scope": "openid profile email offline_access", "claims": CLAIMS, "resource": API, "max_age": "600"}


def grant_row(code: str) -> dict:
    row = model_to_dict(Grant.objects.get(code=code), exclude=["id", "code", "code_challenge", "expires"])
    row["challenge_length"] = len(Grant.objects.get(code=code).code_challenge)
    return row


def test_a_silent_code_stores_what_the_consent_pages_code_stores(logged_in, web_client):
    from_page = authorize(logged_in, web_client, **PARAMS)  # the page, approved by the person
    _verifier, challenge = pkce_pair()
    silent = logged_in.get("/authorize", authorize_params(web_client, challenge=challenge, **PARAMS))
    assert silent.status_code == 302 and "form" not in (silent.context or {})  # no page this time
    answer = query_of(silent["Location"])
    assert answer["state"] == "xyz-state" and answer["iss"] == ISSUER
    assert grant_row(answer["code"]) == grant_row(from_page.code)
    stored = Grant.objects.get(code=answer["code"])
    assert stored.scope == "openid profile email" and stored.nonce == "n-0S6_WzA2Mj"
    assert stored.resource == [API] and json.loads(stored.claims) == json.loads(CLAIMS)
    assert stored.code_challenge == challenge and stored.code_challenge_method == "S256"
    assert stored.auth_time is not None and stored.amr == "pwd"


def test_a_silent_code_exchanges_for_tokens_with_its_nonce_and_sign_in(logged_in, web_client, user):
    authorize(logged_in, web_client, **PARAMS)
    authz = authorize(logged_in, web_client, **PARAMS)  # silent now: authorize() asserts a code
    body = exchange(logged_in, web_client, authz).json()
    claims = verify_id_token(logged_in, body["id_token"])
    assert claims["nonce"] == "n-0S6_WzA2Mj" and claims["amr"] == ["pwd"] and claims["auth_time"] > 0
    assert claims["email"] == user.email  # the claims parameter asked for it in the ID token
    assert "refresh_token" not in body and body["scope"] == "openid profile email"


def test_a_silent_answer_for_a_plain_oauth_request_has_no_openid_parts(logged_in, web_client):
    params = {"scope": "profile", "nonce": None}
    authorize(logged_in, web_client, **params)
    authz = authorize(logged_in, web_client, **params)
    body = exchange(logged_in, web_client, authz).json()
    assert "id_token" not in body and body["scope"] == "profile"


def test_every_way_of_approving_issues_codes_of_one_kind(logged_in, web_client):
    """One issuer and one generator: the consent page's POST, a remembered consent and a first-party
    client each give a code of 43 URL-safe characters (256 random bits)."""
    from_page = authorize(logged_in, web_client).code  # the page, approved by the person
    remembered = authorize(logged_in, web_client).code  # silent now
    first_party = ApplicationFactory(client_id="first-party", skip_authorization=True)
    response = logged_in.get("/authorize", authorize_params(first_party, challenge=pkce_pair()[1]))
    assert response.status_code == 302 and "form" not in (response.context or {})
    codes = [from_page, remembered, query_of(response["Location"])["code"]]
    assert [len(code) for code in codes] == [43, 43, 43]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", code) for code in codes)
