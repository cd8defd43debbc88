"""The error page: the site's layout, the request's reference, and nothing that can fail again."""

import pytest
from django.test import Client, RequestFactory

from idp.views.errors import server_error
from tests.crash_urls import FAILURE

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_site(settings):
    settings.ROOT_URLCONF = "tests.crash_urls"
    return Client(raise_request_exception=False)


def test_a_failure_shows_the_reference_its_traceback_is_logged_with(failing_site, user, capsys):
    failing_site.force_login(user)
    response = failing_site.get("/test-crash")
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    html = response.content.decode()
    assert f"reference: <code>{request_id}</code>" in html
    assert '<link rel="stylesheet" href="/static/idp/idp.css">' in html  # the site's layout
    assert "Sign out" not in html  # rendered without the session, the user or the context processors
    log = capsys.readouterr().err
    assert (
        f"ERROR django.request request_id={request_id} Internal Server Error: /test-crash\nTraceback" in log
    )
    assert f"RuntimeError: {FAILURE}" in log


def test_a_failure_behind_the_credential_endpoints_middleware_has_its_reference(failing_site, capsys):
    response = failing_site.post("/api/v1/test-crash")
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    assert f"<code>{request_id}</code>" in response.content.decode()
    assert f"ERROR django.request request_id={request_id} Internal Server Error: /api/v1/test-crash" in (
        capsys.readouterr().err
    )


def test_a_page_that_cannot_render_falls_back_to_plain_html_with_the_reference(capsys):
    request = RequestFactory().get("/")
    request.request_id = "0123456789abcdef"
    response = server_error(request, template_name="idp/no-such-template.html")
    assert response.status_code == 500
    assert "<p>reference: 0123456789abcdef</p>" in response.content.decode()
    assert "request_id=- The error page could not be rendered" in capsys.readouterr().err


def test_an_unreadable_form_with_a_csrf_cookie_is_a_400_page_not_a_500(db):
    # Django's own handler400 runs the CSRF check again, which reads the unreadable body again.
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.get("/login")  # the CSRF cookie, as a browser has it
    for path in ("/login", "/password-reset"):
        response = browser.post(
            path, "email=a", content_type="application/x-www-form-urlencoded; charset=latin-1"
        )
        assert response.status_code == 400, path
        html = response.content.decode()
        assert f"reference: <code>{response['X-Request-ID']}</code>" in html
        assert '<link rel="stylesheet" href="/static/idp/idp.css">' in html
