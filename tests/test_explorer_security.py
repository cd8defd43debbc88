"""An attacker's review of the flow explorer: each finding's regression test."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from oauth2_provider.models import get_access_token_model

from idp.device import DEVICE_GRANT_TYPE
from idp.explorer import runs, store
from idp.explorer.models import ExplorerRun
from idp.explorer.recorder import MAX_BODY, request_body
from idp.explorer.records import NEVER_RECORDED_NAMES
from idp.explorer.store import exchanges_of
from tests.conftest import ISSUER
from tests.explorer_support import (
    FORM,
    demo_service,
    explorer_web,
    kept,
    latest_run,
    local,
    post_form,
    run_path,
    through_authorization,
)
from tests.factories import CLIENT_SECRET, PublicClientFactory, UserFactory

pytestmark = pytest.mark.django_db
WEB = {"flow": "web", "client_id": "explorer-web", "client_secret": CLIENT_SECRET}


@pytest.fixture(autouse=True)
def _explorer_open(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}


@pytest.fixture
def person(client):
    explorer_web()
    client.force_login(UserFactory(username="gina"))


def test_the_browser_http_credentials_are_never_recorded(client, person):
    # A staging server behind HTTP Basic: the browser sends the gate's password with every request,
    # to the server (Authorization) or to a proxy on the way (Proxy-Authorization).
    gate = "Basic " + base64.b64encode(b"staging:the-gate-password").decode()
    sent = {"HTTP_AUTHORIZATION": gate, "HTTP_PROXY_AUTHORIZATION": gate}
    started = post_form(client, "/developers/flows/start", WEB, **sent)
    client.get(local(started["Location"]), **sent)  # /authorize, recorded by the middleware
    run = latest_run()

    browser_headers = [
        name.lower() for e in exchanges_of(run) if e.source == "browser" for name, _ in e.request.headers
    ]
    assert [e.step for e in exchanges_of(run)] == ["start", "authorization_request"]
    assert "authorization" not in browser_headers and "proxy-authorization" not in browser_headers
    page = client.get(run_path(run) + "?reveal=1").content.decode()
    assert gate.split()[1] not in page and "the-gate-password" not in page


@pytest.mark.parametrize(
    "answer",
    [
        {"iss": "https://evil.example/\x00"},
        {"error": "access_denied\x00"},
        {"error": "access_denied", "error_description": "denied\x00\x1b[31m" + "x" * 100_000},
    ],
)
def test_a_callback_with_nul_bytes_in_its_answer_ends_the_run_without_a_500(client, person, answer):
    # PostgreSQL refuses NUL in a text column: the run's outcome quoted them as they came.
    post_form(client, "/developers/flows/start", WEB)
    run = latest_run()
    query = urlencode({"state": kept(run)["state"], "iss": ISSUER, **answer})
    assert client.get(f"/developers/flows/callback?{query}").status_code == 302
    run.refresh_from_db()
    assert run.stage == ExplorerRun.Stage.ENDED
    assert "\x00" not in run.outcome and "\x1b" not in run.outcome and len(run.outcome) < 1000
    assert client.get(run_path(run)).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (FORM, "[" * 5000),
        ("text/plain", "[" * 5000),
        ("", "{" * 5000),
        ("application/json", "[" * 500 + "]" * 500),  # JSON that parses, shown as JSON after
    ],
)
def test_a_body_nested_too_deep_never_makes_the_run_page_a_500(client, person, content_type, body):
    # The pages that show a message parse any body that looks like JSON; so deep a one ended their
    # parser with a RecursionError, for the hour the run lives.
    post_form(client, "/developers/flows/start", WEB)
    run = latest_run()
    client.post("/login", body, content_type=content_type)  # recorded: the run is at the server
    assert [e.step for e in exchanges_of(run)] == ["start", "sign_in"]
    for reveal in ("", "?reveal=1"):
        assert client.get(run_path(run) + reveal).status_code == 200


def test_a_run_keeps_at_most_max_messages(client, person, monkeypatch):
    # Every request of the browser to /authorize was recorded for as long as the run waited there:
    # one run grew the message table (and its page) without end.
    monkeypatch.setattr(store, "MAX_MESSAGES", 4)
    started = post_form(client, "/developers/flows/start", WEB)
    run = latest_run()
    for _ in range(6):
        assert client.get(local(started["Location"])).status_code in (200, 302)
    run.refresh_from_db()
    assert run.last_seq == 4 and run.messages.count() == 4

    # Its callback is taken, but nothing more is sent: the page says why.
    response = through_authorization(client, started)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.messages.count() == 4 and run.pending
    assert client.post(run_path(run, "remaining")).status_code == 302
    assert client.post(run_path(run, "next")).status_code == 302
    run.refresh_from_db()
    assert run.messages.count() == 4 and not get_access_token_model().objects.exists()
    page = client.get(run_path(run)).content.decode()
    assert "the most a run keeps" in page and "Run the remaining steps" not in page


def test_a_device_polled_without_end_stops_at_max_messages(client, monkeypatch):
    monkeypatch.setattr(store, "MAX_MESSAGES", 5)
    PublicClientFactory(
        client_id="demo-device", kind="device", authorization_grant_type=DEVICE_GRANT_TYPE, redirect_uris=""
    )
    device = {"flow": "device", "client_id": "demo-device", "scope": "openid"}
    post_form(client, "/developers/flows/start", device)
    run = latest_run()
    for _ in range(8):
        client.post(run_path(run, "next"))
    run.refresh_from_db()
    assert run.messages.count() == 5 and [e.step for e in exchanges_of(run)][-1] == "device_poll"


SERVICE = {"flow": "client_credentials", "client_id": "demo-service", "client_secret": CLIENT_SECRET}


def test_a_browser_keeps_its_newest_runs_only(client):
    demo_service()
    for _ in range(runs.RUNS_PER_BROWSER + 2):
        assert post_form(client, "/developers/flows/start", SERVICE).status_code == 302
    assert ExplorerRun.objects.count() == runs.RUNS_PER_BROWSER


def test_runs_start_at_a_bounded_rate_per_address(client):
    # Without its cookie a browser is a new one: the address is what bounds the runs stored.
    demo_service()
    allowed = int(runs.START_RATES["address"].split("/")[0])
    for _ in range(allowed):
        client.cookies.pop("idp_explorer", None)
        assert post_form(client, "/developers/flows/start", SERVICE).status_code == 302
    client.cookies.pop("idp_explorer", None)
    refused = post_form(client, "/developers/flows/start", SERVICE)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many runs" in refused.content.decode()
    assert ExplorerRun.objects.count() == allowed
    other = post_form(client, "/developers/flows/start", SERVICE, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302


def test_signing_out_forgets_the_runs_holding_the_person_tokens(client, person):
    # The explorer's cookie outlives the session: on a shared computer, the next person at the
    # browser found the runs of the one who signed out, their tokens a click from "Reveal secrets"
    # and a refresh token ready for "Refresh the tokens".
    started = post_form(client, "/developers/flows/start", {**WEB, "flow": "refresh"})
    run = latest_run()
    through_authorization(client, started)
    client.post(run_path(run, "remaining"))
    assert kept(run).get("refresh_token")

    assert client.post("/logout").status_code in (200, 302)

    client.force_login(UserFactory(username="next-person"))
    assert client.get(run_path(run) + "?reveal=1").status_code == 404
    assert client.post(run_path(run, "refresh")).status_code == 404
    assert not ExplorerRun.objects.filter(pk=run.pk).exists()
    assert client.get("/developers/flows").context["runs"] == []


def test_a_huge_form_is_read_only_as_far_as_it_is_kept():
    # The recorder parsed all of a 2.5 MB form of a million fields (seconds of CPU per request) to
    # keep 16 KB of it; Django itself stops at DATA_UPLOAD_MAX_NUMBER_FIELDS.
    body = "password=hunter2-the-password&username=gina&" + "a&" * 1_000_000
    kept = request_body(body, content_type=FORM, drop=NEVER_RECORDED_NAMES)
    assert kept.startswith("username=gina&a=&a=") and "hunter2" not in kept
    assert len(kept) < 2 * MAX_BODY and kept.endswith(f"[cut: {len(body) - MAX_BODY} more characters]")
    json_body = '{"a": [' + "1," * 100_000 + "1]}"
    huge_json = request_body(json_body, content_type="application/json", drop=frozenset())
    assert huge_json.startswith("[a JSON body of") and huge_json.endswith("not recorded]")


def test_the_recorder_stops_when_the_explorer_is_turned_off(client, person, settings):
    # A run was waiting at /authorize when the operator turned the explorer off: the browser's later
    # requests there are not recorded (nor is a run looked up for them).
    started = post_form(client, "/developers/flows/start", WEB)
    run = latest_run()
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": False}
    client.get(local(started["Location"]))
    assert [e.step for e in exchanges_of(run)] == ["start"]
