"""The device authorization grant (RFC 8628): the device endpoint, polling with §3.5's answers, issuing."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from oauth2_provider.models import get_device_grant_model
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2.rfc8628.endpoints.device_authorization import DeviceAuthorizationEndpoint
from oauthlib.oauth2.rfc8628.grant_types.device_code import DeviceCodeGrant

from idp.device import DEVICE_GRANT_TYPE
from idp.device.codes import normalise_user_code
from idp.models import AuditEvent
from idp.subjects import sub_for
from idp.tokens import checksum
from tests.conftest import ISSUER, basic_auth, verify_id_token
from tests.factories import ApplicationFactory, PublicClientFactory

DeviceGrant = get_device_grant_model()


@pytest.fixture
def confidential_device_client(db):
    return ApplicationFactory(
        client_id="console-client", authorization_grant_type=DEVICE_GRANT_TYPE, redirect_uris=""
    )


FORM = "application/x-www-form-urlencoded"


def device_authorization(client, data: dict, **extra):
    return client.post("/device-authorization", urlencode(data), content_type=FORM, **extra)


def start(client, app, *, scope="openid profile"):
    return device_authorization(
        client, {"client_id": app.client_id, **({"scope": scope} if scope is not None else {})}
    )


def poll(client, app, device_code, **extra):
    data = {"grant_type": DEVICE_GRANT_TYPE, "device_code": device_code, "client_id": app.client_id}
    return client.post("/token", data, **extra)


def approve(device_code: str, user, *, allow: bool = True) -> DeviceGrant:
    """The person's answer as the page stores it (the page itself: tests/test_device_page.py)."""
    grant = DeviceGrant.objects.get(device_code=checksum(device_code))
    grant.status = grant.AUTHORIZED if allow else grant.DENIED
    grant.user = user
    grant.auth_time = timezone.now()
    grant.amr = "pwd"
    grant.save()
    return grant


def wait_interval(device_code: str) -> None:
    """As if the device had waited its interval since its last poll."""
    grant = DeviceGrant.objects.get(device_code=checksum(device_code))
    if grant.polled_at:
        DeviceGrant.objects.filter(pk=grant.pk).update(
            polled_at=grant.polled_at - timedelta(seconds=grant.interval)
        )


# --- the device authorization endpoint (§3.1, §3.2) ----------------------------------------------


def test_device_authorization_answers_every_field_of_section_3_2(client, device_client):
    response = start(client, device_client)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"
    }  # fmt: skip
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert len(body["device_code"]) >= 43
    assert body["verification_uri"] == f"{ISSUER}/device"
    assert body["verification_uri_complete"] == f"{ISSUER}/device?user_code={body['user_code']}"
    assert (body["expires_in"], body["interval"]) == (600, 5)


def test_device_authorization_stores_only_checksums_of_the_codes(client, device_client):
    body = start(client, device_client).json()

    grant = DeviceGrant.objects.get()
    assert grant.device_code == checksum(body["device_code"])
    assert grant.user_code == checksum(normalise_user_code(body["user_code"]))
    stored = {str(value) for value in DeviceGrant.objects.values().get().values()}
    assert body["device_code"] not in stored and body["user_code"] not in stored
    assert (grant.application, grant.scope, grant.status) == (
        device_client,
        "openid profile",
        grant.AUTHORIZATION_PENDING,
    )


def test_device_code_lifetime_and_interval_are_settings(client, device_client, settings):
    settings.IDP = {**getattr(settings, "IDP", {}), "DEVICE_CODE_LIFETIME": 120, "DEVICE_POLL_INTERVAL": 8}

    body = start(client, device_client).json()

    assert (body["expires_in"], body["interval"]) == (120, 8)
    grant = DeviceGrant.objects.get()
    assert grant.interval == 8
    assert timedelta(seconds=115) < grant.expires - timezone.now() <= timedelta(seconds=120)


