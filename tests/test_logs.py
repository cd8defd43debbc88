"""The logs: secrets redacted everywhere, one line per event with the request's id, tracebacks kept."""

from __future__ import annotations

import logging
import re

import pytest

from idp.logs import REDACTED, redact

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
