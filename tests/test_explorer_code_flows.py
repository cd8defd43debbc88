"""The explorer's code flows end to end: the web app (secret) and the single-page app (PKCE only)."""

from __future__ import annotations

import json

import pytest

from idp.explorer.models import ExplorerRun
from idp.explorer.store import exchanges_of
from idp.models import AccessToken
from tests.conftest import ISSUER, query_of, verify_id_token
from tests.explorer_support import (
    CALLBACK,
    arrows,
    explorer_spa,
    explorer_web,
    kept,
    latest_run,
    press,
    start,
    through_authorization,
)
from tests.factories import CLIENT_SECRET, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _explorer_open(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}


@pytest.fixture
def person(db):
    return UserFactory(username="carol", first_name="Carol")


def test_the_web_app_flow_records_every_message_in_order(client, person):
    explorer_web()
    started = start(
        client, client_id="explorer-web", client_secret=CLIENT_SECRET, scope="openid profile email"
    )

    authorize = query_of(started["Location"])
    assert started["Location"].startswith(f"{ISSUER}/authorize?")
    assert authorize["redirect_uri"] == CALLBACK and authorize["code_challenge_method"] == "S256"
    assert {"state", "nonce", "code_challenge"} <= authorize.keys()
    assert (
        started.cookies["idp_explorer"]["httponly"] and started.cookies["idp_explorer"]["samesite"] == "Lax"
    )

    landed = through_authorization(client, started, username="carol")
    run = latest_run()
    assert landed.status_code == 302 and landed["Location"] == f"/developers/flows/runs/{run.pk}"
    assert run.stage == ExplorerRun.Stage.STEPS

    press(client, run, "remaining")

    assert arrows(run) == [
        ("start", "browser", "rp", 302, ""),
        ("authorization_request", "browser", "authorize", 302, ""),  # to /login
        ("sign_in", "browser", "authorize", 200, ""),
        ("sign_in", "browser", "authorize", 302, ""),
        ("authorization_request", "browser", "authorize", 200, ""),  # the consent page
        ("consent", "browser", "authorize", 302, ""),  # to the callback, with the code
        ("authorization_response", "browser", "rp", 302, ""),
        ("discovery", "rp", "keys", 200, ""),
        ("token_request", "rp", "token", 200, ""),
        ("jwks", "rp", "keys", 200, ""),
        ("userinfo", "rp", "userinfo", 200, ""),
        ("api_call", "rp", "api", 200, ""),
        ("introspection", "rp", "token", 200, ""),
    ]
    assert run.stage == ExplorerRun.Stage.ENDED and run.outcome == "" and run.pending == []
    exchanges = {e.step: e for e in exchanges_of(run)}
    token_request = exchanges["token_request"]
    assert token_request.request.url == f"{ISSUER}/token"
    assert dict(token_request.request.headers)["Authorization"].startswith("Basic ")
    assert (
        "code_verifier=" in token_request.request.body and "client_secret" not in token_request.request.body
    )
    tokens = json.loads(token_request.response.body)
    claims = verify_id_token(client, tokens["id_token"])
    assert claims["aud"] == "explorer-web" and claims["nonce"] == kept(run)["nonce"]
    assert json.loads(exchanges["userinfo"].response.body)["given_name"] == "Carol"
    assert exchanges["api_call"].request.url == f"{ISSUER}/api/v1/me"
    assert json.loads(exchanges["introspection"].response.body)["active"] is True
    # The password typed at sign-in was never stored; the person's name was.
    sign_in_post = next(e for e in exchanges_of(run) if e.step == "sign_in" and e.request.method == "POST")
    assert "password" not in sign_in_post.request.body and "username=carol" in sign_in_post.request.body
    assert sign_in_post.request.url == "http://testserver/login"


def test_next_step_sends_one_request_at_a_time(client, person):
    explorer_web()
    client.force_login(person)
    through_authorization(client, start(client, client_secret=CLIENT_SECRET, client_id="explorer-web"))
    run = latest_run()
    browser_messages = run.last_seq

    press(client, run, "next")
    assert [step for step, *_ in arrows(run)[browser_messages:]] == ["discovery"]
    press(client, run, "next")
    assert [step for step, *_ in arrows(run)[browser_messages:]] == ["discovery", "token_request"]
    assert [item["step"] for item in run.pending] == ["jwks", "userinfo", "api_call", "introspection"]


def test_the_spa_flow_uses_pkce_alone_and_skips_introspection(client, person):
    explorer_spa()
    client.force_login(person)
    started = start(client, flow="spa", client_id="explorer-spa")
    through_authorization(client, started)
    run = latest_run()
    press(client, run, "remaining")

    steps = [step for step, *_ in arrows(run)]
    assert steps == [
        "start",
        "authorization_request",
        "consent",
        "authorization_response",
        "discovery",
        "token_request",
        "jwks",
        "userinfo",
        "api_call",
    ]
    assert all(status < 400 for *_, status, _broken in arrows(run))
    token_request = next(e for e in exchanges_of(run) if e.step == "token_request")
    assert "Authorization" not in dict(token_request.request.headers)
    assert "client_id=explorer-spa" in token_request.request.body
    assert "code_verifier=" in token_request.request.body
    assert not run.confidential