def test_scope_beyond_the_clients_allowed_scopes_is_invalid_scope(client, device_client):
    device_client.allowed_scopes = "openid profile"
    device_client.save()

    response = start(client, device_client, scope="openid email")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not DeviceGrant.objects.exists()


def test_service_scope_is_invalid_scope_for_a_device_client(client, device_client):
    response = start(client, device_client, scope="openid users:read")

    assert response.json()["error"] == "invalid_scope"


def test_without_scope_the_clients_default_scopes_are_asked_for(client, device_client):
    assert start(client, device_client, scope=None).status_code == 200

    assert DeviceGrant.objects.get().scope == "openid"


def test_oauthlib_alone_accepts_scopes_the_client_may_not_have(device_client):
    """oauthlib #949, the reason for IdpDeviceAuthorizationEndpoint: its endpoint validates no scope."""
    request = Request(
        "https://idp.example/device-authorization",
        "POST",
        "client_id=tv-client&scope=openid+users%3Aread",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    endpoint = DeviceAuthorizationEndpoint(
        oauth2_settings.OAUTH2_VALIDATOR_CLASS(), "https://idp.example/device"
    )

    endpoint.validate_device_authorization_request(request)  # no invalid_scope

    assert request.scopes is None


def test_unknown_client_is_invalid_client(client, db):
    response = device_authorization(client, {"client_id": "nobody"})

    assert (response.status_code, response.json()["error"]) == (400, "invalid_client")


def test_client_of_another_grant_is_unauthorized_client(client, public_client):
    response = start(client, public_client)

    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


def test_confidential_client_must_authenticate(client, confidential_device_client):
    assert start(client, confidential_device_client).json()["error"] == "invalid_client"
    wrong = device_authorization(
        client,
        {"scope": "openid"},
        HTTP_AUTHORIZATION=basic_auth("console-client", "wrong-secret"),
    )
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Basic")


def test_confidential_client_authenticates_with_http_basic_alone(client, confidential_device_client):
    """oauthlib wants client_id in the body as well; RFC 6749 §2.3.1 does not."""
    response = device_authorization(
        client, {"scope": "openid"}, HTTP_AUTHORIZATION=basic_auth("console-client")
    )

    assert response.status_code == 200, response.content
    assert DeviceGrant.objects.get().application == confidential_device_client


def test_form_with_a_charset_is_accepted(client, device_client):
    response = client.post(
        "/device-authorization",
        "client_id=tv-client&scope=openid",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )

    assert response.status_code == 200, response.content


def test_repeated_scope_is_invalid_request(client, device_client):
    response = client.post(
        "/device-authorization",
        "client_id=tv-client&scope=openid&scope=email",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.json()["error"] == "invalid_request"


def test_multipart_form_is_invalid_request(client, device_client):
    """RFC 8628 §3.1: the request is application/x-www-form-urlencoded."""
    response = client.post("/device-authorization", {"client_id": "tv-client"})

    assert response.json()["error"] == "invalid_request"


def test_device_authorization_takes_post_only(client, device_client):
    assert client.get("/device-authorization", {"client_id": "tv-client"}).status_code == 405


# --- polling (§3.4, §3.5) ------------------------------------------------------------------------


def test_pending_then_slow_down_with_a_longer_interval_from_then_on(client, device_client):
    code = start(client, device_client).json()["device_code"]

    first = poll(client, device_client, code)
    assert (first.status_code, first.json()["error"]) == (400, "authorization_pending")
    too_fast = poll(client, device_client, code)
    assert (too_fast.status_code, too_fast.json()["error"]) == (400, "slow_down")
    assert DeviceGrant.objects.get().interval == 10
    wait_interval(code)  # 10 seconds
    assert poll(client, device_client, code).json()["error"] == "authorization_pending"
    grant = DeviceGrant.objects.get()
    DeviceGrant.objects.filter(pk=grant.pk).update(polled_at=grant.polled_at - timedelta(seconds=6))
    assert poll(client, device_client, code).json()["error"] == "slow_down"  # 6 s was enough before
    assert DeviceGrant.objects.get().interval == 15


def test_denied_is_access_denied(client, device_client, user):
    code = start(client, device_client).json()["device_code"]
    approve(code, user, allow=False)

    response = poll(client, device_client, code)

    assert (response.status_code, response.json()["error"]) == (400, "access_denied")


def test_expired_is_expired_token_even_once_approved(client, device_client, user):
    code = start(client, device_client).json()["device_code"]
    approve(code, user)
    DeviceGrant.objects.update(expires=timezone.now() - timedelta(seconds=1))

    response = poll(client, device_client, code)

    assert (response.status_code, response.json()["error"]) == (400, "expired_token")


def test_unknown_device_code_is_invalid_grant(client, device_client):
    response = poll(client, device_client, "not-a-device-code")

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_another_clients_device_code_is_invalid_grant(client, device_client, user):
    other = PublicClientFactory(
        client_id="other-tv", authorization_grant_type=DEVICE_GRANT_TYPE, redirect_uris=""
    )
    code = start(client, device_client).json()["device_code"]
    approve(code, user)

    response = poll(client, other, code)

    assert response.json()["error"] == "invalid_grant"
    assert poll(client, device_client, code).status_code == 200  # still the rightful client's


def test_missing_device_code_is_invalid_request(client, device_client):
    response = client.post("/token", {"grant_type": DEVICE_GRANT_TYPE, "client_id": "tv-client"})

    assert response.json()["error"] == "invalid_request"


def test_confidential_client_polls_authenticated(client, confidential_device_client, user):
    body = device_authorization(
        client, {"scope": "openid"}, HTTP_AUTHORIZATION=basic_auth("console-client")
    ).json()
    approve(body["device_code"], user)

    unauthenticated = client.post(
        "/token", {"grant_type": DEVICE_GRANT_TYPE, "device_code": body["device_code"]}
    )
    assert unauthenticated.json()["error"] == "invalid_client"
    response = client.post(
        "/token",
        {"grant_type": DEVICE_GRANT_TYPE, "device_code": body["device_code"]},
        HTTP_AUTHORIZATION=basic_auth("console-client"),
    )
    assert response.status_code == 200, response.content


# --- issuing -------------------------------------------------------------------------------------


def test_approval_issues_exactly_the_approved_scopes_and_a_verified_id_token(client, device_client, user):
    code = start(client, device_client, scope="openid profile email").json()["device_code"]
    approve(code, user)

    response = poll(client, device_client, code)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["scope"].split()) == {"openid", "profile", "email"}
    assert "refresh_token" not in body
    claims = verify_id_token(client, body["id_token"])
    expected = (ISSUER, "tv-client", sub_for(user, device_client))
    assert (claims["iss"], claims["aud"], claims["sub"]) == expected
    assert "at_hash" in claims
    assert abs(claims["iat"] - time.time()) < 60 and claims["exp"] > claims["iat"]
    assert claims["auth_time"] <= claims["iat"]
    userinfo = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert userinfo.json()["email"] == "alice@example.com"


def test_oauthlib_alone_would_issue_the_default_scopes(client, device_client, user):
    """oauthlib #944, the reason for IdpDeviceCodeGrant: its grant never reads the device code."""
    code = start(client, device_client, scope="openid profile email").json()["device_code"]
    approve(code, user)
    request = Request(
        "https://idp.example/token",
        "POST",
        f"grant_type={DEVICE_GRANT_TYPE}&device_code={code}&client_id=tv-client",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    DeviceCodeGrant(oauth2_settings.OAUTH2_VALIDATOR_CLASS()).validate_token_request(request)

    assert request.scopes == ["openid"]  # the defaults, not what the person approved
    assert request.user is None


def test_without_openid_no_id_token(client, device_client, user):
    code = start(client, device_client, scope="profile").json()["device_code"]
    approve(code, user)

    body = poll(client, device_client, code).json()

    assert body["scope"] == "profile"
    assert "id_token" not in body


def test_offline_access_approved_gives_a_refresh_token_that_works(client, device_client, user):
    code = start(client, device_client, scope="openid offline_access").json()["device_code"]
    approve(code, user)

    body = poll(client, device_client, code).json()

    assert "refresh_token" in body
    refreshed = client.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": "tv-client"},
    )
    assert refreshed.status_code == 200, refreshed.content
    assert set(refreshed.json()["scope"].split()) == {"openid", "offline_access"}


def test_device_code_is_single_use(client, device_client, user):
    code = start(client, device_client).json()["device_code"]
    approve(code, user)
    assert poll(client, device_client, code).status_code == 200

    again = poll(client, device_client, code)

    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_scope_removed_from_the_client_after_approval_is_invalid_scope(client, device_client, user):
    code = start(client, device_client, scope="openid email").json()["device_code"]
    approve(code, user)
    device_client.allowed_scopes = "openid"
    device_client.save()

    assert poll(client, device_client, code).json()["error"] == "invalid_scope"


def test_deactivated_person_gets_no_tokens(client, device_client, user):
    code = start(client, device_client).json()["device_code"]
    approve(code, user)
    user.is_active = False
    user.save()  # revokes the person's tokens, and denies what they approved and the device has not collected

    assert poll(client, device_client, code).json()["error"] == "access_denied"


def test_issuing_is_recorded_in_the_audit_log(client, device_client, user):
    code = start(client, device_client).json()["device_code"]
    approve(code, user)
    poll(client, device_client, code)

    event = AuditEvent.objects.get(event=AuditEvent.Event.TOKEN_ISSUED)
    assert (event.actor, event.client, event.details["grant_type"]) == (
        user,
        device_client,
        DEVICE_GRANT_TYPE,
    )
    assert event.details["scope"] == "openid profile"


# --- metadata -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
)
def test_metadata_advertises_the_device_endpoint_and_grant(client, db, path):
    document = client.get(path).json()

    assert document["device_authorization_endpoint"] == f"{ISSUER}/device-authorization"
    assert DEVICE_GRANT_TYPE in document["grant_types_supported"]


