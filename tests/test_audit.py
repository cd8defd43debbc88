"""The audit trail: sign-ins, consent, tokens, reuse, clients and keys, recorded once, without secrets."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from idp.audit import delete_expired_events, record
from idp.consent import revoke_consent
from idp.models import AuditEvent
from tests.conftest import authorize, basic_auth, exchange
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def events(**filters) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).order_by("pk").values_list("event", flat=True))


def test_sign_in_success_and_failure_are_recorded_with_the_address(client, user):
    client.post("/login", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="203.0.113.7")
    client.post("/login", {"username": "nobody-typed-a-password", "password": "x"})
    client.post("/login", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    failed, unknown, ok = AuditEvent.objects.order_by("pk")
    assert (failed.event, failed.actor, failed.ip_address) == ("sign_in_failed", user, "203.0.113.7")
    assert (unknown.event, unknown.actor, unknown.actor_name) == ("sign_in_failed", None, "")
    assert "nobody-typed-a-password" not in str(unknown.details)
    assert (ok.event, ok.actor_name, ok.ip_address) == ("sign_in", "alice", "203.0.113.7")
    assert "wrong" not in str(failed.details) and PASSWORD not in str(ok.details)


def test_lockout_is_recorded_once_with_the_account_and_address(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login", {"username": "alice", "password": "wrong-guess"}, REMOTE_ADDR="203.0.113.9")
    refused = client.post("/login", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429  # an attempt while locked out is no new lockout
    (lockout,) = AuditEvent.objects.filter(event="lockout")
    assert (lockout.actor, lockout.actor_name, lockout.ip_address) == (user, "alice", "203.0.113.9")
    assert lockout.details == {
        "known_account": True,
        "failures": settings.AXES_FAILURE_LIMIT,
        "locked_address": "203.0.113.9",
    }
    assert "wrong-guess" not in str(lockout.details) and PASSWORD not in str(lockout.details)


def test_lockout_of_an_address_guessing_unknown_accounts_names_no_account(client, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login", {"username": f"guess{number}", "password": "pw"}, REMOTE_ADDR="192.0.2.8")
    (lockout,) = AuditEvent.objects.filter(event="lockout")
    assert (lockout.actor, lockout.actor_name, lockout.ip_address) == (None, "", "192.0.2.8")
    assert "guess" not in str(lockout.details)


def test_consent_and_token_issuance_are_recorded(logged_in, web_client, user):
    authz = authorize(logged_in, web_client, scope="openid email")
    body = exchange(logged_in, web_client, authz).json()
    assert events(client=web_client) == ["consent_granted", "token_issued"]
    issued = AuditEvent.objects.get(event="token_issued")
    assert (issued.actor, issued.client_identifier) == (user, "web-client")
    assert issued.details["grant_type"] == "authorization_code" and issued.details["scope"] == "openid email"
    assert body["access_token"] not in str(issued.details) and authz.code not in str(issued.details)
    authorize(logged_in, web_client, scope="openid email")  # remembered: nothing new granted
    assert events(event="consent_granted") == ["consent_granted"]
    revoke_consent(user, web_client)
    assert AuditEvent.objects.get(event="consent_revoked").actor == user


def test_client_credentials_issuance_has_no_person(client, service_client):
    client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth("service-client")
    )
    event = AuditEvent.objects.get(event="token_issued")
    assert event.actor is None and event.client == service_client


def test_refresh_token_reuse_is_recorded(client, tokens, web_client, user):
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert client.post("/token", refresh, HTTP_AUTHORIZATION=basic_auth("web-client")).status_code == 200
    assert client.post("/token", refresh, HTTP_AUTHORIZATION=basic_auth("web-client")).status_code == 400
    event = AuditEvent.objects.get(event="refresh_token_reuse")
    assert (event.actor, event.client) == (user, web_client)


def test_code_reuse_is_recorded(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    exchange(logged_in, web_client, authz)
    assert exchange(logged_in, web_client, authz).status_code == 400
    assert events(event="code_reuse") == ["code_reuse"]


def test_revocation_endpoint_is_recorded_only_for_the_clients_own_tokens(client, tokens, web_client):
    client.post("/revoke", {"token": "not-a-token"}, HTTP_AUTHORIZATION=basic_auth("web-client"))
    assert not events(event="token_revoked")
    client.post("/revoke", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=basic_auth("web-client"))
    assert AuditEvent.objects.get(event="token_revoked").details == {"via": "revocation endpoint"}


def test_key_generation_is_recorded(tmp_path):
    call_command("idp_keys", "generate", "--out", str(tmp_path / "k.pem"))
    event = AuditEvent.objects.get(event="key_generated")
    assert event.details["kid"] and "PRIVATE" not in str(event.details)


def test_secret_like_details_are_never_stored():
    event = record(AuditEvent.Event.CLIENT_CHANGED, client_secret="s3cr3t", access_token="t", fields=["name"])
    assert event.details == {"fields": ["name"]}


def test_events_are_append_only():
    event = record(AuditEvent.Event.KEY_GENERATED, kid="abc")
    event.details = {"kid": "forged"}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_cleanup_removes_only_events_past_retention(settings):
    settings.IDP = {**settings.IDP, "AUDIT_RETENTION_DAYS": 30}
    old = record(AuditEvent.Event.KEY_GENERATED, kid="old")
    AuditEvent.objects.filter(pk=old.pk).update(time=timezone.now() - timedelta(days=31))
    recent = record(AuditEvent.Event.KEY_GENERATED, kid="recent")
    call_command("idp_audit_cleanup")
    assert list(AuditEvent.objects.all()) == [recent]
    assert delete_expired_events() == 0


def test_deleted_people_and_clients_keep_their_events(service_client):
    person = UserFactory(username="gone")
    record(AuditEvent.Event.SIGN_IN, actor=person, client=service_client)
    person.delete()
    service_client.delete()
    assert events() == ["sign_in", "user_deleted", "client_deleted"]
    event = AuditEvent.objects.get(event="sign_in")
    assert (event.actor, event.actor_name, event.client, event.client_identifier) == (
        None, "gone", None, "service-client",
    )  # fmt: skip


@pytest.mark.django_db
def test_audit_events_name_the_same_address_as_lockouts_behind_a_proxy(rf, settings):
    from idp.audit import Event, record
    from idp.backends import client_ip

    settings.IDP = {**settings.IDP, "TRUSTED_PROXIES": 1}
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    event = record(Event.SIGN_IN_FAILED, request=request)
    assert event.ip_address == "203.0.113.9" == client_ip(request)


@pytest.mark.django_db
@pytest.mark.parametrize("forwarded", ["not-an-address", "203.0.113.9:443", "\x00", "1.2.3.4, bad value"])
def test_a_forwarded_value_that_is_not_an_address_is_a_wrong_password_not_a_500(client, settings, forwarded):
    """Behind a trusted proxy, a sign-in with junk in X-Forwarded-For was a 500 on PostgreSQL (the
    audit and lockout rows' inet column refused it): the address falls back to the peer's."""
    from idp.models import AuditEvent

    settings.IDP = {**settings.IDP, "TRUSTED_PROXIES": 1}
    response = client.post(
        "/login",
        {"username": "nobody", "password": "wrong"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert response.status_code == 200
    assert AuditEvent.objects.get(event="sign_in_failed").ip_address == "10.0.0.1"
