"""The scopes backend: person scopes for clients that sign people in, service scopes for services."""

import pytest

from idp.claims import OPENID_SCOPES, SCOPES, SERVICE_SCOPES, USER_SCOPES
from idp.scopes import IdpScopes
from tests.conftest import authorize_params, basic_auth, pkce_pair, query_of
from tests.factories import ApplicationFactory, ServiceClientFactory

pytestmark = pytest.mark.django_db


def test_every_scope_is_described_and_is_either_for_people_or_for_services():
    assert set(SCOPES) == USER_SCOPES | SERVICE_SCOPES
    assert not USER_SCOPES & SERVICE_SCOPES
    assert all(str(spec["description"]) for spec in SCOPES.values())


def test_clients_without_allowed_scopes_get_only_the_openid_scopes():
    assert set(IdpScopes().get_available_scopes(ApplicationFactory())) == OPENID_SCOPES
    assert IdpScopes().get_available_scopes(ServiceClientFactory()) == []


def test_consents_manage_needs_a_person_and_users_read_a_service():
    everything = " ".join(SCOPES)
    web = ApplicationFactory(allowed_scopes=everything)
    service = ServiceClientFactory(allowed_scopes=everything)
    assert set(IdpScopes().get_available_scopes(web)) == USER_SCOPES
    assert IdpScopes().get_available_scopes(service) == ["users:read"]


def test_service_obtains_users_read_with_client_credentials(client):
    service = ServiceClientFactory(client_id="svc", allowed_scopes="users:read")
    response = client.post(
        "/token",
        {"grant_type": "client_credentials", "scope": "users:read"},
        HTTP_AUTHORIZATION=basic_auth("svc"),
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "users:read"
    response = client.post(
        "/token",
        {"grant_type": "client_credentials", "scope": "consents:manage"},
        HTTP_AUTHORIZATION=basic_auth(service.client_id),
    )
    assert response.json()["error"] == "invalid_scope"


def test_person_client_cannot_ask_for_users_read(logged_in):
    app = ApplicationFactory(allowed_scopes=" ".join(SCOPES))
    params = authorize_params(app, challenge=pkce_pair()[1], scope="openid users:read")
    assert query_of(logged_in.get("/authorize", params)["Location"])["error"] == "invalid_scope"


def test_consent_page_describes_consents_manage(logged_in):
    app = ApplicationFactory(allowed_scopes="openid consents:manage")
    page = logged_in.get(
        "/authorize", authorize_params(app, challenge=pkce_pair()[1], scope="openid consents:manage")
    )
    assert page.status_code == 200
    assert 'data-scope="consents:manage"' in page.content.decode()
    assert str(SCOPES["consents:manage"]["description"]) in page.content.decode()
