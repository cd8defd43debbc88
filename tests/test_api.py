"""The resource API: every endpoint, and every RFC 6750 error, as a relying party or service sees them."""

import json
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from idp.consent import record_consent
from idp.models import AccessToken, Consent, RefreshToken
from idp.subjects import sub_for
from tests.conftest import authorize, basic_auth, exchange
from tests.factories import ApplicationFactory, ServiceClientFactory, UserFactory

pytestmark = pytest.mark.django_db

PERSON_SCOPES = "openid profile email address phone offline_access consents:manage"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def app(db):
    return ApplicationFactory(client_id="api-rp", allowed_scopes=PERSON_SCOPES)


def person_tokens(client, app, scope: str) -> dict:
    """A token response for the logged-in person of ``client`` at ``app``, consent recorded."""
    body = exchange(client, app, authorize(client, app, scope=scope, prompt="consent")).json()
    assert "access_token" in body, body
    return body


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def person_token(logged_in, app):
    return person_tokens(logged_in, app, "openid profile email consents:manage")["access_token"]


@pytest.fixture
def service(db):
    return ServiceClientFactory(client_id="directory-svc", allowed_scopes="users:read")


def service_token(client, service, scope: str | None = "users:read") -> str:
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = client.post("/token", data, HTTP_AUTHORIZATION=basic_auth(service.client_id))
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def assert_challenge(response, status: int, error: str | None = None, scope: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    body = response.json()
    if error:
        assert f'error="{error}"' in challenge
        assert body["error"] == error
    else:
        assert "error=" not in challenge
    if scope:
        assert f'scope="{scope}"' in challenge
        assert body["scope"] == scope
    return body


# --- GET /api/v1/me ---------------------------------------------------------------------------------


def test_me_returns_the_claims_the_token_scopes_release(client, person_token, user):
    response = client.get("/api/v1/me", **bearer(person_token))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["sub"] == sub_for(user, None)
    assert body["given_name"] == "Alice" and body["email"] == "alice@example.com"
    assert "phone_number" not in body and "address" not in body  # no phone or address scope


def test_me_with_every_profile_scope_includes_phone_and_address(logged_in, client, app, user):
    token = person_tokens(logged_in, app, "openid profile phone address")["access_token"]
    body = client.get("/api/v1/me", **bearer(token)).json()
    assert body["phone_number"] == "+441234567890" and body["phone_number_verified"] is True
    assert body["address"]["locality"] == "Oxford"
    assert "email" not in body


def test_me_answers_exactly_what_its_documented_serializer_would(logged_in, client, app, user):
    from idp.api.serializers import MeSerializer
    from idp.claims import claims_for

    user.middle_name, user.website, user.birthdate, user.email_verified = (
        "L.",
        "https://a.example",
        date(1852, 5, 4),
        True,
    )
    user.save()
    scopes = "openid profile email phone address"
    token = person_tokens(logged_in, app, scopes)["access_token"]
    body = client.get("/api/v1/me", **bearer(token)).json()
    expected = MeSerializer({**claims_for(user, scopes=scopes.split()), "sub": sub_for(user, None)}).data
    assert body == json.loads(json.dumps(expected))
    assert body["birthdate"] == "1852-05-04" and body["address"]["country"] == "United Kingdom"


def test_me_needs_the_profile_scope(logged_in, client, app):
    token = person_tokens(logged_in, app, "openid email")["access_token"]
    assert_challenge(client.get("/api/v1/me", **bearer(token)), 403, "insufficient_scope", "profile")


def test_me_refuses_a_service_token_even_with_the_scope_forced(client, service):
    token = service_token(client, service)
    AccessToken.objects.filter(application=service).update(scope="users:read profile")
    body = assert_challenge(client.get("/api/v1/me", **bearer(token)), 403, "insufficient_scope")
    assert "person" in body["error_description"]


# --- authentication errors (RFC 6750 §3) -------------------------------------------------------------


def test_no_token_is_401_with_a_bare_bearer_challenge(client):
    body = assert_challenge(client.get("/api/v1/me"), 401)
    assert body["error"] == "not_authenticated"


def test_unknown_token_is_invalid_token(client):
    assert_challenge(client.get("/api/v1/me", **bearer("not-a-token")), 401, "invalid_token")


def test_empty_bearer_is_invalid_token(client):
    assert_challenge(client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer "), 401, "invalid_token")


def test_expired_token_is_invalid_token(client, person_token):
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert_challenge(client.get("/api/v1/me", **bearer(person_token)), 401, "invalid_token")


def test_revoked_token_is_invalid_token(client, logged_in, app):
    body = person_tokens(logged_in, app, "openid profile")
    revoked = client.post(
        "/revoke", {"token": body["access_token"]}, HTTP_AUTHORIZATION=basic_auth(app.client_id)
    )
    assert revoked.status_code == 200
    assert_challenge(client.get("/api/v1/me", **bearer(body["access_token"])), 401, "invalid_token")


def test_token_of_a_disabled_client_is_invalid_token(client, person_token, app):
    app.is_active = False
    app.save()
    assert_challenge(client.get("/api/v1/me", **bearer(person_token)), 401, "invalid_token")


def test_an_id_token_is_not_an_access_token(client, logged_in, app):
    id_token = person_tokens(logged_in, app, "openid profile")["id_token"]
    assert_challenge(client.get("/api/v1/me", **bearer(id_token)), 401, "invalid_token")


def test_a_refresh_token_is_not_an_access_token(client, logged_in, app):
    refresh_token = person_tokens(logged_in, app, "openid profile offline_access")["refresh_token"]
    assert_challenge(client.get("/api/v1/me", **bearer(refresh_token)), 401, "invalid_token")


def test_token_in_the_url_query_is_refused(client, person_token):
    response = client.get(f"/api/v1/me?access_token={person_token}")
    assert_challenge(response, 400, "invalid_request")
    response = client.get(f"/api/v1/me?access_token={person_token}", **bearer(person_token))
    assert response.status_code == 400


def test_token_in_a_form_body_is_not_accepted(client, person_token, logged_in):
    response = client.generic(
        "DELETE",
        "/api/v1/me/consents/api-rp",
        f"access_token={person_token}",
        content_type="application/x-www-form-urlencoded",
    )
    assert_challenge(response, 401)
    assert Consent.objects.filter(application__client_id="api-rp").exists()


def test_session_and_basic_authentication_are_not_accepted(logged_in, user):
    assert_challenge(logged_in.get("/api/v1/me"), 401)
    response = logged_in.get(
        "/api/v1/me", HTTP_AUTHORIZATION=basic_auth("alice", "a-test-password-for-people")
    )
    assert_challenge(response, 401)


# --- consents ---------------------------------------------------------------------------------------


def test_consents_lists_the_connected_apps(logged_in, client, app, person_token, user):
    other = ApplicationFactory(
        client_id="other-app", name="Other app", client_uri="https://other.example.com"
    )
    record_consent(user, other, scopes=["openid", "email"], claims=["phone_number"])
    record_consent(UserFactory(), app, scopes=["openid"])  # someone else's consent stays out
    response = client.get("/api/v1/me/consents", **bearer(person_token))
    assert response.status_code == 200, response.content
    apps = {item["client_id"]: item for item in response.json()}
    assert set(apps) == {"api-rp", "other-app"}
    assert set(apps["api-rp"]["scopes"]) == {"openid", "profile", "email", "consents:manage"}
    assert apps["other-app"] | {"created": None, "updated": None} == {
        "client_id": "other-app",
        "client_name": "Other app",
        "client_uri": "https://other.example.com",
        "logo_uri": "",
        "scopes": ["openid", "email"],
        "claims": ["phone_number"],
        "created": None,
        "updated": None,
    }


def test_consents_need_consents_manage(logged_in, client, app):
    token = person_tokens(logged_in, app, "openid profile")["access_token"]
    response = client.get("/api/v1/me/consents", **bearer(token))
    assert_challenge(response, 403, "insufficient_scope", "consents:manage")
    response = client.delete("/api/v1/me/consents/api-rp", **bearer(token))
    assert_challenge(response, 403, "insufficient_scope", "consents:manage")
    assert Consent.objects.filter(application=app).exists()


def test_revoking_a_consent_removes_it_and_the_clients_tokens(logged_in, client, app, person_token, user):
    other = ApplicationFactory(client_id="other-app", allowed_scopes="openid profile offline_access")
    other_tokens = person_tokens(logged_in, other, "openid profile offline_access")
    response = client.delete("/api/v1/me/consents/other-app", **bearer(person_token))
    assert response.status_code == 204, response.content
    assert not Consent.objects.filter(user=user, application=other).exists()
    assert not AccessToken.objects.filter(application=other).exists()
    assert RefreshToken.objects.get(application=other).revoked is not None
    assert client.get("/api/v1/me", **bearer(other_tokens["access_token"])).status_code == 401
    # the app making the call keeps its consent and its token
    assert Consent.objects.filter(user=user, application=app).exists()
    assert client.get("/api/v1/me", **bearer(person_token)).status_code == 200


def test_revoking_someone_elses_or_an_unknown_consent_is_404(client, person_token):
    stranger = UserFactory()
    other = ApplicationFactory(client_id="other-app")
    record_consent(stranger, other, scopes=["openid"])
    for client_id in ("other-app", "no-such-app"):
        response = client.delete(f"/api/v1/me/consents/{client_id}", **bearer(person_token))
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert Consent.objects.filter(user=stranger, application=other).exists()


def test_an_app_may_disconnect_itself(client, person_token, app, user):
    assert client.delete("/api/v1/me/consents/api-rp", **bearer(person_token)).status_code == 204
    assert not Consent.objects.filter(user=user, application=app).exists()
    assert_challenge(client.get("/api/v1/me", **bearer(person_token)), 401, "invalid_token")


# --- the user directory -----------------------------------------------------------------------------


def test_service_lists_users_with_pages_and_filters(client, service, user):
    UserFactory(username="bob", email="Bob@Example.com", is_active=False)
    for n in range(3):
        UserFactory(username=f"extra{n}")
    token = service_token(client, service)
    page = client.get("/api/v1/users", {"page_size": 2}, **bearer(token))
    assert page.status_code == 200, page.content
    body = page.json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"]
    assert body["results"][0] == {
        "sub": sub_for(user, None),
        "username": "alice",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "email": "alice@example.com",
        "email_verified": True,
        "is_active": True,
        "date_joined": body["results"][0]["date_joined"],
        "updated_at": body["results"][0]["updated_at"],
    }
    found = client.get("/api/v1/users", {"email": "bob@example.com"}, **bearer(token)).json()
    assert [u["username"] for u in found["results"]] == ["bob"]
    inactive = client.get("/api/v1/users", {"is_active": "false"}, **bearer(token)).json()
    assert [u["username"] for u in inactive["results"]] == ["bob"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/users", {"updated_since": future}, **bearer(token)).json()["count"] == 0


def test_invalid_filter_or_page_is_a_json_error(client, service, user):
    token = service_token(client, service)
    response = client.get("/api/v1/users", {"updated_since": "yesterday"}, **bearer(token))
    assert response.status_code == 400
    assert (
        response.json()["error"] == "invalid_request" and "updated_since" in response.json()["invalid_params"]
    )
    response = client.get("/api/v1/users", {"page": 99}, **bearer(token))
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_service_reads_one_user_by_sub(client, service, user):
    token = service_token(client, service)
    response = client.get(f"/api/v1/users/{sub_for(user, None)}", **bearer(token))
    assert response.status_code == 200 and response.json()["username"] == "alice"
    missing = client.get("/api/v1/users/00000000-0000-4000-8000-000000000000", **bearer(token))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    not_a_sub = client.get(f"/api/v1/users/{user.pk}", **bearer(token))
    assert not_a_sub.status_code == 404 and not_a_sub["Content-Type"] == "application/json"


def test_directory_needs_users_read(client, person_token, user):
    response = client.get("/api/v1/users", **bearer(person_token))
    assert_challenge(response, 403, "insufficient_scope", "users:read")
    response = client.get(f"/api/v1/users/{sub_for(user, None)}", **bearer(person_token))
    assert_challenge(response, 403, "insufficient_scope", "users:read")


def test_service_token_without_users_read_is_refused(client, user):
    bare = ServiceClientFactory(client_id="bare-svc")
    token = service_token(client, bare, scope=None)
    assert_challenge(client.get("/api/v1/users", **bearer(token)), 403, "insufficient_scope", "users:read")


# --- everything else is JSON ------------------------------------------------------------------------


def test_unknown_paths_and_methods_are_json_errors(client, person_token):
    response = client.get("/api/v1/nothing-here", **bearer(person_token))
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    response = client.post("/api/v1/me", {}, content_type="application/json", **bearer(person_token))
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"


def test_html_is_never_served_even_when_asked_for(client, person_token):
    response = client.get("/api/v1/me", HTTP_ACCEPT="text/html", **bearer(person_token))
    assert response.status_code == 406 and response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_acceptable"


# --- throttling -------------------------------------------------------------------------------------


def test_each_client_is_throttled_with_retry_after(settings, client, service, user):
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": {"client": "2/minute", "user": None}}
    token = service_token(client, service)
    assert [client.get("/api/v1/users", **bearer(token)).status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/users", **bearer(token))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["error"] == "throttled"
    other = ServiceClientFactory(client_id="other-svc", allowed_scopes="users:read")
    assert client.get("/api/v1/users", **bearer(service_token(client, other))).status_code == 200


def test_each_person_is_throttled_across_clients(settings, logged_in, client, app, person_token):
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": {"client": None, "user": "2/hour"}}
    other = ApplicationFactory(client_id="other-app", allowed_scopes=PERSON_SCOPES)
    other_token = person_tokens(logged_in, other, "openid profile")["access_token"]
    assert client.get("/api/v1/me", **bearer(person_token)).status_code == 200
    assert client.get("/api/v1/me", **bearer(other_token)).status_code == 200
    response = client.get("/api/v1/me", **bearer(person_token))
    assert response.status_code == 429 and int(response["Retry-After"]) > 60
    logged_in.logout()
    bob = UserFactory(username="bob")
    logged_in.force_login(bob)
    bobs_token = person_tokens(logged_in, app, "openid profile")["access_token"]
    assert client.get("/api/v1/me", **bearer(bobs_token)).status_code == 200


def test_token_of_a_deactivated_person_is_invalid_token(client, person_token, user):
    user.is_active = False
    user.save()
    assert_challenge(client.get("/api/v1/me", **bearer(person_token)), 401, "invalid_token")


def test_updated_since_with_an_offset_postgresql_refuses_is_read_in_utc(client, service, user):
    """ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59: the fuzzer's
    ``0474-02-26T20:08:17+19:38`` was a 500 on PostgreSQL. The value is compared in UTC, and one
    that leaves the calendar in UTC is a 400."""
    token = service_token(client, service)
    response = client.get("/api/v1/users", {"updated_since": "0474-02-26T20:08:17+19:38"}, **bearer(token))
    assert response.status_code == 200 and response.json()["count"] >= 1
    response = client.get("/api/v1/users", {"updated_since": "0001-01-01T00:00:00+19:00"}, **bearer(token))
    assert response.status_code == 400 and "updated_since" in response.json()["invalid_params"]
