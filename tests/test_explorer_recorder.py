"""What the explorer keeps of a message: all but passwords, cookies, CSRF tokens and typed codes."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory

from idp.explorer.models import ExplorerMessage, ExplorerRun
from idp.explorer.recorder import MAX_BODY, browser_request, recorded_request, recorded_response
from idp.explorer.records import RecordedRequest, RecordedResponse
from idp.explorer.store import exchanges_of, keep_secrets, record_exchange, secrets_of

FORM = "application/x-www-form-urlencoded"


def login_post(**extra):
    return RequestFactory().post(
        "/login?next=/authorize%3Fclient_id%3Dx&password=in-the-query",
        urlencode(
            {
                "username": "alice",
                "password": "hunter2-the-password",
                "csrfmiddlewaretoken": "csrf-value",
                "next": "/x",
            }
        ),
        content_type=FORM,
        HTTP_COOKIE="sessionid=the-session; csrftoken=the-csrf-cookie",
        HTTP_X_CSRFTOKEN="csrf-header",
        HTTP_USER_AGENT="Test browser",
        **extra,
    )


def test_a_sign_in_is_kept_without_password_csrf_token_or_cookies():
    kept = browser_request(login_post())

    assert kept.method == "POST"
    assert kept.url == "http://testserver/login?next=%2Fauthorize%3Fclient_id%3Dx"
    assert kept.body == "username=alice&next=%2Fx"
    names = {name.lower() for name, _ in kept.headers}
    assert "cookie" not in names and "x-csrftoken" not in names
    assert dict(kept.headers)["User-Agent"] == "Test browser"
    text = repr(kept)
    for secret in ("hunter2-the-password", "csrf-value", "the-session", "the-csrf-cookie", "csrf-header"):
        assert secret not in text, secret


def test_a_code_typed_by_the_person_is_dropped_where_the_caller_says():
    request = RequestFactory().post(
        "/login/verify", urlencode({"method": "totp", "code": "123456", "next": "/a"}), content_type=FORM
    )
    kept = browser_request(request, also_drop={"code"})
    assert kept.body == "method=totp&next=%2Fa"


def test_a_query_without_anything_to_drop_keeps_its_spelling():
    request = RequestFactory().get("/authorize?scope=openid%20profile&state=a+b&code_challenge=x")
    assert (
        browser_request(request).url
        == "http://testserver/authorize?scope=openid%20profile&state=a+b&code_challenge=x"
    )


def test_secrets_the_explorer_sends_are_kept_unmasked_for_reveal():
    sent = RecordedRequest(
        method="POST",
        url="http://127.0.0.1:8000/token",
        headers=(
            ("Authorization", "Basic ZXhwbG9yZXItd2ViOnNlY3JldA=="),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ),
        body="grant_type=authorization_code&code=the-code&code_verifier=the-verifier",
    )
    assert recorded_request(sent) == sent


def test_json_bodies_lose_never_recorded_members_at_any_depth():
    request = RequestFactory().post(
        "/x",
        json.dumps({"user": {"password": "p", "name": "a"}, "otp": "1", "token": "t"}),
        content_type="application/json",
    )
    assert json.loads(browser_request(request).body) == {"user": {"name": "a"}, "token": "t"}


def test_multipart_bodies_are_not_recorded():
    request = RequestFactory().post("/login", {"username": "alice", "password": "p"})  # multipart by default
    assert browser_request(request).body == "[multipart body: not recorded]"


def test_an_html_page_is_kept_as_its_title_and_cookies_are_never_kept():
    response = HttpResponse(
        "<html><head><title> Sign in &middot; Django IdP </title></head><body>secret form</body>"
    )
    response.set_cookie("sessionid", "the-session")
    response["Set-Cookie"] = "sessionid=set-by-hand"

    kept = recorded_response(response)

    assert kept.body == "[HTML page: Sign in · Django IdP]"
    assert kept.status == 200 and kept.reason == "OK"
    assert "set-cookie" not in {name.lower() for name, _ in kept.headers}


def test_a_json_body_is_kept_and_a_huge_one_is_cut():
    assert recorded_response(JsonResponse({"access_token": "tok"})).body == '{"access_token": "tok"}'
    huge = recorded_response(HttpResponse("x" * (MAX_BODY + 10), content_type="text/plain"))
    assert huge.body == "x" * MAX_BODY + "… [cut: 10 more characters]"


@pytest.fixture
def run(db):
    from datetime import timedelta

    from django.utils import timezone

    return ExplorerRun.objects.create(
        browser="b" * 64, flow="web", client_id="c", expires=timezone.now() + timedelta(hours=1)
    )


def test_messages_and_run_secrets_are_sealed_at_rest_and_read_back(run):
    request = RecordedRequest(method="POST", url="http://127.0.0.1:8000/token", body="code=the-secret-code")
    response = RecordedResponse(status=200, reason="OK", body='{"access_token": "the-access-token"}')
    first = record_exchange(
        run, step="token_request", source="rp", target="token", request=request, response=response
    )
    second = record_exchange(
        run,
        step="userinfo",
        source="rp",
        target="userinfo",
        request=request,
        response=response,
        notes=("a note",),
    )
    keep_secrets(run, code_verifier="the-verifier", client_secret="the-client-secret")

    assert (first.seq, second.seq) == (1, 2)
    stored = ExplorerMessage.objects.get(run=run, seq=1)
    assert stored.status == 200 and stored.step == "token_request"
    for text in (stored.sealed, ExplorerRun.objects.get(pk=run.pk).sealed):
        for secret in ("the-secret-code", "the-access-token", "the-verifier", "the-client-secret"):
            assert secret not in text
    assert exchanges_of(run) == [first, second]
    assert secrets_of(ExplorerRun.objects.get(pk=run.pk)) == {
        "code_verifier": "the-verifier",
        "client_secret": "the-client-secret",
    }


def test_a_rotated_secret_key_still_opens_what_a_fallback_sealed(run, settings):
    keep_secrets(run, state="the-state")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert secrets_of(run) == {"state": "the-state"}
    settings.SECRET_KEY_FALLBACKS = []
    assert secrets_of(run) == {}  # forgotten, not an error
