"""The token endpoint and userinfo do a bounded, pinned amount of database work."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import authorize, authorize_params, basic_auth, exchange, pkce_pair

pytestmark = pytest.mark.django_db


def statements(ctx: CaptureQueriesContext) -> list[str]:
    """The SQL verbs and first table of each captured statement, e.g. ``SELECT idp_grant``."""
    out = []
    for query in ctx.captured_queries:
        sql = query["sql"]
        verb = sql.split(None, 1)[0]
        match = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
        table = match.group(1) if match else ""
        out.append(f"{verb} {table}".strip())
    return out


def test_silent_authorization_query_count(logged_in, web_client):
    """Authorize with a live session and remembered consent: the first step of the benchmark's flow."""
    authorize(logged_in, web_client)
    _verifier, challenge = pkce_pair()
    with CaptureQueriesContext(connection) as ctx:
        response = logged_in.get("/authorize", authorize_params(web_client, challenge=challenge))
    assert response.status_code == 302 and "code=" in response["Location"]
    assert statements(ctx) == [
        "SELECT django_session",  # the browser session (Redis in production: no query)
        "SELECT idp_user",  # the signed-in person
        "SELECT idp_application",  # the client, once for DOT, the consent check and the redirect
        "SELECT idp_consent",  # what the person already allowed
        "INSERT idp_grant",  # the code
    ]


def test_code_exchange_query_count(logged_in, web_client):
    authz = authorize(logged_in, web_client, scope="openid profile email offline_access", prompt="consent")
    with CaptureQueriesContext(connection) as ctx:
        response = exchange(logged_in, web_client, authz)
    assert response.status_code == 200
    assert statements(ctx) == [
        "SELECT idp_grant",  # the code, with its user (once, kept on the request)
        "SELECT idp_application",  # the client
        "SAVEPOINT",  # one transaction saves everything, or nothing
        "INSERT idp_idtoken",
        "INSERT idp_accesstoken",
        "INSERT idp_refreshtoken",
        "UPDATE idp_grant",  # claims the code and links its tokens (no row: a replay lost a race)
        "INSERT idp_auditevent",  # the audit trail: tokens issued
        "RELEASE",
    ]


def test_userinfo_is_one_query(client, tokens):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200
    assert statements(ctx) == ["SELECT idp_accesstoken"]  # with its client and user joined


def test_api_call_is_one_query(client, tokens):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200
    assert statements(ctx) == ["SELECT idp_accesstoken"]  # throttles count in the cache, not the database


def test_introspection_query_count(client, web_client, tokens):
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/introspect", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=basic_auth("web-client")
        )
    assert response.json()["active"] is True
    assert statements(ctx) == ["SELECT idp_application", "SELECT idp_accesstoken"]


def _device_codes(client, device_client, scope: str) -> dict:
    response = client.post(
        "/device-authorization",
        f"client_id={device_client.client_id}&scope={scope}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _device_poll(client, device_client, device_code: str):
    data = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device_code}
    return client.post("/token", {**data, "client_id": device_client.client_id})


def test_device_poll_query_counts(client, logged_in, device_client):
    codes = _device_codes(client, device_client, "openid+offline_access")
    with CaptureQueriesContext(connection) as pending:
        assert (
            _device_poll(client, device_client, codes["device_code"]).json()["error"]
            == "authorization_pending"
        )
    assert statements(pending) == [
        "SELECT idp_application",  # the client
        "SELECT idp_devicegrant",  # the grant, by the device code's checksum, with its person
        "SAVEPOINT",  # the interval, read and moved on under a row lock (slow_down)
        "SELECT idp_devicegrant",
        "UPDATE idp_devicegrant",
        "RELEASE",
    ]
    page = logged_in.post("/device", {"user_code": codes["user_code"]})
    logged_in.post("/device", {"allow": "1", "shown": page.context["shown"]})
    with CaptureQueriesContext(connection) as issued:
        assert _device_poll(client, device_client, codes["device_code"]).status_code == 200
    assert statements(issued) == [
        "SELECT idp_application",
        "SELECT idp_devicegrant",
        "SAVEPOINT",
        "INSERT idp_idtoken",
        "INSERT idp_accesstoken",
        "INSERT idp_refreshtoken",
        "UPDATE idp_devicegrant",  # claims the device code (no row: a concurrent poll used it first)
        "INSERT idp_auditevent",
        "RELEASE",
    ]


def test_silent_authorization_with_satisfied_acr_values_is_the_same_five(logged_in, web_client):
    """acr_values the session already satisfies, and a client's second-factor policy, cost no query:
    amr is in the session, the policy on the client row already read."""
    from idp.mfa.acr import SFA

    authorize(logged_in, web_client)
    _verifier, challenge = pkce_pair()
    with CaptureQueriesContext(connection) as ctx:
        response = logged_in.get(
            "/authorize", authorize_params(web_client, challenge=challenge, acr_values=SFA)
        )
    assert response.status_code == 302 and "code=" in response["Location"]
    assert len(statements(ctx)) == 5
