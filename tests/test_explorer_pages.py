"""The explorer's pages: the start page explains each flow and each break; a run's exports as files."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from django.test import Client

from idp.explorer.flows import FLOWS
from idp.explorer.glossary import BREAKS
from tests.explorer_support import demo_service, latest_run, press, run_path, start
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _explorer_open(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}


def test_the_start_page_describes_every_flow_under_the_select(client):
    page = client.get("/developers/flows").content.decode()

    assert 'aria-describedby="flow-descriptions"' in page
    for key, flow in FLOWS.items():
        assert flow.description
        assert f'<li id="flow-description-{key}" data-flow="{key}">' in page
    assert "For a service calling an API on its own behalf, with no person involved" in page
    assert page.index('id="flow-descriptions"') < page.index('name="client_id"')
    # The authorization request's options, for the script to hide with a flow that sends none.
    assert '<details class="options" data-flows="web spa refresh "' in page


def test_each_break_says_beside_its_radio_what_a_real_client_does_to_hit_it(client):
    page = client.get("/developers/flows").content.decode()

    for key, info in BREAKS.items():
        radio = re.search(rf'<input type="radio" name="breaks" value="{key}"[^>]*>', page).group(0)
        described = re.search(r'aria-describedby="([^"]+)"', radio).group(1)
        how = re.search(rf'<p class="help" id="{described}">([^<]*)</p>', page).group(1)
        assert how == info.how.replace("'", "&#x27;")
    # The flows each break applies to, for the script to show only those of the selected flow.
    assert 'data-flows="web refresh client_credentials"' in page  # wrong_secret
    assert 'data-flows="refresh"' in page  # reuse_refresh_token
    assert 'data-flows="web spa refresh device client_credentials"' in page  # Nothing


@pytest.fixture
def finished_run(client):
    demo_service()
    start(client, flow="client_credentials", client_id="demo-service", client_secret=CLIENT_SECRET)
    run = latest_run()
    press(client, run, "remaining")
    return run


@pytest.mark.parametrize(
    ("kind", "filename", "starts"),
    [("curl", "explorer-run.sh", "#!/usr/bin/env bash"), ("mermaid", "explorer-run.mmd", "sequenceDiagram")],
)
def test_an_export_downloads_as_a_file_never_cached(client, finished_run, kind, filename, starts):
    page = client.get(run_path(finished_run)).content.decode()
    assert f'href="{run_path(finished_run, "export/" + kind)}" download="{filename}"' in page

    response = client.get(run_path(finished_run, f"export/{kind}"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert body.startswith(starts)
    assert CLIENT_SECRET not in body
    assert body == page_text(page, f"export-{kind}")


def page_text(page: str, pre_id: str) -> str:
    """The text of the ``<pre id=pre_id>`` on the run page, unescaped as the browser shows it."""
    found = re.search(rf'<pre class="export-text" id="{pre_id}"[^>]*>(.*?)</pre>', page, re.S)
    return html.unescape(found.group(1))


def test_exports_belong_to_the_browser_that_ran_them(client, finished_run):
    assert Client().get(run_path(finished_run, "export/curl")).status_code == 404
    assert client.get(run_path(finished_run, "export/passwords")).status_code == 404
    assert client.get(f"/developers/flows/runs/{uuid.uuid4()}/export/curl").status_code == 404
    assert client.post(run_path(finished_run, "export/curl")).status_code == 405
