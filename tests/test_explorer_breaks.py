"""Steps broken on purpose, as real clients break them: the provider's own error is what is recorded."""

from __future__ import annotations

import json

import pytest
from oauth2_provider.models import get_access_token_model

from idp.explorer.models import ExplorerRun
from idp.explorer.store import exchanges_of
from tests.conftest import query_of
from tests.explorer_support import (
    CALLBACK,
    arrows,
    explorer_spa,
    explorer_web,
    latest_run,
    press,
    start,
    through_authorization,
)
from tests.factories import CLIENT_SECRET, UserFactory

pytestmark = pytest.mark.django_db
AccessToken = get_access_token_model()


@pytest.fixture(autouse=True)
def _explorer_open(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}


@pytest.fixture
def signed_in(client):
    explorer_web()
    explorer_spa()
    client.force_login(UserFactory(username="dave"))
    return client


def broken_run(client, broken: str, **fields) -> ExplorerRun:
    fields = {"client_id": "explorer-web", "client_secret": CLIENT_SECRET, "breaks": broken, **fields}
    through_authorization(client, start(client, **fields))
    run = latest_run()
    press(client, run, "remaining")
    return run


def back_channel(run: ExplorerRun) -> list[tuple]:
    return [arrow for arrow in arrows(run) if arrow[1] == "rp"]


def message(run: ExplorerRun, step: str, broken: str = ""):
    return next(e for e in exchanges_of(run) if e.step == step and e.broken == broken)


def error_of(exchange) -> str:
    return json.loads(exchange.response.body)["error"]


def test_no_pkce_is_refused_at_the_authorization_request(signed_in):
    started = start(signed_in, client_id="explorer-web", client_secret=CLIENT_SECRET, breaks="no_pkce")
    assert "code_challenge" not in query_of(started["Location"])

    through_authorization(signed_in, started)

    run = latest_run()
    assert arrows(run) == [
        ("start", "browser", "rp", 302, ""),
        ("authorization_request", "browser", "authorize", 302, "no_pkce"),
        ("authorization_response", "browser", "rp", 302, ""),
    ]
    callback = query_of(message(run, "authorization_response").request.url)
    assert callback["error"] == "invalid_request" and "code" not in callback
    assert run.stage == ExplorerRun.Stage.ENDED and run.pending == []
    assert run.outcome.startswith("The authorization server answered invalid_request")


def test_a_wrong_redirect_uri_is_invalid_grant_and_the_flow_ends(signed_in):
    run = broken_run(signed_in, "wrong_redirect_uri")

    assert back_channel(run) == [
        ("discovery", "rp", "keys", 200, ""),
        ("token_request", "rp", "token", 400, "wrong_redirect_uri"),
    ]
    token_request = message(run, "token_request", "wrong_redirect_uri")
    assert error_of(token_request) == "invalid_grant"
    assert f"redirect_uri={CALLBACK.replace(':', '%3A').replace('/', '%2F')}%2F" in token_request.request.body
    assert "invalid_grant" in run.outcome and run.stage == ExplorerRun.Stage.ENDED
    assert not AccessToken.objects.exists()


def test_a_reused_code_is_refused_and_revokes_the_first_exchange_tokens(signed_in):
    run = broken_run(signed_in, "reuse_code")

    assert back_channel(run) == [
        ("discovery", "rp", "keys", 200, ""),
        ("token_request", "rp", "token", 200, ""),
        ("token_request", "rp", "token", 400, "reuse_code"),
        ("jwks", "rp", "keys", 200, ""),
        ("userinfo", "rp", "userinfo", 401, ""),
        ("api_call", "rp", "api", 401, ""),
        ("introspection", "rp", "token", 200, ""),
    ]
    assert error_of(message(run, "token_request", "reuse_code")) == "invalid_grant"
    assert json.loads(message(run, "introspection").response.body) == {"active": False}
    first = json.loads(message(run, "token_request").response.body)["access_token"]
    assert (
        json.loads(message(run, "introspection").request.body.split("token=")[1].split("&")[0] and "{}") == {}
    )
    assert f"token={first}" in message(run, "introspection").request.body
    assert run.outcome == ""  # the break was the point, not a failure


def test_a_wrong_code_verifier_is_invalid_grant(signed_in):
    run = broken_run(signed_in, "wrong_verifier")
    assert back_channel(run)[-1] == ("token_request", "rp", "token", 400, "wrong_verifier")
    assert error_of(message(run, "token_request", "wrong_verifier")) == "invalid_grant"


def test_the_spa_flow_breaks_the_same_way(signed_in):
    run = broken_run(signed_in, "wrong_verifier", flow="spa", client_id="explorer-spa", client_secret="")
    assert back_channel(run)[-1] == ("token_request", "rp", "token", 400, "wrong_verifier")


def test_an_expired_code_is_refused_and_the_message_says_how_it_expired(signed_in):
    run = broken_run(signed_in, "expired_code")

    token_request = message(run, "token_request", "expired_code")
    assert token_request.response.status == 400 and error_of(token_request) == "invalid_grant"
    note = " ".join(token_request.notes)
    assert "moved this code's expiry into the past on the server" in note
    assert "AUTHORIZATION_CODE_EXPIRE_SECONDS" in note and "60 seconds" in note


def test_a_wrong_client_secret_is_invalid_client_401(signed_in):
    run = broken_run(signed_in, "wrong_secret")

    token_request = message(run, "token_request", "wrong_secret")
    assert token_request.response.status == 401 and error_of(token_request) == "invalid_client"
    assert dict(token_request.response.headers)["WWW-Authenticate"].startswith("Basic")
    assert "invalid_client" in run.outcome


@pytest.mark.parametrize(
    ("flow", "client_id", "broken", "field"),
    [
        ("spa", "explorer-spa", "wrong_secret", "breaks"),  # a public client has no secret to get wrong
        ("web", "explorer-web", "reuse_refresh_token", "breaks"),  # only the refresh flow refreshes
    ],
)
def test_a_break_that_does_not_fit_the_flow_is_a_form_error(signed_in, flow, client_id, broken, field):
    response = start(signed_in, flow=flow, client_id=client_id, client_secret=CLIENT_SECRET, breaks=broken)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
