"""Schema-driven fuzzing of the resource API: schemathesis against /api/schema/ with real tokens."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from tests.conftest import authorize, basic_auth, exchange
from tests.factories import ApplicationFactory, ServiceClientFactory, UserFactory

pytestmark = pytest.mark.django_db

# Bounded: a few dozen generated requests per operation, the same ones on every run.
EXAMPLES_PER_OPERATION = 30


@pytest.fixture
def tokens(logged_in, settings) -> dict[str, str]:
    """A person's token with every person scope, and a service's token with users:read."""
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": {"client": None, "user": None}}
    cache.clear()
    person_scopes = "openid profile email address phone consents:manage"
    app = ApplicationFactory(client_id="fuzz-rp", allowed_scopes=person_scopes)
    ApplicationFactory(client_id="another-rp")
    body = exchange(logged_in, app, authorize(logged_in, app, scope=person_scopes, prompt="consent")).json()
    service = ServiceClientFactory(client_id="fuzz-svc", allowed_scopes="users:read")
    service_token = logged_in.post(
        "/token",
        {"grant_type": "client_credentials", "scope": "users:read"},
        HTTP_AUTHORIZATION=basic_auth(service.client_id),
    ).json()["access_token"]
    for n in range(3):
        UserFactory(username=f"fuzz{n}")
    return {"person": body["access_token"], "service": service_token}


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, keeping the test's database connection open (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_api_fuzz_finds_no_server_error_and_no_schema_violation(tokens, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    for operation in operations:
        [requirement] = operation.definition.raw["security"]
        token = tokens["service" if "users:read" in requirement["oauth2"] else "person"]

        fuzz(operation.as_strategy(headers={"Authorization": f"Bearer {token}"}))


def fuzz(strategy) -> None:
    """Call the API with each generated case and run every schemathesis check on the response."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.validate_response(case.call())

    run()
