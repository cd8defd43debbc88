"""Who may use the flow explorer: IDP["FLOW_EXPLORER"] (None: everyone while DEBUG, else staff)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.http import Http404
from django.test import RequestFactory

from idp.explorer.access import explorer_policy, refusal
from tests.factories import UserFactory


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