# --- limits on the device endpoint itself (each request stores a grant) ---------------------------


def test_device_authorization_requests_are_limited_per_address(client, device_client, settings):
    settings.IDP = {**settings.IDP, "DEVICE_AUTHORIZATION_RATES": {"client": None, "address": "3/minute"}}
    for _ in range(3):
        assert start(client, device_client).status_code == 200

    response = start(client, device_client)

    assert response.status_code == 429
    assert response.json()["error"] == "invalid_request"
    assert 0 < int(response["Retry-After"]) <= 60
    assert DeviceGrant.objects.count() == 3  # nothing stored for the refused one
    from django.test import Client

    assert start(Client(REMOTE_ADDR="198.51.100.7"), device_client).status_code == 200


def test_device_authorization_requests_are_limited_per_client_named(client, device_client, settings):
    """Per client_id, however it is sent (the body or a Basic credential), from any address."""
    from django.test import Client

    settings.IDP = {**settings.IDP, "DEVICE_AUTHORIZATION_RATES": {"client": "2/minute", "address": None}}
    assert start(Client(REMOTE_ADDR="198.51.100.1"), device_client).status_code == 200
    basic = basic_auth(device_client.client_id, "")
    second = device_authorization(
        Client(REMOTE_ADDR="198.51.100.2"), {"scope": "openid"}, HTTP_AUTHORIZATION=basic
    )
    assert second.status_code == 200, second.content
    assert start(Client(REMOTE_ADDR="198.51.100.3"), device_client).status_code == 429
