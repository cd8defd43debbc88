"""Back-Channel Logout 1.0: sid in ID tokens, logout tokens owed when a session ends, and their delivery."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from jwcrypto import jws

from idp.browser_sessions import end_browser_session
from idp.logout.models import LogoutDelivery
from idp.logout.outbox import deliver_due
from idp.logout.tokens import EVENT
from idp.logout.transport import DeliveryError, checked_addresses
from idp.models import AuditEvent, RefreshToken
from idp.session_models import BrowserSession, SessionClient
from idp.sessions import SID_KEY
from tests.backchannel_rp import LogoutReceiver
from tests.conftest import ISSUER, authorize, basic_auth, exchange, verify_id_token
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

Event = AuditEvent.Event


@pytest.fixture
def receiver():
    with LogoutReceiver() as rp:
        yield rp


def sign_in_at(client, app, scope="openid profile email") -> dict:
    authz = authorize(
        client, app, scope=scope, **({"prompt": "consent"} if "offline_access" in scope else {})
    )
    response = exchange(client, app, authz)
    assert response.status_code == 200, response.content
    return response.json()


def verified_logout_token(client, token: str) -> tuple[dict, dict]:
    """The header and claims of a logout token verified against the served JWKS."""
    claims = verify_id_token(client, token)
    header = jws.JWS()
    header.deserialize(token)
    return header.jose_header, claims


def events(kind) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=kind).order_by("pk"))


def make_due() -> None:
    LogoutDelivery.objects.update(next_attempt=timezone.now() - timedelta(seconds=1))


# --- sid ---------------------------------------------------------------------------------------------


def test_the_id_token_carries_this_browser_sessions_sid(logged_in, web_client, user):
    claims = verify_id_token(logged_in, sign_in_at(logged_in, web_client)["id_token"])
    session = BrowserSession.objects.get(user=user)
    assert claims["sid"] == session.sid == logged_in.session[SID_KEY]
    assert len(session.sid) >= 32 and session.ended is None
    assert list(session.clients.all()) == [web_client]


def test_the_sid_is_stable_across_clients_and_refreshes(logged_in, web_client, other_client, user):
    first = sign_in_at(logged_in, web_client, scope="openid offline_access")
    second = sign_in_at(logged_in, other_client)
    refreshed = logged_in.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth("web-client"),
    ).json()
    sids = {verify_id_token(logged_in, t["id_token"])["sid"] for t in (first, second, refreshed)}
    assert sids == {BrowserSession.objects.get(user=user).sid}
    assert SessionClient.objects.count() == 2


def test_two_browsers_have_two_sids(client, web_client, user):
    from django.test import Client

    other = Client()
    client.force_login(user)
    other.force_login(user)
    a = verify_id_token(client, sign_in_at(client, web_client)["id_token"])["sid"]
    b = verify_id_token(other, sign_in_at(other, web_client)["id_token"])["sid"]
    assert a != b
    assert BrowserSession.objects.filter(user=user, ended__isnull=True).count() == 2


def test_discovery_advertises_back_channel_logout_with_sid(client):
    doc = client.get("/.well-known/openid-configuration").json()
    assert doc["backchannel_logout_supported"] is True
    assert doc["backchannel_logout_session_supported"] is True
    assert "frontchannel_logout_supported" not in doc


# --- logout tokens -----------------------------------------------------------------------------------


def test_signing_out_here_sends_a_verified_logout_token_with_the_id_tokens_sub_and_sid(
    logged_in, web_client, receiver
):
    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    id_claims = verify_id_token(logged_in, sign_in_at(logged_in, web_client)["id_token"])
    logged_in.post("/logout")
    assert LogoutDelivery.objects.count() == 1 and receiver.received == []  # owed, not yet sent
    assert deliver_due() == (1, 0)
    (entry,) = receiver.received
    assert entry["path"] == "/backchannel-logout"
    assert entry["content_type"] == "application/x-www-form-urlencoded"
    header, claims = verified_logout_token(logged_in, entry["form"]["logout_token"])
    assert header["typ"] == "logout+jwt" and header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == web_client.client_id
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims and claims["jti"] and claims["jti"] != id_claims["jti"]
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert BrowserSession.objects.get(sid=id_claims["sid"]).ended is not None
    (ended,) = events(Event.SESSION_ENDED)
    assert ended.details["sid"] == id_claims["sid"] and ended.details["clients"] == [web_client.client_id]
    (delivered,) = events(Event.LOGOUT_DELIVERED)
    assert delivered.client == web_client and delivered.details["attempt"] == 1
    assert deliver_due() == (0, 0)  # delivered once, never again


def test_every_client_of_the_session_is_told_and_only_those(logged_in, web_client, other_client, user):
    third = ApplicationFactory(client_id="not-used-in-this-session")
    with LogoutReceiver() as a, LogoutReceiver() as b, LogoutReceiver() as c:
        for app, rp in ((web_client, a), (other_client, b), (third, c)):
            app.backchannel_logout_uri = rp.url
            app.save()
        sign_in_at(logged_in, web_client)
        sign_in_at(logged_in, other_client)
        logged_in.post("/logout")
        assert deliver_due() == (2, 0)
        assert len(a.tokens) == len(b.tokens) == 1 and c.received == []
    audiences = {verify_id_token(logged_in, t)["aud"] for t in a.tokens + b.tokens}
    assert audiences == {"web-client", "other-client"}


def test_a_client_without_a_back_channel_uri_is_owed_nothing(logged_in, web_client):
    sign_in_at(logged_in, web_client)
    logged_in.post("/logout")
    assert LogoutDelivery.objects.count() == 0
    assert events(Event.SESSION_ENDED)[0].details["logouts"] == 0


def test_a_relying_party_that_fails_then_recovers_gets_the_token_on_a_retry(logged_in, web_client):
    with LogoutReceiver([500, 503]) as rp:
        web_client.backchannel_logout_uri = rp.url
        web_client.save()
        sign_in_at(logged_in, web_client)
        logged_in.post("/logout")
        assert deliver_due() == (0, 1)
        row = LogoutDelivery.objects.get()
        assert row.attempts == 1 and row.delivered is None and "HTTP 500" in row.last_error
        assert row.next_attempt > timezone.now() + timedelta(seconds=5)  # backoff
        assert deliver_due() == (0, 0)  # not due yet
        make_due()
        assert deliver_due() == (0, 1)
        assert LogoutDelivery.objects.get().next_attempt - timezone.now() > timedelta(seconds=15)  # doubled
        make_due()
        assert deliver_due() == (1, 0)
        assert len(rp.tokens) == 3
    claims = [verify_id_token(logged_in, token) for token in rp.tokens]
    assert len({c["jti"] for c in claims}) == 3 and len({c["sid"] for c in claims}) == 1
    assert [e.details["attempt"] for e in events(Event.LOGOUT_ATTEMPT_FAILED)] == [1, 2]
    assert events(Event.LOGOUT_DELIVERED)[0].details["attempt"] == 3
    assert LogoutDelivery.objects.get().delivered is not None


def test_delivery_is_given_up_after_the_last_attempt_and_recorded(logged_in, web_client, settings):
    settings.IDP = {**getattr(settings, "IDP", {}), "BACKCHANNEL_LOGOUT_MAX_ATTEMPTS": 2}
    with LogoutReceiver([500, 500, 500]) as rp:
        web_client.backchannel_logout_uri = rp.url
        web_client.save()
        sign_in_at(logged_in, web_client)
        logged_in.post("/logout")
        deliver_due()
        make_due()
        deliver_due()
        make_due()
        assert deliver_due() == (0, 0)
        assert len(rp.received) == 2
    assert LogoutDelivery.objects.get().given_up is not None
    (gave_up,) = events(Event.LOGOUT_GAVE_UP)
    assert gave_up.client == web_client and "HTTP 500" in gave_up.details["error"]


def test_redirects_are_not_followed(logged_in, web_client):
    with LogoutReceiver() as target, LogoutReceiver(redirect_to="") as rp:
        rp.redirect_to = target.url
        web_client.backchannel_logout_uri = rp.url
        web_client.save()
        sign_in_at(logged_in, web_client)
        logged_in.post("/logout")
        assert deliver_due() == (0, 1)
        assert target.received == [] and len(rp.received) == 1
    assert "HTTP 302" in LogoutDelivery.objects.get().last_error


def test_production_mode_never_posts_to_a_loopback_address(logged_in, web_client, settings, receiver):
    settings.IDP = {**getattr(settings, "IDP", {}), "BACKCHANNEL_LOGOUT_ALLOW_PRIVATE": False}
    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    logged_in.post("/logout")
    assert deliver_due() == (0, 1)
    assert receiver.received == []
    assert "non-public address" in LogoutDelivery.objects.get().last_error
    assert "non-public" in events(Event.LOGOUT_ATTEMPT_FAILED)[0].details["error"]


def test_a_non_loopback_issuer_refuses_private_targets_by_default(logged_in, web_client, settings, receiver):
    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    logged_in.post("/logout")
    assert deliver_due() == (0, 1) and receiver.received == []


@pytest.mark.parametrize(
    "address", ["10.0.0.5", "169.254.169.254", "192.168.1.1", "::1", "fd00::1", "::ffff:127.0.0.1"]
)
def test_a_name_resolving_to_any_private_address_is_refused(monkeypatch, address):
    """Every address a name resolves to is checked (DNS rebinding: one public answer is not enough)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (family, socket.SOCK_STREAM, 6, "", (address, port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(DeliveryError, match="non-public"):
        checked_addresses("rp.example.com", 443, allow_private=False)
    assert checked_addresses("rp.example.com", 443, allow_private=True)[0] == "93.184.216.34"


def test_a_uri_removed_after_the_logout_is_not_posted_to(logged_in, web_client, receiver):
    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    logged_in.post("/logout")
    web_client.backchannel_logout_uri = ""
    web_client.save()
    assert deliver_due() == (0, 1)
    assert receiver.received == [] and LogoutDelivery.objects.get().given_up is not None


# --- what ends a session -----------------------------------------------------------------------------


def test_rp_initiated_logout_tells_every_client_including_the_initiating_one(logged_in, web_client, receiver):
    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    tokens = sign_in_at(logged_in, web_client)
    response = logged_in.get("/end-session", {"id_token_hint": tokens["id_token"]})
    assert response.status_code == 200
    assert deliver_due() == (1, 0)
    assert (
        verify_id_token(logged_in, receiver.tokens[0])["sid"]
        == verify_id_token(logged_in, tokens["id_token"])["sid"]
    )


def test_rp_initiated_logout_ends_the_session_its_hint_names_from_another_browser(
    client, web_client, user, receiver
):
    """The RP's logout arrives from a browser without our session: the hint's sid names the one to end."""
    from django.test import Client

    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    client.force_login(user)
    tokens = sign_in_at(client, web_client)
    sid = verify_id_token(client, tokens["id_token"])["sid"]
    elsewhere = Client()
    elsewhere.force_login(user)
    response = elsewhere.get("/end-session", {"id_token_hint": tokens["id_token"]})
    assert response.status_code == 200
    assert BrowserSession.objects.get(sid=sid).ended is not None
    assert "_auth_user_id" not in client.session  # that browser is signed out too
    assert deliver_due() == (1, 0)


def test_deactivating_a_person_ends_all_their_sessions(client, web_client, user, receiver):
    from django.test import Client

    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    first, second = Client(), Client()
    for browser in (first, second):
        browser.force_login(user)
        sign_in_at(browser, web_client)
    user.is_active = False
    user.save()
    assert not BrowserSession.objects.filter(ended__isnull=True).exists()
    assert deliver_due() == (2, 0)
    assert len({verify_id_token(client, t)["sid"] for t in receiver.tokens}) == 2
    assert {e.details["reason"] for e in events(Event.SESSION_ENDED)} == {"account deactivated"}


def test_a_new_password_ends_every_session(logged_in, web_client, user, receiver):
    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    user.set_password("a brand new passphrase 42")
    user.save()
    assert BrowserSession.objects.get().ended is not None
    assert "_auth_user_id" not in logged_in.session  # the session store forgot it
    assert deliver_due() == (1, 0)


def test_refresh_tokens_survive_logout_unless_the_clients_policy_ends_them(
    logged_in, web_client, other_client
):
    other_client.logout_ends_offline_access = True
    other_client.save()
    sign_in_at(logged_in, web_client, scope="openid offline_access")
    sign_in_at(logged_in, other_client, scope="openid offline_access")
    logged_in.post("/logout")
    assert RefreshToken.objects.get(application=web_client).revoked is None  # offline access survives
    assert RefreshToken.objects.get(application=other_client).revoked is not None
    assert events(Event.SESSION_ENDED)[0].details["revoked"] == 1


def test_ending_a_session_twice_owes_one_logout(logged_in, web_client, receiver, user):
    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    row = BrowserSession.objects.get()
    assert end_browser_session(row, reason="test") is True
    assert end_browser_session(row, reason="test") is False
    assert LogoutDelivery.objects.count() == 1


def test_a_second_code_for_the_same_client_and_session_writes_no_link(logged_in, web_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign_in_at(logged_in, web_client)
    with CaptureQueriesContext(connection) as ctx:
        sign_in_at(logged_in, web_client)
    assert not [q for q in ctx.captured_queries if "idp_sessionclient" in q["sql"]]
    assert not [q for q in ctx.captured_queries if "idp_browsersession" in q["sql"]]


def test_the_logout_token_is_signed_by_the_active_key_after_a_rotation(
    logged_in, web_client, receiver, settings
):
    from idp.keys import generate_private_key_pem

    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    logged_in.post("/logout")
    old = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": generate_private_key_pem(),
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [old],
    }
    deliver_due()
    header, _claims = verified_logout_token(logged_in, receiver.tokens[0])
    active = json.loads(logged_in.get("/.well-known/jwks.json").content)["keys"][0]["kid"]
    assert header["kid"] == active


@pytest.mark.django_db(transaction=True)
def test_the_first_attempt_is_made_at_once_beside_the_response(
    client, web_client, user, django_capture_on_commit_callbacks
):
    """Once the session's end commits, a thread POSTs the token: no worker needed for the first try."""
    with LogoutReceiver() as rp:
        web_client.backchannel_logout_uri = rp.url
        web_client.save()
        client.force_login(user)
        sign_in_at(client, web_client)
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/logout")
        assert rp.event.wait(10)
        deadline = time.monotonic() + 10
        while LogoutDelivery.objects.get().delivered is None and time.monotonic() < deadline:
            rp.event.wait(0.05)
        assert len(rp.tokens) == 1
    assert LogoutDelivery.objects.get().delivered is not None
    assert deliver_due() == (0, 0)  # nothing left for the worker: never sent twice


def test_two_workers_never_take_the_same_row(logged_in, web_client, receiver):
    from idp.logout.outbox import _claim

    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    logged_in.post("/logout")
    pk = LogoutDelivery.objects.get().pk
    now = timezone.now()
    assert [row.pk for row in _claim([pk], now)] == [pk]
    assert _claim([pk], now) == []  # leased: the second claimant gets nothing


def test_cleanup_forgets_old_session_records_and_finished_deliveries(logged_in, web_client, receiver, user):
    from io import StringIO

    from django.core.management import call_command

    web_client.backchannel_logout_uri = receiver.url
    web_client.save()
    sign_in_at(logged_in, web_client)
    logged_in.post("/logout")
    deliver_due()
    logged_in.force_login(user)  # a live session: kept
    long_ago = timezone.now() - timedelta(days=31)
    BrowserSession.objects.filter(ended__isnull=False).update(ended=long_ago)
    out = StringIO()
    call_command("idp_cleartokens", stdout=out)
    assert "1 old session records" in out.getvalue()
    assert BrowserSession.objects.get().ended is None
    assert LogoutDelivery.objects.count() == 1  # delivered just now: kept for a while
    LogoutDelivery.objects.update(delivered=long_ago)
    call_command("idp_cleartokens", stdout=out)
    assert not LogoutDelivery.objects.exists()
