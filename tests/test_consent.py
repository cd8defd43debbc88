"""The consent decision is ours alone: no request parameter and no DOT shortcut issues a code past it."""

import json

import pytest

from idp.consent import Outcome, decide, record_consent
from idp.models import Consent
from tests.conftest import ISSUER, authorize_params, pkce_pair, query_of
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

PHONE = json.dumps({"userinfo": {"phone_number": None}})


def ask(client, app, **extra):
    return client.get("/authorize", authorize_params(app, challenge=pkce_pair()[1], **extra))


def test_approval_prompt_auto_with_a_live_token_still_asks_for_new_claims(logged_in, tokens, web_client):
    response = ask(logged_in, web_client, approval_prompt="auto", claims=PHONE)
    assert response.status_code == 200 and "Location" not in response
    assert [item.name for item in response.context["new_claim_items"]] == ["phone_number"]


def test_approval_prompt_auto_with_a_live_token_still_honours_prompt_consent(logged_in, tokens, web_client):
    response = ask(logged_in, web_client, approval_prompt="auto", prompt="consent")
    assert response.status_code == 200 and "Location" not in response
    assert response.context["consent_marker"]


def test_approval_prompt_auto_with_prompt_none_is_consent_required(logged_in, tokens, web_client):
    response = ask(logged_in, web_client, approval_prompt="auto", prompt="none", claims=PHONE)
    assert response.status_code == 302
    assert query_of(response["Location"]) == {
        "error": "consent_required",
        "state": "xyz-state",
        "iss": ISSUER,
    }


def test_approval_prompt_auto_changes_nothing_when_consent_covers_the_request(logged_in, tokens, web_client):
    response = ask(logged_in, web_client, approval_prompt="auto")
    assert response.status_code == 302 and "code" in query_of(response["Location"])


@pytest.fixture
def first_party(db):
    return ApplicationFactory(client_id="first-party", skip_authorization=True)


def test_first_party_client_gets_a_code_without_a_page_and_without_stored_consent(logged_in, first_party):
    response = ask(logged_in, first_party, claims=PHONE)
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert "code" in query and query["state"] == "xyz-state" and query["iss"] == ISSUER
    assert not Consent.objects.exists()


def test_first_party_client_answers_prompt_none_silently(logged_in, first_party):
    response = ask(logged_in, first_party, prompt="none")
    assert response.status_code == 302 and "code" in query_of(response["Location"])


def test_first_party_client_still_shows_the_page_for_prompt_consent(logged_in, first_party):
    response = ask(logged_in, first_party, prompt="consent", scope="openid offline_access")
    assert response.status_code == 200 and "Location" not in response
    assert [item.name for item in response.context["new_scope_items"]] == ["openid", "offline_access"]


# --- idp.consent.decide, the one decision ------------------------------------------------------


def decision_for(user, app, scopes="openid profile", *, claims=(), prompt=""):
    return decide(user, app, scopes=scopes.split(), claims=claims, prompt=prompt.split())


def test_decide_shows_the_page_for_what_was_never_allowed(user, web_client):
    decision = decision_for(user, web_client)
    assert decision.outcome is Outcome.PAGE and decision.need.new_scopes == ("openid", "profile")
    assert decision_for(user, web_client, prompt="none").outcome is Outcome.CONSENT_REQUIRED


def test_decide_is_silent_when_stored_consent_covers_scopes_and_claims(user, web_client):
    record_consent(user, web_client, scopes=["openid", "profile"], claims=["phone_number"])
    assert decision_for(user, web_client, claims=["phone_number"]).outcome is Outcome.SILENT
    assert decision_for(user, web_client, prompt="none").outcome is Outcome.SILENT
    assert decision_for(user, web_client, prompt="consent").outcome is Outcome.PAGE
    assert decision_for(user, web_client, "openid email").outcome is Outcome.PAGE


def test_decide_leaves_offline_access_out_unless_prompt_consent_asks(user, web_client):
    record_consent(user, web_client, scopes=["openid"])
    silent = decision_for(user, web_client, "openid offline_access")
    assert silent.outcome is Outcome.SILENT and silent.scopes == ("openid",)
    asked = decision_for(user, web_client, "openid offline_access", prompt="consent")
    assert asked.outcome is Outcome.PAGE and asked.scopes == ("openid", "offline_access")
    assert asked.need.new_scopes == ("offline_access",)


def test_decide_treats_a_first_party_client_as_allowed_but_honours_prompt_consent(user, first_party):
    assert decision_for(user, first_party, claims=["phone_number"]).outcome is Outcome.SILENT
    assert decision_for(user, first_party, prompt="none").outcome is Outcome.SILENT
    assert decision_for(user, first_party, prompt="consent").outcome is Outcome.PAGE
