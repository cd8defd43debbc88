"""The playground clients of the demo data: the explorer runs with them, their secrets in development only."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from idp.explorer.playground import callback_url, playground_secret
from tests.conftest import ISSUER, query_of
from tests.explorer_support import arrows, latest_run, press, start, through_authorization
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}
    call_command("idp_load_demo")


def test_the_callback_is_the_one_the_demo_registers():
    assert callback_url() == f"{ISSUER}/developers/flows/callback"


def test_each_flow_runs_with_its_playground_client_without_any_secret_typed(client):
    client.force_login(UserFactory(username="frank"))
    for flow, client_id in (("web", "explorer-web"), ("spa", "explorer-spa"), ("refresh", "explorer-web")):
        started = start(client, flow=flow)
        assert started.status_code == 302, started.context["form"].errors if started.context else started
        assert query_of(started["Location"])["client_id"] == client_id
    through_authorization(client, start(client, flow="web"))
    run = latest_run()
    press(client, run, "remaining")
    assert all(status < 400 for *_, status, _ in arrows(run))

    start(client, flow="client_credentials")
    run = latest_run()
    press(client, run, "remaining")
    assert (run.client_id, arrows(run)[1][3]) == ("demo-service", 200)

    start(client, flow="device")
    assert latest_run().client_id == "demo-device" and arrows(latest_run())[0][3] == 200


def test_the_demo_secrets_are_read_only_on_a_development_issuer(settings, client):
    assert playground_secret("explorer-web") == "explorer-web-secret"
    assert playground_secret("demo-web") is None  # not a playground client
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    assert playground_secret("explorer-web") is None
    settings.IDP = {**settings.IDP, "DEMO_DATA_FILE": None}
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": ISSUER}
    response = start(client, flow="web")
    assert response.status_code == 400
    assert "explorer-web is confidential: paste its client secret." in response.content.decode()
