"""The logs: secrets redacted everywhere, one line per event with the request's id, tracebacks kept."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlencode, urljoin

import pytest
import requests
from django.core.servers.basehttp import WSGIRequestHandler
from django.db import connections
from django.test.testcases import LiveServerThread

from idp.logs import REDACTED, redact
from oidc_selftest.forms import forms_of
from tests.conftest import REDIRECT_URI, pkce_pair, query_of
from tests.crash_urls import FAILURE
from tests.factories import CLIENT_SECRET, PASSWORD

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
TIMEOUT = 10
POST_LOGOUT = "https://rp.example.com/logged-out"
HEADER_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ request_id=\S+ "
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"GET /end-session?id_token_hint={JWT}&state=bye HTTP/1.1", JWT),
        ("GET /userinfo?access_token=q5Yc-aK_02 HTTP/1.1", "q5Yc-aK_02"),
        ("GET /authorize?client_id=web&login_hint=alice%40example.com&state=s", "alice%40example.com"),
        ("https://rp.example.com/callback?code=Zx-81_aQ&state=s&iss=http%3A%2F%2F127.0.0.1", "Zx-81_aQ"),
        ("grant_type=refresh_token&refresh_token=r3fr3sh&client_secret=s3cr3t", "r3fr3sh"),
        ("grant_type=refresh_token&refresh_token=r3fr3sh&client_secret=s3cr3t", "s3cr3t"),
        ("grant_type=authorization_code&code=c0d3&code_verifier=v3r1f13r", "v3r1f13r"),
        ("token=t0k3n&token_type_hint=access_token", "t0k3n"),
        ("csrfmiddlewaretoken=x&username=alice&password=hunter2", "hunter2"),
        ("new_password1=hunter3&new_password2=hunter3", "hunter3"),
        # A name with percent-encoded characters, which Django decodes to the same parameter.
        ("GET /userinfo?access%5Ftoken=q5Yc-aK_02 HTTP/1.1", "q5Yc-aK_02"),
        ("GET /end-session?id%5ftoken%5Fhint=opaque-hint-value HTTP/1.1", "opaque-hint-value"),
        # Inside another URL: percent-encoded once (next=) or twice (a next= inside a redirect_uri).
        (
            "GET /login?next=/authorize%3Fclient_id%3Dweb%26login_hint%3Dalice%2540example.com%26x%3D1",
            "alice",
        ),
        ("GET /login?next=%2Fend-session%3Fid_token_hint%3Dopaque-hint-value", "opaque-hint-value"),
        ("next%3D%252Fauthorize%253Flogin_hint%253Dbob%2540example.com%2526state%253Ds", "bob"),
        # Rendered dictionaries (a QueryDict or JSON in an exception message).
        ("<QueryDict: {'code': ['c0d3'], 'client_id': ['web']}>", "c0d3"),
        ('{"access_token": "4cc3ss", "token_type": "Bearer"}', "4cc3ss"),
        # By their shape: a JWT anywhere, an Authorization header, a password-reset link.
        (f"Invalid ID token: {JWT}", JWT),
        ("Authorization: Bearer q5Yc-aK_02xyz", "q5Yc-aK_02xyz"),
        ("Authorization: Basic d2ViOnMzY3IzdA==", "d2ViOnMzY3IzdA=="),
        ("GET /password-reset/MQ/cz1fxq-0123456789abcdef0123456789abcdef HTTP/1.1", "0123456789abcdef"),
    ],
)
def test_redact_removes_the_secret(text, secret):
    redacted = redact(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_redact_keeps_what_an_operator_needs():
    line = (
        "GET /authorize?response_type=code&client_id=web&redirect_uri=https%3A%2F%2Frp%2Fcb&scope=openid"
        "&state=s-1&nonce=n-1&code_challenge=ch&code_challenge_method=S256&token_type_hint=access_token"
        "&login_hint=alice HTTP/1.1"
    )
    assert redact(line) == line.replace("login_hint=alice", f"login_hint={REDACTED}")
    challenge = 'WWW-Authenticate: Bearer realm="oauth", error="invalid_token", error_description="expired"'
    assert redact(challenge) == challenge


def test_a_log_line_is_one_line_with_the_secrets_redacted(capsys):
    logging.getLogger("idp.test").warning("refused %s\nforged line", "/userinfo?access_token=q5Yc-aK_02")
    (line,) = capsys.readouterr().err.splitlines()
    assert HEADER_LINE.match(line)
    assert line.endswith(
        f"WARNING idp.test request_id=- refused /userinfo?access_token={REDACTED}\\nforged line"
    )


def test_a_traceback_follows_its_line_redacted(capsys):
    try:
        raise ValueError(f"bad id_token_hint={JWT}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: %s", "/end-session")
    header, *traceback = capsys.readouterr().err.splitlines()
    assert HEADER_LINE.match(header) and header.endswith("Internal Server Error: /end-session")
    assert traceback[0] == "Traceback (most recent call last):"
    assert traceback[-1] == f"ValueError: bad id_token_hint={REDACTED}"


def test_runserver_access_log_is_redacted(capsys):
    """What runserver's request handler logs for each request (``make run``)."""
    request_line = f"GET /end-session?id_token_hint={JWT}&login_hint=alice%40example.com HTTP/1.1"
    logging.getLogger("django.server").info('"%s" %s %s', request_line, "200", "1234")
    log = capsys.readouterr().err
    assert JWT not in log and "alice" not in log
    assert f'"GET /end-session?id_token_hint={REDACTED}&login_hint={REDACTED} HTTP/1.1" 200 1234' in log


