"""An attacker's review of the flow explorer: each finding's regression test."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from idp.explorer.models import ExplorerRun
from idp.explorer.store import exchanges_of
from tests.conftest import ISSUER
from tests.explorer_support import FORM, explorer_web, kept, latest_run, local, post_form, run_path
from tests.factories import CLIENT_SECRET, UserFactory

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
