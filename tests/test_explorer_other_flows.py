"""The explorer's refresh, client credentials and device flows, each message recorded."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from oauth2_provider.models import get_device_grant_model

from idp.device import DEVICE_GRANT_TYPE
from idp.explorer.models import ExplorerRun
from idp.explorer.store import exchanges_of
from idp.tokens import checksum
from tests.conftest import ISSUER
from tests.explorer_support import (
    arrows,
    demo_service,
    explorer_web,
    kept,
    latest_run,
    post_form,
    press,
    start,
    through_authorization,
)
from tests.factories import CLIENT_SECRET, PublicClientFactory, UserFactory

pytestmark = pytest.mark.django_db
DeviceGrant = get_device_grant_model()


@pytest.fixture(autouse=True)
def _explorer_open(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}


@pytest.fixture
def person(db):
    return UserFactory(username="erin", first_name="Erin")


def steps_after(run: ExplorerRun, step: str) -> list[tuple]:
    found = arrows(run)
    first = next(i for i, arrow in enumerate(found) if arrow[0] == step)
    return found[first:]


def test_the_refresh_flow_rotates_the_refresh_token(client, person):
    explorer_web()
    client.force_login(person)
    started = start(client, flow="refresh", client_id="explorer-web", client_secret=CLIENT_SECRET)
    through_authorization(client, started)
    run = latest_run()
    press(client, run, "next")  # discovery
    press(client, run, "next")  # token request
    first_refresh_token = kept(run)["refresh_token"]
    press(client, run, "remaining")

    assert steps_after(run, "introspection") == [
        ("introspection", "rp", "token", 200, ""),
        ("refresh", "rp", "token", 200, ""),
        ("introspection", "rp", "token", 200, ""),
    ]
    refresh = next(e for e in exchanges_of(run) if e.step == "refresh")
    assert "grant_type=refresh_token" in refresh.request.body
    assert kept(run)["refresh_token"] != first_refresh_token  # rotated
    assert kept(run)["previous_refresh_token"] == first_refresh_token
    assert json.loads(exchanges_of(run)[-1].response.body)["active"] is True
    assert run.stage == ExplorerRun.Stage.ENDED and run.outcome == ""


def test_a_reused_refresh_token_is_refused_and_its_family_revoked(client, person):
    explorer_web()
    client.force_login(person)
    started = start(
        client,
        flow="refresh",
        client_id="explorer-web",
        client_secret=CLIENT_SECRET,
        breaks="reuse_refresh_token",
    )
    through_authorization(client, started)
    run = latest_run()
    press(client, run, "remaining")

    assert steps_after(run, "refresh") == [
        ("refresh", "rp", "token", 200, ""),
        ("refresh", "rp", "token", 400, "reuse_refresh_token"),
        ("introspection", "rp", "token", 200, ""),
    ]
    reused = exchanges_of(run)[-2]
    assert json.loads(reused.response.body)["error"] == "invalid_grant"
    assert json.loads(exchanges_of(run)[-1].response.body) == {"active": False}  # the new one went too


def test_the_refresh_button_refreshes_a_finished_run_that_holds_a_refresh_token(client, person):
    explorer_web()
    client.force_login(person)
    started = start(
        client,
        client_id="explorer-web",
        client_secret=CLIENT_SECRET,
        scope="openid offline_access",
        prompt="consent",
    )
    through_authorization(client, started)
    run = latest_run()
    press(client, run, "remaining")
    assert run.stage == ExplorerRun.Stage.ENDED and kept(run).get("refresh_token")

    press(client, run, "refresh")

    assert arrows(run)[-1] == ("refresh", "rp", "token", 200, "")
    assert [item["step"] for item in run.pending] == ["introspection"]


def test_the_refresh_button_does_nothing_without_a_refresh_token(client, person):
    explorer_web()
    client.force_login(person)
    through_authorization(client, start(client, client_id="explorer-web", client_secret=CLIENT_SECRET))
    run = latest_run()
    press(client, run, "remaining")
    count = run.last_seq
    press(client, run, "refresh")
    assert run.last_seq == count and run.pending == []


def test_client_credentials_gets_a_token_and_lists_users(client):
    demo_service()
    started = start(client, flow="client_credentials", client_id="demo-service", client_secret=CLIENT_SECRET)
    run = latest_run()
    assert started["Location"] == f"/developers/flows/runs/{run.pk}"

    press(client, run, "remaining")

    assert arrows(run) == [
        ("discovery", "rp", "keys", 200, ""),
        ("client_credentials", "rp", "token", 200, ""),
        ("api_call", "rp", "api", 200, ""),
        ("introspection", "rp", "token", 200, ""),
    ]
    exchanges = exchanges_of(run)
    assert exchanges[1].request.body == "grant_type=client_credentials&scope=users%3Aread"
    assert exchanges[2].request.url == f"{ISSUER}/api/v1/users"
    assert json.loads(exchanges[3].response.body)["active"] is True


def test_client_credentials_with_a_wrong_secret_is_invalid_client(client):
    demo_service()
    start(
        client,
        flow="client_credentials",
        client_id="demo-service",
        client_secret=CLIENT_SECRET,
        breaks="wrong_secret",
    )
    run = latest_run()
    press(client, run, "remaining")
    assert arrows(run)[-1] == ("client_credentials", "rp", "token", 401, "wrong_secret")
    assert run.stage == ExplorerRun.Stage.ENDED and "invalid_client" in run.outcome


def as_if_waited(run: ExplorerRun) -> None:
    """As if the device had waited its interval since its last poll."""
    grant = DeviceGrant.objects.get(device_code=checksum(kept(run)["device_code"]))
    if grant.polled_at:
        DeviceGrant.objects.filter(pk=grant.pk).update(
            polled_at=grant.polled_at - timedelta(seconds=grant.interval)
        )


def test_the_device_flow_polls_until_the_person_approves(client, person):
    PublicClientFactory(
        client_id="demo-device", kind="device", authorization_grant_type=DEVICE_GRANT_TYPE, redirect_uris="",
        allowed_scopes="openid profile email offline_access",
    )  # fmt: skip
    client.force_login(person)
    start(client, flow="device", client_id="demo-device")
    run = latest_run()
    assert run.stage == ExplorerRun.Stage.DEVICE
    assert arrows(run) == [("device_authorization", "rp", "token", 200, "")]
    user_code = kept(run)["user_code"]

    press(client, run, "next")  # a poll before the person answered
    assert arrows(run)[-1] == ("device_poll", "rp", "token", 400, "")
    assert json.loads(exchanges_of(run)[-1].response.body)["error"] == "authorization_pending"
    assert run.stage == ExplorerRun.Stage.DEVICE and run.pending[0]["step"] == "device_poll"

    # The person, in this browser, opens the link the run page shows, and allows the device.
    page = client.get(f"/device?user_code={user_code}")
    assert page.status_code == 200
    shown = post_form(client, "/device", {"user_code": user_code})
    post_form(client, "/device", {"allow": "1", "shown": shown.context["shown"]})
    as_if_waited(run)
    press(client, run, "remaining")

    assert [arrow[:2] for arrow in arrows(run)] == [
        ("device_authorization", "rp"),
        ("device_poll", "rp"),
        ("device_verification", "browser"),
        ("device_verification", "browser"),
        ("device_verification", "browser"),
        ("device_poll", "rp"),
        ("jwks", "rp"),
        ("userinfo", "rp"),
        ("api_call", "rp"),
    ]
    assert [arrow[3] for arrow in arrows(run)][5:] == [200, 200, 200, 200]
    assert run.stage == ExplorerRun.Stage.ENDED and run.outcome == ""
    # The code the person typed is not recorded, in the query or in the form.
    for exchange in exchanges_of(run):
        if exchange.step == "device_verification":
            assert user_code not in exchange.request.url and user_code not in exchange.request.body


def test_polling_too_fast_is_slow_down_and_the_interval_grows(client, person):
    PublicClientFactory(
        client_id="demo-device", kind="device", authorization_grant_type=DEVICE_GRANT_TYPE, redirect_uris=""
    )
    start(client, flow="device", client_id="demo-device", scope="openid")
    run = latest_run()
    press(client, run, "next")
    press(client, run, "next")
    assert json.loads(exchanges_of(run)[-1].response.body)["error"] == "slow_down"
    assert kept(run)["interval"] == "10"
    assert run.stage == ExplorerRun.Stage.DEVICE


def test_a_device_run_page_shows_the_user_code_and_polls_by_itself(client):
    PublicClientFactory(
        client_id="demo-device", kind="device", authorization_grant_type=DEVICE_GRANT_TYPE, redirect_uris=""
    )
    start(client, flow="device", client_id="demo-device", scope="openid")
    run = latest_run()

    html = client.get(f"/developers/flows/runs/{run.pk}").content.decode()

    user_code = kept(run)["user_code"]
    assert f'<code class="user-code">{user_code}</code>' in html
    assert f'href="/device?user_code={user_code}"' in html
    assert 'data-auto-poll="5"' in html and "idp/explorer.js" in html


def test_a_client_credentials_run_page_renders_its_tokens(client):
    demo_service()
    start(client, flow="client_credentials", client_id="demo-service", client_secret=CLIENT_SECRET)
    run = latest_run()
    press(client, run, "remaining")
    page = client.get(f"/developers/flows/runs/{run.pk}")
    assert page.status_code == 200
    assert page.content.decode().count('class="message ') == 4
