"""Per-client policy: nonce instead of PKCE (opt-in), allowed scopes, disabled clients."""

import pytest

from tests.conftest import (
    REDIRECT_URI,
    authorize,
    authorize_params,
    basic_auth,
    consent_form_data,
    exchange,
    pkce_pair,
    query_of,
    verify_id_token,
)
from tests.factories import ApplicationFactory, PublicClientFactory, ServiceClientFactory

pytestmark = pytest.mark.django_db


def authorize_without_pkce(client, app, **extra):
    params = authorize_params(
        app, challenge="unused", code_challenge=None, code_challenge_method=None, **extra
    )
    response = client.get("/authorize", params)
    if response.status_code == 200:
        response = client.post("/authorize", {**consent_form_data(response), "allow": "1"})
    return response


def test_nonce_instead_of_pkce_is_off_by_default(logged_in, web_client):
    response = authorize_without_pkce(logged_in, web_client)
    assert query_of(response["Location"])["error"] == "invalid_request"


def test_opted_in_confidential_client_may_use_nonce_instead_of_pkce(logged_in):
    app = ApplicationFactory(client_id="conformance", allow_nonce_instead_of_pkce=True)
    response = authorize_without_pkce(logged_in, app)
    code = query_of(response["Location"])["code"]
    token = logged_in.post(
        "/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        HTTP_AUTHORIZATION=basic_auth(app.client_id),
    )
    assert token.status_code == 200, token.content
    assert verify_id_token(logged_in, token.json()["id_token"])["nonce"] == "n-0S6_WzA2Mj"


def test_opted_in_client_still_needs_a_nonce_without_pkce(logged_in):
    app = ApplicationFactory(client_id="conformance", allow_nonce_instead_of_pkce=True)
    response = authorize_without_pkce(logged_in, app, nonce=None)
    assert query_of(response["Location"])["error"] == "invalid_request"


def test_opted_in_client_that_sent_pkce_must_finish_it(logged_in):
    """No PKCE downgrade: a code issued with a challenge needs its verifier."""
    app = ApplicationFactory(client_id="conformance", allow_nonce_instead_of_pkce=True)
    authz = authorize(logged_in, app)
    response = exchange(logged_in, app, authz, code_verifier="")
    assert response.status_code == 400


def test_public_clients_can_never_skip_pkce(logged_in):
    app = PublicClientFactory(client_id="spa-x", allow_nonce_instead_of_pkce=True, redirect_uris=REDIRECT_URI)
    response = authorize_without_pkce(logged_in, app)
    assert query_of(response["Location"])["error"] == "invalid_request"


def test_client_cannot_obtain_scopes_it_was_not_allowed(logged_in):
    app = ApplicationFactory(client_id="narrow", allowed_scopes="openid email")
    params = authorize_params(app, challenge=pkce_pair()[1], scope="openid profile")
    assert query_of(logged_in.get("/authorize", params)["Location"])["error"] == "invalid_scope"
    body = exchange(logged_in, app, authorize(logged_in, app, scope="openid email")).json()
    assert set(body["scope"].split()) == {"openid", "email"}


def test_allowed_scopes_ignore_unknown_names(logged_in):
    app = ApplicationFactory(client_id="typo", allowed_scopes="openid emial")
    params = authorize_params(app, challenge=pkce_pair()[1], scope="openid emial")
    assert query_of(logged_in.get("/authorize", params)["Location"])["error"] == "invalid_scope"


def test_disabled_client_ends_on_an_error_page(logged_in):
    app = ApplicationFactory(client_id="off", is_active=False)
    response = logged_in.get("/authorize", authorize_params(app, challenge=pkce_pair()[1]))
    assert response.status_code == 400 and "Location" not in response


def test_disabled_client_gets_no_tokens_and_its_tokens_stop_working(client, logged_in, web_client):
    body = exchange(logged_in, web_client, authorize(logged_in, web_client)).json()
    web_client.is_active = False
    web_client.save()
    assert client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}").status_code == 401
    service = ServiceClientFactory(client_id="svc-off", is_active=False)
    response = client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth(service.client_id)
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_code_issued_without_a_challenge_refuses_any_code_verifier(logged_in):
    """RFC 9700 §4.8.2: a verifier for a code that had no challenge is a PKCE downgrade."""
    app = ApplicationFactory(client_id="conformance", allow_nonce_instead_of_pkce=True)
    code = query_of(authorize_without_pkce(logged_in, app)["Location"])["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = logged_in.post(
        "/token", {**data, "code_verifier": pkce_pair()[0]}, HTTP_AUTHORIZATION=basic_auth(app.client_id)
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"
    # The code was not used up by the refused attempt.
    assert logged_in.post("/token", data, HTTP_AUTHORIZATION=basic_auth(app.client_id)).status_code == 200
