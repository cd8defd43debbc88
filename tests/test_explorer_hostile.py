"""Hostile input to the flow explorer: a friendly 400 or a 404, never a 500, never another browser's run."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest

from idp.explorer.models import ExplorerRun
from idp.explorer.store import exchanges_of
from tests.explorer_support import (
    FORM,
    demo_service,
    explorer_web,
    kept,
    latest_run,
    local,
    post_form,
    press,
    start,
    through_authorization,
)
from tests.factories import CLIENT_SECRET, UserFactory

pytestmark = pytest.mark.django_db
FIELDS = (
    "flow", "client_id", "client_secret", "scope", "prompt", "max_age", "acr_values", "claims", "login_hint",
    "breaks",
)  # fmt: skip
GARBAGE = ("\x00", "a\x00b", "x" * 100_000, "\x1b[31m", "%", "[" * 5000, "{}", "-1", "1e400", "\ud7ff\u202e")


@pytest.fixture(autouse=True)
def _explorer_open(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}


@pytest.fixture
def clients(db):
    explorer_web()
    demo_service()


VALID = {"flow": "web", "client_id": "explorer-web", "client_secret": CLIENT_SECRET}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_in_any_field_is_a_400_form_or_a_start(client, clients, field, value):
    response = start(client, **{**VALID, field: value})
    assert response.status_code in (302, 400), response.content[:300]
    if response.status_code == 400:
        assert response.context["form"].errors
        assert "no-store" in response["Cache-Control"]


def test_bytes_that_are_not_utf8_are_a_400(client, clients):
    body = "flow=web&client_id=%FF%FE&scope=openid%00&claims=%C0%AF"
    assert client.post("/developers/flows/start", body, content_type=FORM).status_code == 400


def test_an_empty_post_and_a_repeated_flow_are_a_400(client, clients):
    assert client.post("/developers/flows/start", "", content_type=FORM).status_code == 400
    response = client.post("/developers/flows/start", "flow=web&flow=nope", content_type=FORM)
    assert response.status_code == 400


def test_a_body_too_big_to_read_is_a_400(client, clients):
    body = urlencode({**VALID, "claims": "x" * (3 * 1024 * 1024)})
    assert client.post("/developers/flows/start", body, content_type=FORM).status_code == 400


@pytest.mark.parametrize(
    "fields",
    [
        {"flow": "device", "client_id": "explorer-web"},  # the wrong grant for the flow
        {"flow": "client_credentials", "client_id": "explorer-web"},
        {"flow": "web", "client_id": "demo-service"},
        {"flow": "web", "client_id": "no-such-client"},
        {"flow": "web", "scope": "openid admin"},  # an unknown scope
        {"flow": "web", "claims": "[1, 2]"},  # not an object
        {"flow": "web", "max_age": "99999999999999999999"},
        {"flow": "web", "prompt": "consent login"},
        {"flow": "web", "breaks": "all_of_them"},
        {"flow": "refresh", "scope": "openid profile"},  # no offline_access: nothing to refresh
    ],
)
def test_a_choice_that_cannot_run_is_a_400_with_the_reason(client, clients, fields):
    response = start(client, **{**VALID, **fields})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not ExplorerRun.objects.exists()


def test_another_browser_run_is_not_found(client, clients):
    start(client, flow="client_credentials", client_id="demo-service", client_secret=CLIENT_SECRET)
    run = latest_run()
    mine = client.cookies["idp_explorer"].value

    client.cookies["idp_explorer"] = "B" * 43  # a well-formed cookie of another browser
    for path in (f"/developers/flows/runs/{run.pk}",):
        assert client.get(path).status_code == 404
    for action in ("next", "remaining", "refresh"):
        assert client.post(f"/developers/flows/runs/{run.pk}/{action}").status_code == 404
    for cookie in ("", "\x00" * 43, "x", mine + "x"):
        client.cookies["idp_explorer"] = cookie
        assert client.get(f"/developers/flows/runs/{run.pk}").status_code == 404
    run.refresh_from_db()
    assert run.last_seq == 0  # nothing was sent for them

    client.cookies["idp_explorer"] = mine
    assert client.get(f"/developers/flows/runs/{run.pk}").status_code == 200
    assert client.get(f"/developers/flows/runs/{uuid.uuid4()}").status_code == 404
    assert client.get("/developers/flows/runs/not-a-uuid").status_code == 404
    assert client.get(f"/developers/flows/runs/{run.pk}?reveal=%00").status_code == 200


def test_an_expired_run_is_not_found(client, clients):
    start(client, flow="client_credentials", client_id="demo-service", client_secret=CLIENT_SECRET)
    run = latest_run()
    ExplorerRun.objects.filter(pk=run.pk).update(expires=run.created)
    assert client.get(f"/developers/flows/runs/{run.pk}").status_code == 404


def test_actions_are_posts_only(client, clients):
    start(client, flow="client_credentials", client_id="demo-service", client_secret=CLIENT_SECRET)
    run = latest_run()
    assert client.get(f"/developers/flows/runs/{run.pk}/next").status_code == 405
    assert client.get("/developers/flows/start").status_code == 405
    assert client.post("/developers/flows").status_code == 405


@pytest.fixture
def waiting(client, clients):
    """A web run of this browser waiting for its callback, and its authorization request."""
    client.force_login(UserFactory(username="gina"))
    started = start(client, **VALID)
    return latest_run(), started


@pytest.mark.parametrize(
    "query",
    [
        "",
        "code=abc",
        "code=abc&state=wrong-state",
        "code=abc&state=" + "x" * 10_000,
        "code=abc&state=%00",
        "state=%FF%FE&code=%00",
        "error=access_denied&state=nope",
    ],
)
def test_a_callback_with_a_wrong_state_is_refused_with_a_400_page(client, waiting, query):
    run, _ = waiting
    response = client.get(f"/developers/flows/callback?{query}")
    assert response.status_code == 400
    assert "Callback refused" in response.content.decode()
    run.refresh_from_db()
    assert run.stage == ExplorerRun.Stage.AUTHORIZING and "code" not in kept(run)


def test_a_callback_with_the_state_of_another_browser_is_refused(client, waiting):
    run, _ = waiting
    state = kept(run)["state"]
    client.cookies["idp_explorer"] = "C" * 43
    assert client.get(f"/developers/flows/callback?code=abc&state={state}&iss=x").status_code == 400
    del client.cookies["idp_explorer"]
    assert client.get(f"/developers/flows/callback?code=abc&state={state}").status_code == 400


def test_a_callback_with_the_wrong_iss_ends_the_run(client, waiting):
    run, _ = waiting
    state = kept(run)["state"]
    response = client.get(f"/developers/flows/callback?code=abc&state={state}&iss=https://evil.example")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.stage == ExplorerRun.Stage.ENDED and "RFC 9207" in run.outcome and "code" not in kept(run)


def test_a_callback_replayed_after_it_was_taken_is_refused(client, waiting):
    run, started = waiting
    assert through_authorization(client, started).status_code == 302
    callback = next(e for e in exchanges_of(run) if e.step == "authorization_response")
    assert client.get(local(callback.request.url)).status_code == 400


def test_a_hostile_code_at_the_callback_reaches_the_token_endpoint_as_a_400(client, waiting):
    run, _ = waiting
    state = kept(run)["state"]
    query = urlencode({"code": "\x00" + "x" * 5000, "state": state, "iss": "http://127.0.0.1:8000"})
    assert client.get(f"/developers/flows/callback?{query}").status_code == 302
    press(client, run, "remaining")
    token = [e for e in exchanges_of(run) if e.step == "token_request"]
    assert token and token[0].response.status == 400
    assert run.stage == ExplorerRun.Stage.ENDED


def test_the_explorer_off_is_not_found_everywhere(client, clients, settings):
    start(client, flow="client_credentials", client_id="demo-service", client_secret=CLIENT_SECRET)
    run = latest_run()
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": False}
    for path in (
        "/developers/flows",
        f"/developers/flows/runs/{run.pk}",
        "/developers/flows/callback?state=x",
    ):
        assert client.get(path).status_code == 404
    for path in ("/developers/flows/start", f"/developers/flows/runs/{run.pk}/next"):
        assert client.post(path).status_code == 404
    run.refresh_from_db()
    assert run.last_seq == 0


def test_staff_only_redirects_the_anonymous_and_refuses_other_people(client, clients, settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": None}
    settings.DEBUG = False
    response = client.get("/developers/flows")
    assert response.status_code == 302 and response["Location"] == "/login?next=/developers/flows"
    signing_in = post_form(client, "/developers/flows/start", VALID)
    assert signing_in["Location"] == "/login?next=/developers/flows"  # then back to the start page
    assert not ExplorerRun.objects.exists()

    client.force_login(UserFactory(username="harry"))
    refused = client.get("/developers/flows")
    assert refused.status_code == 403 and "For staff only" in refused.content.decode()
    assert "no-store" in refused["Cache-Control"]

    client.force_login(UserFactory(username="ivy", is_staff=True))
    assert client.get("/developers/flows").status_code == 200


def test_the_middleware_lets_a_request_with_a_garbage_cookie_pass(client, clients):
    client.cookies["idp_explorer"] = "\x00garbage"
    assert client.get("/login").status_code == 200
    client.cookies["idp_explorer"] = "D" * 43  # well-formed, no run
    assert client.get("/login").status_code == 200


def test_a_body_the_authorization_endpoint_cannot_read_is_never_a_500_during_a_run(client, waiting):
    run, _ = waiting
    bodies = [
        (
            b"--x\r\nContent-Disposition: form-data; name=client_id\r\n\r\nbroken",
            "multipart/form-data; boundary=x",
        ),
        (b"--x\r\nContent-Disposition: form-data", "multipart/form-data; boundary=x"),
        (b"idp_consent=1&client_id=%FF", "application/x-www-form-urlencoded; charset=utf-16"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
    ]
    for body, content_type in bodies:
        assert client.post("/authorize", body, content_type=content_type).status_code < 500
        assert client.post("/login", body, content_type=content_type).status_code < 500
    run.refresh_from_db()
    assert run.stage == ExplorerRun.Stage.AUTHORIZING
