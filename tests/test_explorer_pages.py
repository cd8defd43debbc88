"""The explorer's pages: a run's exports as files."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from django.test import Client

from tests.explorer_support import demo_service, latest_run, press, run_path, start
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _explorer_open(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}


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
