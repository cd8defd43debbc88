"""How the token endpoint saves what it issues: one transaction that claims the code, and its hooks."""

import pytest
from django.db import connection
from django.utils import timezone
from oauth2_provider.signals import app_authorized

from idp.models import AccessToken, AuditEvent, Grant, IDToken
from tests.conftest import authorize, exchange

pytestmark = pytest.mark.django_db


def test_a_code_used_by_a_concurrent_request_first_issues_nothing_and_revokes_the_first_use(
    logged_in, web_client
):
    """The loser of a race for one code finds it claimed when saving: a replay (RFC 6749 §4.1.2)."""
    earlier = exchange(logged_in, web_client, authorize(logged_in, web_client))
    first_use = AccessToken.objects.get()
    authz = authorize(logged_in, web_client)

    def concurrent_first_use(execute, sql, params, many, context):
        # Right after this request read the code (unused) and its client, a concurrent request
        # using the same code commits first: it claims the code and links its own token.
        result = execute(sql, params, many, context)
        if not won and sql.startswith('SELECT "idp_application"'):
            won.append(True)
            Grant.objects.filter(access_token=first_use).update(access_token=None)
            Grant.objects.filter(code=authz.code).update(used_at=timezone.now(), access_token=first_use)
        return result

    won = []
    with connection.execute_wrapper(concurrent_first_use):
        response = exchange(logged_in, web_client, authz)
    assert won
    assert earlier.status_code == 200
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert response["Cache-Control"] == "no-store"
    assert not AccessToken.objects.exists()  # the loser's token rolled back, the winner's revoked
    assert IDToken.objects.count() == 1  # only the earlier exchange's ID token row
    event = AuditEvent.objects.filter(event=AuditEvent.Event.CODE_REUSE).get()
    assert event.details == {"race": True} and event.client_identifier == web_client.client_id


def test_app_authorized_announces_the_issued_token_to_its_listeners(logged_in, web_client):
    announced = []

    def listener(sender, request, token, **kwargs):
        announced.append(token)

    app_authorized.connect(listener)
    try:
        response = exchange(logged_in, web_client, authorize(logged_in, web_client))
    finally:
        app_authorized.disconnect(listener)
    assert response.status_code == 200
    assert announced == [AccessToken.objects.get()]


def test_the_code_and_its_tokens_are_linked_in_one_save(logged_in, web_client):
    authz = authorize(logged_in, web_client, scope="openid offline_access", prompt="consent")
    assert exchange(logged_in, web_client, authz).status_code == 200
    grant = Grant.objects.get(code=authz.code)
    token = AccessToken.objects.get()
    assert grant.used_at is not None and grant.access_token == token
    assert grant.token_family == token.refresh_token.token_family
    assert token.id_token is not None and token.id_token.user_id == token.user_id


# --- RFC 8707 resource indicators: the code's resources, narrowed or inherited ---------------------

API = "https://api.example.com"


def test_a_token_inherits_the_resources_its_code_was_issued_for(logged_in, web_client):
    authz = authorize(logged_in, web_client, resource=API)
    assert exchange(logged_in, web_client, authz).status_code == 200
    assert AccessToken.objects.get().resource == [API]


def test_a_token_may_narrow_to_the_codes_resources(logged_in, web_client):
    authz = authorize(logged_in, web_client, resource=API)
    assert exchange(logged_in, web_client, authz, resource=API).status_code == 200
    assert AccessToken.objects.get().resource == [API]


def test_a_token_may_not_reach_beyond_the_codes_resources(logged_in, web_client):
    authz = authorize(logged_in, web_client, resource=API)
    response = exchange(logged_in, web_client, authz, resource="https://other.example.com")
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"
    assert not AccessToken.objects.exists()


def test_a_malformed_resource_at_the_token_endpoint_is_invalid_target(logged_in, web_client):
    response = exchange(logged_in, web_client, authorize(logged_in, web_client), resource="not-a-uri")
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"