def test_an_api_call_without_the_profile_scope_is_the_api_own_refusal(client, person):
    explorer_web()
    client.force_login(person)
    through_authorization(
        client, start(client, client_id="explorer-web", client_secret=CLIENT_SECRET, scope="openid email")
    )
    run = latest_run()
    press(client, run, "remaining")
    api = next(e for e in exchanges_of(run) if e.step == "api_call")
    assert api.response.status == 403
    assert AccessToken.objects.filter(application__client_id="explorer-web").count() == 1


def test_a_run_without_openid_asks_for_no_id_token_and_no_userinfo(client, person):
    explorer_web()
    client.force_login(person)
    started = start(client, client_id="explorer-web", client_secret=CLIENT_SECRET, scope="profile")
    assert "nonce" not in query_of(started["Location"])
    through_authorization(client, started)
    run = latest_run()
    press(client, run, "remaining")
    assert [step for step, *_ in arrows(run)][-4:] == [
        "discovery",
        "token_request",
        "api_call",
        "introspection",
    ]


def test_the_authorization_request_carries_the_chosen_options(client, person):
    explorer_web()
    started = start(
        client,
        client_id="explorer-web",
        client_secret=CLIENT_SECRET,
        prompt="login",
        max_age="300",
        acr_values="urn:idp:acr:mfa  pwd",
        claims='{"userinfo": {"email": {"essential": true}}}',
        login_hint="carol",
    )
    query = query_of(started["Location"])
    assert query["prompt"] == "login" and query["max_age"] == "300" and query["login_hint"] == "carol"
    assert query["acr_values"] == "urn:idp:acr:mfa pwd"
    assert json.loads(query["claims"]) == {"userinfo": {"email": {"essential": True}}}
    run = latest_run()
    assert "login_hint" not in run.options and kept(run)["login_hint"] == "carol"  # sealed, like a secret
    assert run.options["max_age"] == 300 and run.options["prompt"] == "login"


def test_a_client_without_the_explorer_callback_is_told_what_to_add(client):
    explorer_web(redirect_uris="https://rp.example.com/callback")
    response = start(client, client_id="explorer-web", client_secret=CLIENT_SECRET)
    assert response.status_code == 400
    assert f"Add {CALLBACK} to the redirect URIs of explorer-web" in response.content.decode()
    assert not ExplorerRun.objects.exists()


def test_the_start_page_shows_the_form_and_this_browser_runs(client, person):
    explorer_web()
    client.force_login(person)
    through_authorization(client, start(client, client_id="explorer-web", client_secret=CLIENT_SECRET))
    run = latest_run()

    page = client.get("/developers/flows")

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert [r.pk for r in page.context["runs"]] == [run.pk]
    html = page.content.decode()
    assert 'action="/developers/flows/start"' in html and f"/developers/flows/runs/{run.pk}" in html
    client.cookies.pop("idp_explorer")
    assert client.get("/developers/flows").context["runs"] == []  # another browser sees none of them


def test_the_run_page_draws_every_message_and_masks_secrets_until_revealed(client, person):
    explorer_web()
    client.force_login(person)
    through_authorization(client, start(client, client_id="explorer-web", client_secret=CLIENT_SECRET))
    run = latest_run()
    page = client.get(f"/developers/flows/runs/{run.pk}")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'action="/developers/flows/runs/' in page.content.decode()  # Next step, remaining steps
    press(client, run, "remaining")

    page = client.get(f"/developers/flows/runs/{run.pk}")

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('class="message ') == run.last_seq == 10
    assert 'data-step="introspection"' in html and "/next" not in html  # nothing left to do
    access_token = kept(run)["access_token"]
    assert access_token not in html and "[masked, " in html
    assert CLIENT_SECRET not in html
    revealed = client.get(f"/developers/flows/runs/{run.pk}?reveal=1").content.decode()
    assert access_token in revealed
    assert "signature" in html.lower()  # the ID token explained
    assert "sequenceDiagram" in html  # the Mermaid export


def test_an_authorization_request_of_another_app_is_not_recorded_in_the_run(client, person):
    from tests.conftest import authorize

    explorer_web()
    other = explorer_web(client_id="another-app", redirect_uris="https://rp.example.com/callback")
    client.force_login(person)
    start(client, client_id="explorer-web", client_secret=CLIENT_SECRET)
    run = latest_run()
    authorize(client, other, redirect_uri="https://rp.example.com/callback")  # in another tab
    run.refresh_from_db()
    assert run.last_seq == 1  # the start alone
