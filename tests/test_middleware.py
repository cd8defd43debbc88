"""Middleware: credential endpoints skip the browser's middleware; security headers and a request id on
every response."""

import logging
import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from idp import logs
from idp.middleware import CredentialEndpointsMiddleware, RequestIdMiddleware
from tests.conftest import basic_auth


def downstream_must_not_run(request):
    raise AssertionError(f"{request.path} reached the rest of the stack")


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ],
)
@pytest.mark.django_db
def test_documents_are_the_same_for_every_browser(client, logged_in, path):
    """Metadata goes down the whole stack, yet a session cookie changes nothing: no cookie back, no Vary."""
    anonymous, signed_in = client.get(path), logged_in.get(path)
    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.content == signed_in.content
    for response in (anonymous, signed_in):
        assert not response.cookies and "Vary" not in response
        assert response["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/token", 400),
        ("post", "/revoke", 400),
        ("post", "/introspect", 401),
        ("get", "/userinfo", 401),
        ("get", "/api/v1/me", 401),
        ("get", "/api/v1/no-such-thing", 404),
    ],
)
@pytest.mark.django_db
def test_credential_endpoints_skip_the_rest_of_the_stack(method, path, status):
    request = getattr(RequestFactory(), method)(path)
    response = CredentialEndpointsMiddleware(downstream_must_not_run)(request)
    assert response.status_code == status
    assert not request.user.is_authenticated
    assert response["Content-Length"] == str(len(response.content))


@pytest.mark.parametrize("path", ["/authorize", "/login", "/end-session", "/api/docs/", "/tokens", "/api/v1"])
def test_pages_go_down_the_stack(path):
    middleware = CredentialEndpointsMiddleware(lambda request: HttpResponse("downstream"))
    assert middleware(RequestFactory().get(path)).content == b"downstream"


@pytest.mark.django_db
def test_a_session_cookie_does_not_authenticate_a_credential_endpoint(logged_in, web_client):
    """The signed-in person's browser gets no answer about them without a token, and no cookie back."""
    for response in (logged_in.get("/userinfo"), logged_in.get("/api/v1/me")):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")
    token = logged_in.post(
        "/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    # The client authenticated by its secret, not the session: a web client, so unauthorized_client.
    assert token.status_code == 400
    assert token.json() == {"error": "unauthorized_client"}
    assert not token.cookies


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/token"),
        ("post", "/revoke"),
        ("post", "/introspect"),
        ("get", "/userinfo"),
        ("get", "/api/v1/me"),
        ("get", "/api/v1/no-such-thing"),
    ],
)
@pytest.mark.django_db
def test_credential_endpoints_have_the_security_headers(client, method, path):
    response = getattr(client, method)(path, {"grant_type": "authorization_code"} if method == "post" else {})
    assert response["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    if path == "/token":
        assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/login", "/password-reset", "/.well-known/openid-configuration"])
@pytest.mark.django_db
def test_every_response_has_the_security_headers(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in policy
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_policy_comes_from_the_idp_settings(client, settings):
    settings.IDP = {**settings.IDP, "CONTENT_SECURITY_POLICY": "default-src 'none'"}
    assert client.get("/login")["Content-Security-Policy"] == "default-src 'none'"


@pytest.mark.django_db
def test_pages_have_no_inline_script_or_style(client, logged_in, web_client):
    for path in ["/", "/account/apps", "/account/profile"]:
        html = logged_in.get(path).content.decode()
        assert "<script" not in html and "<style" not in html and " style=" not in html


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_httponly_and_lax(client, user, settings):
    from tests.factories import PASSWORD

    page = client.get("/login")
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post("/login", {"username": "alice", "password": PASSWORD})
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/login"),
        ("get", "/.well-known/openid-configuration"),
        ("post", "/token"),
        ("get", "/userinfo"),
        ("get", "/api/v1/me"),
        ("get", "/no-such-page"),
    ],
)
@pytest.mark.django_db
def test_every_response_has_its_own_request_id(client, method, path):
    """Credential endpoints too: RequestIdMiddleware sits above CredentialEndpointsMiddleware."""
    first, second = (getattr(client, method)(path)["X-Request-ID"] for _ in range(2))
    assert re.fullmatch(r"[0-9a-f]{16}", first) and first != second


def test_log_lines_during_a_request_carry_its_id(capsys):
    def view(request):
        logging.getLogger("idp.test").warning("while serving")
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    try:
        response = RequestIdMiddleware(view)(request)
    finally:
        logs.end_request()  # what the server's request_finished does, after its access log line
    assert response["X-Request-ID"] == request.request_id
    assert f"WARNING idp.test request_id={request.request_id} while serving" in capsys.readouterr().err
