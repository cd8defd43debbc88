"""The explorer's in-process transport: real requests through the site's handler, inside a request."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import get_urlconf, set_urlconf
from django.utils import translation

from idp import logs
from idp.explorer import transport
from idp.models import AuditEvent
from project.accounts.models import User
from tests.conftest import ISSUER, basic_auth
from tests.factories import CLIENT_SECRET, ServiceClientFactory


@pytest.fixture
def service_client(db):
    return ServiceClientFactory(client_id="service-client", allowed_scopes="users:read")


def outer_request(address: str = "203.0.113.9"):
    return RequestFactory().post("/developers/flows/runs/x/next", REMOTE_ADDR=address)


def client_credentials(outer, client_id: str = "service-client", secret: str = CLIENT_SECRET):
    return transport.dispatch(
        outer, "token", method="POST", form={"grant_type": "client_credentials", "scope": "users:read"},
        headers={"Authorization": basic_auth(client_id, secret)},
    )  # fmt: skip


@pytest.mark.django_db
def test_a_token_request_gets_tokens_and_the_audit_sees_the_person_address(service_client):
    reply = client_credentials(outer_request("203.0.113.9"))

    assert reply.response.status_code == 200, reply.response.content
    body = json.loads(reply.response.content)
    assert body["token_type"] == "Bearer" and body["scope"] == "users:read"
    assert reply.request.url == f"{ISSUER}/token"
    assert reply.request.body == "grant_type=client_credentials&scope=users%3Aread"
    assert dict(reply.request.headers)["Content-Type"] == "application/x-www-form-urlencoded"
    event = AuditEvent.objects.get(event=AuditEvent.Event.TOKEN_ISSUED)
    assert event.ip_address == "203.0.113.9"  # the outer request's address, not a loopback of our own
    # The request went through the full stack: the request id middleware answered with its header.
    assert reply.response["X-Request-ID"]


@pytest.mark.django_db
def test_the_answer_is_the_provider_own_error_for_a_wrong_secret(service_client):
    reply = client_credentials(outer_request(), secret="not-the-secret")

    assert reply.response.status_code == 401
    assert json.loads(reply.response.content)["error"] == "invalid_client"
    assert reply.response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.django_db(transaction=True)
def test_the_outer_connection_and_transaction_survive_a_dispatch():
    """request_finished inside an atomic block closes the connection: on PostgreSQL this test fails
    if the transport sends it (SQLite's in-memory test database ignores close requests)."""
    ServiceClientFactory(client_id="service-client", allowed_scopes="users:read")
    raw = connection.connection
    with transaction.atomic():
        User.objects.create(username="written-before")
        reply = client_credentials(outer_request())
        assert reply.response.status_code == 200
        # request_finished would have closed the connection (autocommit is off inside atomic).
        assert connection.connection is raw and connection.in_atomic_block
        assert User.objects.filter(username="written-before").exists()
        User.objects.create(username="written-after")
    assert set(User.objects.values_list("username", flat=True)) >= {"written-before", "written-after"}
    assert connection.connection is raw


@pytest.mark.django_db
def test_the_thread_state_of_the_outer_request_is_put_back(service_client):
    set_urlconf("tests.credential_urls")
    translation.activate("fr")
    logs.start_request("outer-request-id")
    try:
        reply = client_credentials(outer_request())
        assert reply.response.status_code == 200
        assert get_urlconf() == "tests.credential_urls"
        assert translation.get_language() == "fr"
        assert logs.current_request_id() == "outer-request-id"
        assert reply.response["X-Request-ID"] != "outer-request-id"  # the inner request had its own
    finally:
        set_urlconf(None)
        translation.deactivate()
        logs.end_request()


@pytest.mark.django_db
def test_discovery_and_jwks_are_served_through_the_browser_middleware():
    outer = outer_request()
    discovery = transport.dispatch(outer, "discovery")
    jwks = transport.dispatch(outer, "jwks")

    assert discovery.response.status_code == 200
    assert json.loads(discovery.response.content)["issuer"] == ISSUER
    assert json.loads(jwks.response.content)["keys"]
    assert "Set-Cookie" not in discovery.response  # no session was started for it


@pytest.mark.parametrize(
    "endpoint",
    ["https://evil.example/token", "//evil.example/token", "/admin/", "../token", "token?x=1", "", "TOKEN"],
)
def test_only_the_provider_own_endpoints_can_be_named(endpoint):
    with pytest.raises(transport.UnknownEndpoint):
        transport.dispatch(outer_request(), endpoint)


def test_every_endpoint_is_a_path_of_this_issuer():
    for name in transport.ENDPOINTS:
        url = transport.endpoint_url(name)
        assert url.startswith(f"{ISSUER}/") and "?" not in url


@pytest.mark.django_db
def test_the_request_always_goes_to_the_issuer_host_whatever_the_outer_host(service_client):
    outer = RequestFactory().post("/x", HTTP_HOST="localhost", REMOTE_ADDR="198.51.100.1")
    reply = client_credentials(outer)
    assert reply.response.status_code == 200
    assert dict(reply.request.headers)["Host"] == "127.0.0.1:8000"
