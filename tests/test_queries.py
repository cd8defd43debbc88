"""The token endpoint and userinfo do a bounded, pinned amount of database work."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import authorize, exchange

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


def test_code_exchange_query_count(logged_in, web_client):
    authz = authorize(logged_in, web_client, scope="openid profile email offline_access", prompt="consent")
    with CaptureQueriesContext(connection) as ctx:
        response = exchange(logged_in, web_client, authz)
    assert response.status_code == 200
    assert statements(ctx) == [
        "SELECT idp_grant",  # the code, with its user (once, cached on the request)
        "SELECT idp_application",  # the client
        "UPDATE idp_grant",  # mark the code used before minting anything
        "SAVEPOINT",
        "INSERT idp_idtoken",
        "RELEASE",
        "SAVEPOINT",
        "SELECT idp_grant",  # DOT's RFC 8707 resource lookup
        "INSERT idp_accesstoken",
        "INSERT idp_refreshtoken",
        "UPDATE idp_grant",  # remember what the code became, to revoke it if the code is replayed
        "INSERT idp_auditevent",  # the audit trail: tokens issued
        "RELEASE",
        "SELECT idp_accesstoken",  # DOT's TokenView re-reads the token for its app_authorized signal
    ]


def test_userinfo_is_one_query(client, tokens):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200
    assert statements(ctx) == ["SELECT idp_accesstoken"]  # with its client and user joined
