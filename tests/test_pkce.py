"""idp.pkce: one PKCE policy for the authorization endpoint, the save-time check and the token check."""

import pytest

from idp.models import Grant
from idp.pkce import code_verifier_problem, downgrade_problem, pkce_problem, pkce_required
from tests.conftest import authorize_params, consent_form_data, pkce_pair, query_of
from tests.factories import ApplicationFactory, PublicClientFactory

CHALLENGE = pkce_pair()[1]
S256 = {"code_challenge": CHALLENGE, "code_challenge_method": "S256"}
NO_PKCE = {"code_challenge": None, "code_challenge_method": None}
OPENID = {"nonce": "n-0S6_WzA2Mj", "scopes": ["openid", "profile"]}

web = ApplicationFactory.build()
nonce_allowed = ApplicationFactory.build(allow_nonce_instead_of_pkce=True)
public_nonce_allowed = PublicClientFactory.build(allow_nonce_instead_of_pkce=True)


def test_pkce_is_required_of_every_client_but_an_allowed_confidential_one():
    assert pkce_required(web) and pkce_required(public_nonce_allowed) and pkce_required(None)
    assert not pkce_required(nonce_allowed)


@pytest.mark.parametrize("client", [web, nonce_allowed, public_nonce_allowed])
def test_s256_with_a_well_formed_challenge_is_fine_for_every_client(client):
    assert pkce_problem(client, **S256, **OPENID) is None
    assert pkce_problem(client, **S256, nonce=None, scopes=["profile"]) is None


@pytest.mark.parametrize("method", ["plain", None, "s256", "S512"])
def test_only_s256_is_accepted(method):
    problem = pkce_problem(web, code_challenge=CHALLENGE, code_challenge_method=method, **OPENID)
    assert problem == "PKCE is required, with code_challenge_method=S256 (plain is not accepted)."


@pytest.mark.parametrize("challenge", ["", "a" * 42, "a" * 129, CHALLENGE[:-1] + "=", CHALLENGE + "\n"])
def test_a_challenge_is_43_to_128_unreserved_characters(challenge):
    problem = pkce_problem(web, code_challenge=challenge, code_challenge_method="S256", **OPENID)
    assert problem == "code_challenge must be 43-128 unreserved characters."


def test_without_pkce_a_client_must_be_allowed_a_nonce_instead():
    assert pkce_problem(web, **NO_PKCE, **OPENID) is not None
    assert pkce_problem(public_nonce_allowed, **NO_PKCE, **OPENID) is not None
    assert pkce_problem(nonce_allowed, **NO_PKCE, **OPENID) is None


@pytest.mark.parametrize("missing", [{"nonce": None}, {"nonce": ""}, {"scopes": ["profile"]}])
def test_the_nonce_replaces_pkce_only_in_an_openid_request_that_has_one(missing):
    assert pkce_problem(nonce_allowed, **NO_PKCE, **{**OPENID, **missing}) is not None


def test_an_allowed_client_that_sends_a_challenge_is_held_to_it():
    problem = pkce_problem(nonce_allowed, code_challenge=CHALLENGE, code_challenge_method="plain", **OPENID)
    assert problem is not None


@pytest.mark.parametrize("verifier", [None, pkce_pair()[0], "a" * 43, "~._-" * 32])
def test_a_well_formed_or_absent_code_verifier_is_fine(verifier):
    assert code_verifier_problem(verifier) is None


@pytest.mark.parametrize("verifier", ["", "a" * 42, "a" * 129, "a" * 42 + "+", "a" * 43 + "\n", ["a" * 43]])
def test_a_malformed_code_verifier_is_a_problem(verifier):
    assert code_verifier_problem(verifier).startswith("code_verifier must be 43 to 128 characters")


def test_a_verifier_for_a_code_without_a_challenge_is_a_downgrade():
    assert downgrade_problem("", code_verifier=pkce_pair()[0]) is not None
    assert downgrade_problem("", code_verifier="") is not None
    assert downgrade_problem("", code_verifier=None) is None
    assert downgrade_problem(CHALLENGE, code_verifier=pkce_pair()[0]) is None


@pytest.mark.django_db
def test_the_save_time_check_holds_a_tampered_consent_form_to_the_same_policy(logged_in):
    """The consent form's hidden fields come back from the browser: dropping the nonce that stood in
    for PKCE is refused when the code is saved, as the endpoint refused it when the request came."""
    app = ApplicationFactory(client_id="conformance", allow_nonce_instead_of_pkce=True)
    params = authorize_params(app, challenge="unused", code_challenge=None, code_challenge_method=None)
    page = logged_in.get("/authorize", params)
    assert page.status_code == 200
    form = {key: value for key, value in consent_form_data(page).items() if key != "nonce"}
    response = logged_in.post("/authorize", {**form, "allow": "1"})
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"
    assert not Grant.objects.exists()