class RunserverThread(LiveServerThread):
    """Django's live server thread with runserver's own request handler, which writes the access log."""

    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port), WSGIRequestHandler, connections_override=connections_override
        )


@pytest.fixture
def runserver(transactional_db, settings):
    """The provider served in this process as ``make run`` serves it, with the test-only failing views."""
    settings.ROOT_URLCONF = "tests.crash_urls"
    shared = {
        conn.alias: conn for conn in connections.all() if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    thread = RunserverThread("127.0.0.1", lambda handler: handler, connections_override=shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()
        for conn in shared.values():
            conn.dec_thread_sharing()


def server_log_until(capsys, text: str, log: str = "") -> str:
    """Everything written to stderr, once ``text`` is in it (runserver logs after sending the answer)."""
    deadline = time.monotonic() + TIMEOUT
    while text not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log += capsys.readouterr().err
    return log


def sign_in_and_allow(browser: requests.Session, base: str, authorize_url: str) -> str:
    """A person's browser: to the login page, sign in, allow on the consent page; the redirect's Location."""
    login_page = browser.get(authorize_url, timeout=TIMEOUT)
    (login_form,) = forms_of(login_page.text)
    fields = login_form.values()
    consent_page = browser.post(
        urljoin(login_page.url, login_form.attrs["action"]),
        data={**fields, "username": "alice", "password": PASSWORD},
        headers={"Referer": login_page.url},
        timeout=TIMEOUT,
    )
    assert consent_page.status_code == 200, consent_page.text[:500]
    (consent_form,) = (form for form in forms_of(consent_page.text) if form.attrs.get("id") == "consent-form")
    hidden = {
        field["name"]: field.get("value", "")
        for field in consent_form.fields
        if field.get("type") == "hidden"
    }
    answer = browser.post(
        consent_page.url,
        data={**hidden, "allow": "1"},
        headers={"Referer": consent_page.url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def test_the_server_log_of_a_whole_flow_and_a_failure_has_no_secret(runserver, capsys, user, web_client):
    """L-13 and the production log: authorize, token, userinfo, refresh, introspect, revoke,
    end-session and two forced 500s through runserver; no secret in the log, each 500's traceback is
    there with the request id that its access line, its X-Request-ID and its error page show."""
    base, client_auth = runserver, (web_client.client_id, CLIENT_SECRET)
    verifier, challenge = pkce_pair()
    authorize_query = {
        "response_type": "code",
        "client_id": web_client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email offline_access",
        "state": "flow-state",
        "nonce": "flow-nonce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",
        "login_hint": user.email,
    }
    with requests.Session() as browser:
        location = sign_in_and_allow(browser, base, f"{base}/authorize?{urlencode(authorize_query)}")
        session_cookie = browser.cookies["sessionid"]
        code = query_of(location)["code"]
        tokens = requests.post(
            f"{base}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=client_auth,
            timeout=TIMEOUT,
        ).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert requests.get(f"{base}/userinfo", headers=bearer, timeout=TIMEOUT).status_code == 200
        refused = requests.get(f"{base}/userinfo?access_token={tokens['access_token']}", timeout=TIMEOUT)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
        refreshed = requests.post(
            f"{base}/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=client_auth,
            timeout=TIMEOUT,
        ).json()
        introspected = requests.post(
            f"{base}/introspect", data={"token": refreshed["access_token"]}, auth=client_auth, timeout=TIMEOUT
        )
        assert introspected.json()["active"] is True
        revoked = requests.post(
            f"{base}/revoke", data={"token": refreshed["refresh_token"]}, auth=client_auth, timeout=TIMEOUT
        )
        assert revoked.status_code == 200
        logout = browser.get(
            f"{base}/end-session",
            params={"id_token_hint": refreshed["id_token"], "post_logout_redirect_uri": POST_LOGOUT},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert logout.status_code == 302 and logout.headers["Location"] == POST_LOGOUT
        page = browser.get(f"{base}/test-crash?code=forced-{code}", timeout=TIMEOUT)
        api = requests.get(f"{base}/api/v1/test-crash", headers=bearer, timeout=TIMEOUT)

    assert page.status_code == api.status_code == 500
    page_id, api_id = page.headers["X-Request-ID"], api.headers["X-Request-ID"]
    assert f"<code>{page_id}</code>" in page.text and "reference:" in page.text
    log = server_log_until(capsys, f"django.server request_id={api_id} ")

    secrets = {
        "the authorization code": code,
        "the code verifier": verifier,
        "the client secret": CLIENT_SECRET,
        "the password": PASSWORD,
        **{f"the login hint ({at})": user.email.replace("@", at) for at in ("@", "%40", "%2540")},
        "the session cookie": session_cookie,
        **{f"the first {name}": tokens[name] for name in ("access_token", "refresh_token", "id_token")},
        **{
            f"the refreshed {name}": refreshed[name] for name in ("access_token", "refresh_token", "id_token")
        },
    }
    assert [name for name, secret in secrets.items() if secret in log] == []
    lines = log.splitlines()
    for request_id, path in ((page_id, "/test-crash"), (api_id, "/api/v1/test-crash")):
        (error,) = [
            n for n, line in enumerate(lines) if f"request_id={request_id} Internal Server Error" in line
        ]
        assert HEADER_LINE.match(lines[error]) and lines[error].endswith(
            f"ERROR django.request request_id={request_id} Internal Server Error: {path}"
        )
        assert lines[error + 1] == "Traceback (most recent call last):"
        assert f"RuntimeError: {FAILURE}" in lines[error + 2 :]
        (access,) = [line for line in lines if f"django.server request_id={request_id} " in line]
        assert f'"GET {path}' in access and '" 500 ' in access
    assert f"/end-session?id_token_hint={REDACTED}&" in log
    assert f"/userinfo?access_token={REDACTED} " in log
    assert f"login_hint%3D{REDACTED}" in log
    assert f"/test-crash?code={REDACTED} " in log


@pytest.mark.django_db
def test_a_security_warning_reaches_the_log_with_its_request_id(client, capsys):
    response = client.get("/login?login_hint=alice%40example.com", HTTP_HOST="evil.example")
    assert response.status_code == 400
    log = capsys.readouterr().err
    assert f"django.security.DisallowedHost request_id={response['X-Request-ID']} Invalid HTTP_HOST" in log
    assert "alice" not in log
