"""What the token, revocation and introspection endpoints answer to malformed requests: RFC 6749 §5.2 JSON."""

import pytest

from idp.models import AccessToken
from tests.conftest import authorize, basic_auth
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
ENDPOINTS = ["/token", "/revoke", "/introspect"]


def assert_oauth_error(response, error: str, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error, body
    return body


# --- bodies Django cannot read (L-16) -----------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_too_many_form_fields_is_json_invalid_request(client, web_client, settings, path, debug):
    settings.DEBUG = debug
    body = "&".join(f"field{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.post(path, body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth(web_client.client_id))
    assert_oauth_error(response, "invalid_request")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_multipart_body_without_boundary_is_json_invalid_request(client, web_client, settings, path, debug):
    settings.DEBUG = debug
    response = client.post(
        path,
        "grant_type=client_credentials",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_latin1_form_body_is_json_invalid_request(client, web_client, settings, path, debug):
    settings.DEBUG = debug
    response = client.post(
        path,
        "grant_type=client_credentials&token=%E9",
        content_type=f"{FORM}; charset=latin1",
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_get_is_405_json_invalid_request(client, path):
    response = client.get(path)
    assert_oauth_error(response, "invalid_request", status=405)
    assert response["Allow"] == "POST"


# --- repeated parameters (RFC 6749 §3.2) --------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_repeated_parameter_is_invalid_request(client, web_client, tokens, path):
    body = f"grant_type=client_credentials&token={tokens['access_token']}&token=other&scope=a&scope=b"
    response = client.post(path, body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth(web_client.client_id))
    assert "repeated" in assert_oauth_error(response, "invalid_request")["error_description"]


def test_repeated_code_is_invalid_request_and_the_code_survives(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    body = (
        f"grant_type=authorization_code&code=stale&code={authz.code}&redirect_uri={authz.redirect_uri}"
        f"&code_verifier={authz.verifier}"
    )
    response = logged_in.post("/token", body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth("web-client"))
    assert_oauth_error(response, "invalid_request")
    assert not AccessToken.objects.exists()


def test_repeated_resource_is_allowed_rfc_8707(client, service_client):
    body = "grant_type=client_credentials&resource=https://a.example.com/&resource=https://b.example.com/"
    response = client.post(
        "/token", body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth(service_client.client_id)
    )
    assert response.status_code == 200, response.content
    assert AccessToken.objects.get().resource == ["https://a.example.com/", "https://b.example.com/"]


# --- grant types we do not offer (M-5) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "grant_type=password&username=alice&password=x",
        "grant_type=implicit",
    ],
)
def test_unsupported_grant_type_is_400_json_unsupported_grant_type(client, body):
    response = client.post("/token", body, content_type=FORM)
    assert_oauth_error(response, "unsupported_grant_type")


@pytest.mark.parametrize(
    "body",
    [
        "grant_type=urn:ietf:params:oauth:grant-type:device_code",
        "grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=abc",
    ],
)
def test_device_grant_without_a_client_is_json_invalid_client(client, body):
    """DOT answered these before authenticating anyone: a 500 without device_code, 404 with one."""
    response = client.post("/token", body, content_type=FORM)
    assert_oauth_error(response, "invalid_client")


# --- invalid_client challenges (L-15) ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/token", "/revoke"])
def test_wrong_basic_credentials_get_a_basic_challenge(client, service_client, path):
    response = client.post(
        path,
        "grant_type=client_credentials&token=unknown",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(service_client.client_id, "wrong"),
    )
    assert_oauth_error(response, "invalid_client", status=401)
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert "Bearer" not in response["WWW-Authenticate"]


@pytest.mark.parametrize("path", ["/token", "/revoke"])
def test_wrong_body_credentials_are_400_without_challenge(client, service_client, path):
    body = f"grant_type=client_credentials&token=x&client_id={service_client.client_id}&client_secret=wrong"
    response = client.post(path, body, content_type=FORM)
    assert_oauth_error(response, "invalid_client", status=400)
    assert "WWW-Authenticate" not in response


def test_no_credentials_at_all_are_400_without_challenge(client, service_client):
    response = client.post("/token", "grant_type=client_credentials", content_type=FORM)
    assert_oauth_error(response, "invalid_client", status=400)
    assert "WWW-Authenticate" not in response


# --- two client authentication methods (RFC 6749 §2.3) -----------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_basic_and_body_secret_together_are_invalid_request(client, service_client, tokens, path):
    body = f"grant_type=client_credentials&token={tokens['access_token']}&client_secret={CLIENT_SECRET}"
    response = client.post(
        path, body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth(service_client.client_id)
    )
    assert_oauth_error(response, "invalid_request")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_endpoints_need_no_csrf_token_without_the_credential_middleware(service_client, settings, path):
    from django.test import Client

    bypass = "idp.middleware.CredentialEndpointsMiddleware"
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != bypass]
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path,
        "grant_type=client_credentials&token=unknown",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(service_client.client_id),
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect", "/device-authorization"])
def test_error_reports_never_show_the_secrets_posted_to_a_credential_endpoint(client, db, path):
    """Django's error mail and error trackers read POST through the reporter filter (review F4)."""
    from django.views.debug import SafeExceptionReporterFilter

    secrets_posted = {
        "code": "a-code",
        "code_verifier": "a-verifier",
        "refresh_token": "a-refresh-token",
        "device_code": "a-device-code",
        "token": "a-token",
        "client_secret": "a-secret",
        "grant_type": "authorization_code",
    }
    request = client.post(path, secrets_posted).wsgi_request
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert shown["grant_type"] == "authorization_code"
    for name in secrets_posted.keys() - {"grant_type"}:
        assert shown[name] == SafeExceptionReporterFilter.cleansed_substitute, name
