"""The well-known documents are answered before the rest of the middleware stack runs."""

import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from idp.middleware import WellKnownDocumentsMiddleware


def downstream_must_not_run(request):
    raise AssertionError(f"{request.path} reached the rest of the stack")


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/.well-known/openid-configuration", "issuer"),
        ("/.well-known/oauth-authorization-server", "issuer"),
        ("/.well-known/jwks.json", "keys"),
    ],
)
def test_documents_short_circuit_the_stack(path, key):
    response = WellKnownDocumentsMiddleware(downstream_must_not_run)(RequestFactory().get(path))
    assert response.status_code == 200
    assert key in json.loads(response.content)
    assert response["X-Content-Type-Options"] == "nosniff"


def test_other_paths_and_methods_go_through():
    middleware = WellKnownDocumentsMiddleware(lambda request: HttpResponse("downstream"))
    assert middleware(RequestFactory().get("/userinfo")).content == b"downstream"
    assert middleware(RequestFactory().post("/.well-known/jwks.json")).content == b"downstream"
