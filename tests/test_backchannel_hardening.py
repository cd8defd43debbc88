"""Back-channel logout and sessions against hostile input: relying parties, addresses and sids."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from idp.logout.models import LogoutDelivery
from idp.logout.outbox import deliver_due
from idp.logout.transport import DeliveryError, checked_addresses, post_logout_token
from idp.session_models import BrowserSession
from tests.backchannel_rp import LogoutReceiver
from tests.conftest import authorize
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    response = client.post("/login", {"username": user.get_username(), "password": "correct horse battery"})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("sid", ["a%00b", "%00", "x" * 5000, "%C0%80", "%ED%A0%80"])
def test_a_hostile_sid_in_the_end_session_address_is_not_found_not_a_500(sid):
    person = UserFactory(username="dora", password="correct horse battery")
    browser = signed_in(person)
    response = browser.post(f"/account/sessions/{sid}/end")
    assert response.status_code == 404
    assert BrowserSession.objects.filter(user=person, ended__isnull=True).count() == 1


class SlowRelyingParty:
    """A relying party that answers a status line, then a header a byte at a time, each well within the
    per-read timeout: a worker reading it with only per-read timeouts would wait for ever."""

    def __init__(self, *, seconds: float = 8.0, every: float = 0.1):
        self.seconds, self.every = seconds, every
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/backchannel"
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                deadline = time.monotonic() + self.seconds
                while time.monotonic() < deadline:
                    connection.sendall(b"a")
                    time.sleep(self.every)
                connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass  # the worker hung up: as it should

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.close()
        self.thread.join(timeout=10)


def test_a_relying_party_dripping_its_answer_cannot_hold_the_worker_past_the_timeout():
    with SlowRelyingParty() as rp:
        started = time.monotonic()
        with pytest.raises(DeliveryError):
            post_logout_token(rp.url, "a.b.c", allow_private=True, timeout=0.5)
        assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 (RFC 6052) of 169.254.169.254, the cloud metadata service
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b:1::a00:5",  # the local-use NAT64 prefix (RFC 8215)
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible (deprecated) 169.254.169.254
        "::ffff:0:a00:5",  # IPv4-translated (RFC 2765) 10.0.0.5
    ],
)
def test_an_ipv6_address_carrying_a_private_ipv4_address_is_refused(monkeypatch, address):
    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(DeliveryError, match="non-public"):
        checked_addresses("rp.example.com", 443, allow_private=False)


@pytest.mark.parametrize("address", ["64:ff9b::5db8:d822", "2606:2800:220:1:248:1893:25c8:1946"])
def test_an_ipv6_address_of_a_public_host_is_allowed(monkeypatch, address):
    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert checked_addresses("rp.example.com", 443, allow_private=False) == [address]


@pytest.mark.django_db(transaction=True)
def test_a_worker_pass_takes_each_row_only_when_it_comes_to_it(web_client):
    """A pass leases a row as it starts that row's attempt, not its whole batch at once. Each attempt is
    bounded by the timeout, a batch of them is not (100 unanswering relying parties: over 8 minutes):
    rows whose two-minute lease ran out before the pass reached them were taken by a second worker (or
    cron's next ``--once``) and POSTed twice, the first pass then saving over the second's outcome."""
    due = []

    def look(token: str) -> dict:  # in the relying party, while the pass is on a row: what is still due
        rows = LogoutDelivery.objects.filter(
            delivered__isnull=True, given_up__isnull=True, next_attempt__lte=timezone.now()
        )
        due.append(sorted(rows.values_list("sid", flat=True)))
        return {}

    with LogoutReceiver(verify=look) as rp:
        web_client.backchannel_logout_uri = rp.url
        web_client.save()
        earlier = timezone.now() - timedelta(seconds=1)
        for sid in ("s1", "s2", "s3"):
            LogoutDelivery.objects.create(application=web_client, sub="x", sid=sid, next_attempt=earlier)
        assert deliver_due() == (3, 0)
    assert due == [["s2", "s3"], ["s3"], []]
    assert LogoutDelivery.objects.filter(delivered__isnull=False, attempts=1).count() == 3


def test_an_operator_still_signed_in_after_changing_their_own_password_gets_a_new_sid(web_client):
    """The admin keeps an operator signed in after they change their own password (Django's
    ``update_session_auth_hash``), though the change ended every session of theirs, this one too. The
    browser kept the ended session's sid: the apps used afterwards were linked to a session that had
    already ended, so signing out later owed them no logout token."""
    operator = UserFactory(username="ops", password="correct horse battery", is_staff=True, is_superuser=True)
    web_client.backchannel_logout_uri = "https://rp.example.com/backchannel"
    web_client.save()
    browser = signed_in(operator)
    old_sid = browser.session["idp_sid"]
    new_password = "a brand new passphrase 42"
    response = browser.post(
        f"/admin/accounts/user/{operator.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert browser.get("/account/sessions").status_code == 200  # still signed in, here
    authorize(browser, web_client)
    assert browser.session["idp_sid"] != old_sid
    assert BrowserSession.objects.get(sid=browser.session["idp_sid"]).ended is None
    browser.post("/logout")
    assert LogoutDelivery.objects.filter(application=web_client).count() == 1  # for the app used since


@pytest.mark.django_db(transaction=True)
def test_ending_many_sessions_at_once_starts_a_bounded_number_of_delivery_threads(
    web_client, django_capture_on_commit_callbacks
):
    """Each ended session started a thread of its own for its first attempts, each holding a database
    connection while it waited on the relying party: a person who signed in a few hundred times, then
    pressed "Sign out everywhere", made as many threads and connections at once (PostgreSQL's 100 by
    default: every other request then failed). Beyond a few, the first attempt is left to the worker."""
    lock, current, peak = threading.Lock(), [0], [0]

    def slow(token: str) -> dict:
        with lock:
            current[0] += 1
            peak[0] = max(peak[0], current[0])
        time.sleep(0.5)
        with lock:
            current[0] -= 1
        return {}

    person = UserFactory(username="erin", password="correct horse battery")
    with LogoutReceiver(verify=slow) as rp:
        web_client.backchannel_logout_uri = rp.url
        web_client.save()
        browsers = [Client() for _ in range(10)]
        for browser in browsers:
            browser.force_login(person)
            authorize(browser, web_client)
        with django_capture_on_commit_callbacks(execute=True):
            response = browsers[0].post("/account/sessions/others/end", {"everywhere": "1"})
        assert response.status_code == 302
        deadline = time.monotonic() + 15
        while any(thread.name == "idp-logout-delivery" for thread in threading.enumerate()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert LogoutDelivery.objects.count() == 10  # each owed: delivered, or left to the worker
    assert 1 <= peak[0] <= 4, peak
