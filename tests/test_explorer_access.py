"""Who may use the flow explorer: IDP["FLOW_EXPLORER"] (None: everyone while DEBUG, else staff)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.http import Http404
from django.test import Client, RequestFactory

from idp.explorer.access import explorer_policy, refusal
from idp.explorer.models import ExplorerRun
from tests.conftest import ISSUER, query_of
from tests.explorer_support import (
    arrows,
    explorer_web,
    latest_run,
    press,
    run_path,
    start,
    through_authorization,
)
from tests.factories import CLIENT_SECRET, UserFactory

User = get_user_model()


def request_of(user):
    request = RequestFactory().get("/developers/flows?x=1")
    request.user = user
    return request


@pytest.mark.parametrize(
    ("configured", "debug", "policy"),
    [
        (None, True, "everyone"),
        (None, False, "staff"),
        ("staff", True, "staff"),
        ("everyone", False, "everyone"),
        (False, True, "off"),
        (True, False, "staff"),  # not a documented value: the safer of the open ones
        ("admins", True, "staff"),
    ],
)
def test_the_policy_follows_the_setting(settings, configured, debug, policy):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": configured}
    settings.DEBUG = debug
    assert explorer_policy() == policy


def test_off_is_not_found_for_anyone(settings, db):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": False}
    with pytest.raises(Http404):
        refusal(request_of(UserFactory(is_staff=True, is_superuser=True)))


def test_staff_only_sends_the_anonymous_to_sign_in_and_refuses_others(settings, db):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "staff"}

    anonymous = refusal(request_of(AnonymousUser()))
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/login?next=/developers/flows%3Fx%3D1"
    assert refusal(request_of(UserFactory())).status_code == 403
    assert refusal(request_of(UserFactory(is_staff=True))) is None
    assert refusal(request_of(UserFactory(is_staff=True, is_active=False))).status_code == 403


def test_everyone_lets_the_anonymous_in(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}
    assert refusal(request_of(AnonymousUser())) is None


@pytest.mark.parametrize(
    ("configured", "ids"),
    [
        (None, []),
        ("staff", []),
        ("everyone", []),
        (False, []),
        (True, ["idp.E023"]),
        (0, ["idp.E023"]),
        ("Everyone", ["idp.E023"]),
        ("admins", ["idp.E023"]),
    ],
)
def test_a_value_other_than_the_documented_ones_is_e023(settings, db, configured, ids):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": configured}
    found = [message.id for message in checks.run_checks() if message.id.startswith("idp.E023")]
    assert found == ids


# --- staff only: the browser that owns a run a staff member started may finish it ----------------


@pytest.fixture
def staff_only(settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "staff"}
    settings.DEBUG = False


def started_by(client, user, *, prompt: str = "login"):
    """``user`` (signed in) starts a web-app run asking for a fresh sign-in; the redirect to /authorize."""
    client.force_login(user)
    started = start(client, client_id="explorer-web", client_secret=CLIENT_SECRET, prompt=prompt)
    assert started.status_code == 302, started.content[:300]
    return started


@pytest.mark.django_db
def test_a_run_a_staff_member_started_is_finished_signed_in_as_a_test_account(client, staff_only):
    explorer_web()
    UserFactory(username="tess")  # the test account the staff member signs in as at /authorize
    started = started_by(client, UserFactory(username="sam", is_staff=True))

    landed = through_authorization(client, started, username="tess")

    run = latest_run()
    assert client.get("/").wsgi_request.user.username == "tess"  # no longer staff
    assert landed.status_code == 302 and landed["Location"] == run_path(run)
    page = client.get(run_path(run))
    assert page.status_code == 200 and page["Cache-Control"].count("no-store") == 1
    press(client, run, "remaining")
    assert run.stage == ExplorerRun.Stage.ENDED and run.outcome == ""
    assert arrows(run)[-1][0] == "introspection"
    assert client.get(run_path(run, "export/mermaid")).status_code == 200
    # Everything else still needs staff: the start page, and starting another run.
    assert client.get("/developers/flows").status_code == 403
    assert start(client, client_id="explorer-web", client_secret=CLIENT_SECRET).status_code == 403


@pytest.mark.django_db
def test_a_run_started_by_someone_not_staff_stays_refused(client, settings):
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "everyone"}
    explorer_web()
    started = started_by(client, UserFactory(username="nina"), prompt="")
    through_authorization(client, started)
    run = latest_run()
    before = arrows(run)
    settings.IDP = {**settings.IDP, "FLOW_EXPLORER": "staff"}
    settings.DEBUG = False

    for path in (run_path(run), run_path(run, "export/curl")):
        assert client.get(path).status_code == 403
    assert client.post(run_path(run, "next")).status_code == 403
    assert arrows(run) == before  # nothing sent


@pytest.mark.django_db
def test_another_browser_gets_nothing_of_a_staff_run(client, staff_only):
    explorer_web()
    UserFactory(username="tess")
    started = started_by(client, UserFactory(username="sam", is_staff=True))
    through_authorization(client, started, username="tess")
    run = latest_run()
    before = arrows(run)

    stranger = Client()  # signed in as the same test account, without the run's explorer cookie
    stranger.force_login(User.objects.get(username="tess"))
    assert stranger.get(run_path(run)).status_code == 403
    assert stranger.post(run_path(run, "next")).status_code == 403
    assert arrows(run) == before


@pytest.mark.django_db
def test_a_staff_member_no_longer_staff_cannot_have_runs_finished_for_them(client, staff_only):
    explorer_web()
    UserFactory(username="tess")
    sam = UserFactory(username="sam", is_staff=True)
    started = started_by(client, sam)
    through_authorization(client, started, username="tess")
    run = latest_run()
    User.objects.filter(pk=sam.pk).update(is_staff=False)

    assert client.get(run_path(run)).status_code == 403


@pytest.mark.django_db
def test_the_callback_of_a_staff_run_needs_its_own_state(client, staff_only):
    explorer_web()
    UserFactory(username="tess")
    started = started_by(client, UserFactory(username="sam", is_staff=True))
    client.force_login(User.objects.get(username="tess"))
    state = query_of(started["Location"])["state"]

    forged = {"state": state[:-2] + "xx", "code": "x", "iss": ISSUER}
    assert client.get("/developers/flows/callback", forged).status_code == 403
    assert client.get("/developers/flows/callback", {**forged, "state": state}).status_code == 302
    assert latest_run().stage == ExplorerRun.Stage.STEPS  # the real state: the run goes on
