"""The sessions page: a person sees and ends their own browser sessions, never anyone else's."""

from __future__ import annotations

import pytest
from django.test import Client

from idp.logout.models import LogoutDelivery
from idp.models import AuditEvent
from idp.session_models import BrowserSession
from idp.user_agents import describe_user_agent
from tests.conftest import authorize, exchange
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


def browser(user, *, user_agent: str = FIREFOX, address: str = "203.0.113.7") -> Client:
    """A browser signed in as ``user`` through the sign-in form, as a person does."""
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = client.post("/login", {"username": user.get_username(), "password": "correct horse battery"})
    assert response.status_code == 302, response.content[:300]
    return client


@pytest.fixture
def person(db):
    return UserFactory(username="carol", password="correct horse battery")


def test_the_page_lists_each_live_session_with_device_address_method_and_apps(person, web_client):
    laptop = browser(person)
    phone = browser(person, user_agent=IPHONE, address="198.51.100.4")
    authz = authorize(phone, web_client)
    assert exchange(phone, web_client, authz).status_code == 200
    page = laptop.get("/account/sessions")
    assert page.status_code == 200
    sessions = page.context["sessions"]
    assert [s["device"] for s in sessions] == ["Firefox on Windows", "Safari on iPhone"]  # this one first
    assert sessions[0]["current"] and not sessions[1]["current"]
    assert sessions[1]["address"] == "198.51.100.4" and sessions[1]["methods"] == ["password"]
    assert sessions[1]["apps"] == [web_client.name] and sessions[0]["apps"] == []
    assert b"Sign out everywhere else" in page.content


def test_signing_out_another_session_ends_it_there_and_owes_its_apps_a_logout(person, web_client):
    web_client.backchannel_logout_uri = "https://rp.example.com/backchannel"
    web_client.save()
    laptop, phone = browser(person), browser(person, user_agent=IPHONE)
    authorize(phone, web_client)
    sid = phone.session["idp_sid"]
    response = laptop.post(f"/account/sessions/{sid}/end")
    assert response.status_code == 302
    assert phone.get("/account/sessions").status_code == 302  # signed out: sent to sign in
    assert laptop.get("/account/sessions").status_code == 200  # this one goes on
    assert BrowserSession.objects.get(sid=sid).ended is not None
    assert LogoutDelivery.objects.get().sid == sid
    event = AuditEvent.objects.get(event=AuditEvent.Event.SESSION_ENDED)
    assert event.actor == person and event.details["reason"] == "ended by the person"


def test_another_persons_session_cannot_be_ended_or_seen(person, web_client):
    mallory = UserFactory(username="mallory", password="correct horse battery")
    victim = browser(person)
    attacker = browser(mallory)
    victim_sid = victim.session["idp_sid"]
    assert victim_sid.encode() not in attacker.get("/account/sessions").content
    assert attacker.post(f"/account/sessions/{victim_sid}/end").status_code == 404
    assert BrowserSession.objects.get(sid=victim_sid).ended is None
    assert victim.get("/account/sessions").status_code == 200


def test_ending_sessions_needs_a_post_with_a_csrf_token(person):
    laptop = browser(person)
    laptop.handler.enforce_csrf_checks = True
    sid = laptop.session["idp_sid"]
    assert laptop.get(f"/account/sessions/{sid}/end").status_code == 405
    assert laptop.post(f"/account/sessions/{sid}/end").status_code == 403
    assert laptop.post("/account/sessions/others/end").status_code == 403
    assert BrowserSession.objects.get(sid=sid).ended is None


def test_sign_out_everywhere_else_keeps_this_session(person):
    laptop, phone, tablet = browser(person), browser(person), browser(person)
    assert laptop.post("/account/sessions/others/end").status_code == 302
    assert laptop.get("/account/sessions").status_code == 200
    assert (
        phone.get("/account/sessions").status_code == 302
        and tablet.get("/account/sessions").status_code == 302
    )
    assert BrowserSession.objects.filter(ended__isnull=True).count() == 1


def test_sign_out_everywhere_ends_this_session_too(person, web_client):
    web_client.backchannel_logout_uri = "https://rp.example.com/backchannel"
    web_client.save()
    laptop, phone = browser(person), browser(person)
    authorize(laptop, web_client)
    authorize(phone, web_client)
    response = laptop.post("/account/sessions/others/end", {"everywhere": "1"})
    assert response.status_code == 302
    assert not BrowserSession.objects.filter(ended__isnull=True).exists()
    assert LogoutDelivery.objects.count() == 2
    assert laptop.get("/account/sessions").status_code == 302


def test_signing_out_this_session_from_the_page_signs_out_here(person):
    laptop = browser(person)
    response = laptop.post(f"/account/sessions/{laptop.session['idp_sid']}/end")
    assert response.status_code == 302 and "_auth_user_id" not in laptop.session


def test_an_expired_session_is_not_listed(person, settings):
    laptop, phone = browser(person), browser(person)
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    store(session_key=phone.session.session_key).delete()  # expired or cleared from the store
    sessions = laptop.get("/account/sessions").context["sessions"]
    assert len(sessions) == 1 and sessions[0]["current"]


def test_the_page_needs_a_signed_in_person(client):
    assert client.get("/account/sessions").status_code == 302


def test_a_sign_in_again_in_the_same_browser_keeps_the_sid(person):
    laptop = browser(person)
    sid = laptop.session["idp_sid"]
    laptop.post("/login", {"username": "carol", "password": "correct horse battery"})
    assert laptop.session["idp_sid"] == sid
    assert BrowserSession.objects.count() == 1


def test_the_admin_ends_a_persons_session(admin_client, person, web_client):
    web_client.backchannel_logout_uri = "https://rp.example.com/backchannel"
    web_client.save()
    phone = browser(person)
    authorize(phone, web_client)
    row = BrowserSession.objects.get(user=person)
    listing = admin_client.get(f"/admin/idp/browsersession/?user__id__exact={person.pk}")
    assert listing.status_code == 200 and b"Firefox on Windows" in listing.content
    response = admin_client.post(
        "/admin/idp/browsersession/", {"action": "end_sessions", "_selected_action": [row.pk]}
    )
    assert response.status_code == 302
    assert phone.get("/account/sessions").status_code == 302
    assert LogoutDelivery.objects.get().sid == row.sid
    event = AuditEvent.objects.get(event=AuditEvent.Event.SESSION_ENDED)
    assert event.details["reason"] == "ended by an operator" and event.actor.is_superuser


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FIREFOX, "Firefox on Windows"),
        (IPHONE, "Safari on iPhone"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
         "Chrome on Linux"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/131.0 Safari/537.36 Edg/131.0",
         "Edge on macOS"),
        ("", "Unknown browser"),
        ("curl/8.0", "Unknown browser"),
    ],
)  # fmt: skip
def test_user_agents_are_described_in_a_few_words(user_agent, expected):
    assert describe_user_agent(user_agent) == expected


def test_a_forwarded_address_that_is_not_one_is_not_stored():
    """A proxy header's value is stored only when it is an address (PostgreSQL's inet would refuse it)."""
    from idp.browser_sessions import _valid_address

    assert _valid_address("not-an-address") is None and _valid_address(None) is None
    assert _valid_address("203.0.113.7") == "203.0.113.7" and _valid_address("2001:db8::1") == "2001:db8::1"
