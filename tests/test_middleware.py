"""Security headers on every page: CSP without inline script, no framing, referrer policy, cookie flags."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/login", "/password-reset", "/.well-known/openid-configuration"])
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


def test_policy_comes_from_the_idp_settings(client, settings):
    settings.IDP = {**settings.IDP, "CONTENT_SECURITY_POLICY": "default-src 'none'"}
    assert client.get("/login")["Content-Security-Policy"] == "default-src 'none'"


def test_pages_have_no_inline_script_or_style(client, logged_in, web_client):
    for path in ["/", "/account/apps", "/account/profile"]:
        html = logged_in.get(path).content.decode()
        assert "<script" not in html and "<style" not in html and " style=" not in html


def test_session_and_csrf_cookies_are_httponly_and_lax(client, user, settings):
    from tests.factories import PASSWORD

    page = client.get("/login")
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post("/login", {"username": "alice", "password": PASSWORD})
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
