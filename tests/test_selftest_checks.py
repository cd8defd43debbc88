"""The self-test judges providers other than ours fairly (issue 21, D1-D11): each check against a stub
provider (tests/selftest_stub.py) or on the values it compares, each failing without its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from oidc_selftest.flows import authorize, expect_code, expect_error_page, new_request
from oidc_selftest.plans import basic_sessions, config
from oidc_selftest.plans.logout import (
    end_session,
    expect_logged_out_page,
    expect_logout_redirect,
    expect_no_logout_redirect,
)
from oidc_selftest.registry import CheckFailed, Status, select_modules
from oidc_selftest.tokens import check_auth_time_moved, token_request
from tests.selftest_stub import RP, Answer, json_answer, page, redirect, stub_op

PAGES = Path(__file__).parent / "selftest_pages"
SIGN_OUT_PAGE = (PAGES / "node_oidc_provider_logout.html").read_text()


def _sign_out_page(stub) -> str:
    """node-oidc-provider's confirmation page, its form pointed at the stub."""
    return SIGN_OUT_PAGE.replace("http://127.0.0.1:3999", stub.url)


# --- D1, D2, D9: login and consent pages that are not ours -------------------------------------------


def test_a_reskinned_login_and_consent_are_driven_to_the_relying_party():
    with stub_op() as stub:
        stub.routes["/authorize"] = lambda seen: page((PAGES / "ours_login_reskinned.html").read_text())
        stub.routes["/consent"] = lambda seen: redirect(f"{RP}/callback?code=abc&state={seen.form['state']}")
        stub.routes["/login"] = lambda seen: page(
            (PAGES / "ours_consent_reskinned.html")
            .read_text()
            .replace('id="decision"', 'id="decision" action="/consent"')
            .replace('name="idp_consent" value="1"', f'name="state" value="{state}"')
        )
        ctx = stub.context(username="alice", password="alice-password")
        req = new_request(ctx)
        state = req.state
        outcome = authorize(ctx, ctx.new_browser(), req)
        assert outcome.location is not None, outcome.page.text[:300]
        assert (outcome.logins, outcome.consents) == (1, 1)
        login, consent = (seen for seen in stub.seen if seen.method == "POST")
        assert login.form["identifier"] == "alice"
        assert login.form["secret"] == "alice-password"
        assert consent.form["decision"] == "accept"  # the pressed button's own name and value
        assert consent.form["remember"] == "yes"


# --- D3: what a browser sends ------------------------------------------------------------------------


def test_error_pages_are_asked_for_as_a_browser_asks_for_pages():
    def negotiating(seen):
        if "text/html" in seen.headers.get("Accept", ""):
            return page("<title>Error</title><p>unregistered redirect_uri</p>", status=400)
        return json_answer({"error": "invalid_request"}, status=400)

    with stub_op() as stub:
        stub.routes["/authorize"] = negotiating
        ctx = stub.context()
        outcome = authorize(ctx, ctx.new_browser(), new_request(ctx, redirect_uri=f"{RP}/elsewhere"))
        expect_error_page(outcome, "an unregistered redirect_uri")
        assert stub.seen[-1].headers["Accept"].startswith("text/html")


# --- D8: a page that stops the flow is named for what it is -------------------------------------------


def test_a_consent_page_titled_sign_in_is_not_reported_as_a_login_failure():
    with stub_op() as stub:
        stub.routes["/authorize"] = lambda seen: page(
            (PAGES / "ours_consent_unrecognisable.html").read_text()
        )
        ctx = stub.context()
        req = new_request(ctx)
        outcome = authorize(ctx, ctx.new_browser(), req)
        with pytest.raises(CheckFailed) as failed:
            expect_code(ctx, req, outcome)
        assert "neither a login page (no password field) nor a recognised consent page" in str(failed.value)


def test_an_operator_named_button_is_pressed():
    with stub_op() as stub:
        # The form has no action: the browser posts it back to the page's URL, query and all.
        stub.routes["/authorize"] = lambda seen: (
            redirect(f"{RP}/callback?code=abc&state={seen.query['state']}")
            if seen.method == "POST" and seen.form.get("b") == "1"
            else page((PAGES / "ours_consent_unrecognisable.html").read_text())
        )
        ctx = stub.context(approve_button="Maybe")
        req = new_request(ctx)
        outcome = authorize(ctx, ctx.new_browser(), req)
        assert expect_code(ctx, req, outcome) == "abc"


# --- the password goes to the provider only (security review finding 6) -------------------------------

LOGIN_PAGE = (
    '<form method="post" action="{action}"><input type="hidden" name="csrf" value="t">'
    '<input name="username"><input type="password" name="password"><button>Sign in</button></form>'
)


def test_the_password_is_not_sent_to_a_login_form_on_another_origin():
    with stub_op() as stub, stub_op() as elsewhere:
        stub.routes["/authorize"] = lambda seen: page(LOGIN_PAGE.format(action=f"{elsewhere.url}/collect"))
        ctx = stub.context()
        with pytest.raises(CheckFailed, match=r"would send the password to http://127\.0\.0\.1:\d+, which"):
            authorize(ctx, ctx.new_browser(), new_request(ctx))
        assert elsewhere.seen == []


def test_a_login_page_hosted_elsewhere_on_purpose_gets_the_password_when_named():
    states: list[str] = []
    with stub_op() as stub, stub_op() as login_site:
        stub.routes["/authorize"] = lambda seen: (
            states.append(seen.query["state"]) or redirect(f"{login_site.url}/login")
        )
        login_site.routes["/login"] = lambda seen: (
            redirect(f"{RP}/callback?code=abc&state={states[-1]}")
            if seen.method == "POST"
            else page(LOGIN_PAGE.format(action=""))
        )
        refused = stub.context()
        with pytest.raises(CheckFailed, match="--login-origin"):
            authorize(refused, refused.new_browser(), new_request(refused))
        assert [seen.method for seen in login_site.seen] == ["GET"]

        ctx = stub.context(login_origins=(login_site.url + "/",))
        req = new_request(ctx)
        assert expect_code(ctx, req, authorize(ctx, ctx.new_browser(), req)) == "abc"
        assert login_site.seen[-1].form["password"] == ctx.config.password


@pytest.mark.parametrize("status", [307, 308])
def test_a_307_or_308_does_not_resend_the_password_to_another_origin(status):
    with stub_op() as stub, stub_op() as elsewhere:
        stub.routes["/authorize"] = lambda seen: page(LOGIN_PAGE.format(action="/login"))
        stub.routes["/login"] = lambda seen: redirect(f"{elsewhere.url}/collect", status=status)
        ctx = stub.context()
        with pytest.raises(CheckFailed, match=f"HTTP {status} to http://127.0.0.1:.*not re-sent"):
            authorize(ctx, ctx.new_browser(), new_request(ctx))
        assert stub.seen[-1].form["password"] == ctx.config.password  # the provider's own origin got it
        assert elsewhere.seen == []


# --- D4, D5, D6, D7: values compared only as the specifications require ----------------------------


def test_auth_time_is_compared_only_when_both_id_tokens_carry_it():
    check_auth_time_moved({}, {"auth_time": 100}, "prompt=login")  # the first request had no max_age
    check_auth_time_moved({"auth_time": 100}, {}, "prompt=login")
    check_auth_time_moved({"auth_time": 100}, {"auth_time": 101}, "prompt=login")
    with pytest.raises(CheckFailed, match="did not move forward"):
        check_auth_time_moved({"auth_time": 100}, {"auth_time": 100}, "prompt=login")


class _Stop(Exception):
    pass


def test_max_age_1_waits_two_seconds_as_the_suite_does(monkeypatch):
    with stub_op() as stub:
        ctx = stub.context()
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            raise _Stop

        monkeypatch.setattr(basic_sessions, "signed_in", lambda ctx: (None, None))
        monkeypatch.setattr(ctx, "sleep", sleep)
        with pytest.raises(_Stop):
            basic_sessions.max_age_1(ctx)
        assert waits == [2.0]


def test_acr_values_asks_for_the_advertised_values(monkeypatch):
    sent: list[dict[str, str]] = []

    class Flow:
        claims = {"acr": "urn:mace:incommon:iap:bronze"}

    def code_flow(ctx, browser, req, **kwargs):
        sent.append(req.params)
        return Flow()

    with stub_op() as stub:
        ctx = stub.context()
        ctx.shared.discovery = {**stub.discovery(), "acr_values_supported": ["urn:mace:incommon:iap:bronze"]}
        monkeypatch.setattr(basic_sessions, "code_flow", code_flow)
        assert basic_sessions.acr_values(ctx) == (Status.PASS, "")
        assert sent[0]["acr_values"] == "urn:mace:incommon:iap:bronze"


def _discovery_response(document: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "application/json"
    response._content = json.dumps(document).encode()
    return response


def test_registered_and_allowed_discovery_members_are_not_warned_about():
    with stub_op() as stub:
        document = {
            **stub.discovery(),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub"],
            "scopes_supported": ["openid"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_details_types_supported": ["payment"],  # RFC 9396, in the registry
            "introspection_signing_alg_values_supported": ["RS256"],  # RFC 9701
        }
        registered = stub.context()
        config._check_discovery_document(registered, _discovery_response(document))
        assert not [w for w in registered.warnings if "registry" in w]

        extension = stub.context()
        config._check_discovery_document(extension, _discovery_response({**document, "version": "9.13.3"}))
        assert any("outside the metadata registry: version" in w for w in extension.warnings)

        allowed = stub.context(allowed_metadata=("version",))
        config._check_discovery_document(allowed, _discovery_response({**document, "version": "9.13.3"}))
        assert not [w for w in allowed.warnings if "registry" in w]


# --- D11: logout confirmation pages and POST ---------------------------------------------------------


def test_no_id_token_hint_confirmation_page_is_confirmed_and_a_redirect_after_it_fails():
    with stub_op() as stub:
        stub.routes["/end-session"] = lambda seen: page(_sign_out_page(stub))
        stub.routes["/session/end/confirm"] = lambda seen: (
            redirect(f"{RP}/logged-out?state=x") if seen.form.get("logout") == "yes" else page("kept")
        )
        ctx = stub.context()
        outcome = end_session(ctx, ctx.new_browser(), {"post_logout_redirect_uri": f"{RP}/logged-out"})
        assert outcome.confirmed
        with pytest.raises(CheckFailed, match="after the user confirmed, redirected"):
            expect_no_logout_redirect(outcome, "no id_token_hint identifies the client")


def test_no_id_token_hint_confirmation_page_then_a_signed_out_page_passes():
    with stub_op() as stub:
        stub.routes["/end-session"] = lambda seen: page(_sign_out_page(stub))
        stub.routes["/session/end/confirm"] = lambda seen: page(
            "<title>Signed out</title><p>You are signed out.</p>"
        )
        ctx = stub.context()
        outcome = end_session(ctx, ctx.new_browser(), {"post_logout_redirect_uri": f"{RP}/logged-out"})
        expect_no_logout_redirect(outcome, "no id_token_hint identifies the client")
        expect_logged_out_page(outcome)
        assert outcome.confirmed


def test_a_confirmation_page_is_not_a_logged_out_page():
    with stub_op() as stub:
        stub.routes["/end-session"] = lambda seen: page(_sign_out_page(stub))
        stub.routes["/session/end/confirm"] = lambda seen: page(_sign_out_page(stub))  # asks again
        ctx = stub.context()
        with pytest.raises(CheckFailed, match="still offers to sign out"):
            expect_logged_out_page(end_session(ctx, ctx.new_browser(), {}))


def test_logout_can_be_sent_as_a_form_post():
    with stub_op() as stub:
        stub.routes["/end-session"] = lambda seen: (
            redirect(f"{seen.form['post_logout_redirect_uri']}?state={seen.form['state']}")
            if seen.method == "POST"
            else Answer(status=405)
        )
        ctx = stub.context()
        params = {"id_token_hint": "hint", "post_logout_redirect_uri": f"{RP}/logged-out", "state": "s1"}
        outcome = end_session(ctx, ctx.new_browser(), params, method="POST")
        expect_logout_redirect(ctx, outcome, "s1")
        assert (stub.seen[-1].method, stub.seen[-1].form) == ("POST", params)


# --- D10: --trace ------------------------------------------------------------------------------------

SECRETS = {
    "client secret": "first-client-secret-0123",
    "password": "pässword with spaces&more",
    "code": "the-authorization-code-42",
    "access token": "access-token-value-9876",
    "refresh token": "refresh-token-value-5432",
    "id token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl",
    "cookie": "session-cookie-value-777",
}


def test_trace_prints_each_exchange_and_no_secret():
    lines: list[str] = []
    with stub_op() as stub:
        login = (
            '<form method="post" action="/login"><input name="user"><input type="password" name="pw"></form>'
        )
        stub.routes["/authorize"] = lambda seen: page(login)
        stub.routes["/login"] = lambda seen: Answer(
            status=302,
            body=f'Redirecting to <a href="{RP}/callback?code={SECRETS["code"]}&amp;state=s">the app</a>',
            headers={
                "Content-Type": "text/html",
                "Location": f"{RP}/callback?code={SECRETS['code']}&state=s",
                "Set-Cookie": f"sid={SECRETS['cookie']}; HttpOnly; Path=/",
            },
        )
        stub.routes["/token"] = lambda seen: json_answer(
            {
                "access_token": SECRETS["access token"],
                "refresh_token": SECRETS["refresh token"],
                "id_token": SECRETS["id token"],
                "token_type": "Bearer",
            },
            **{"Cache-Control": "no-store"},
        )
        ctx = stub.context(
            client_secret=SECRETS["client secret"], password=SECRETS["password"], trace=lines.append
        )
        browser = ctx.new_browser()
        authorize(ctx, browser, new_request(ctx))
        browser.navigate("GET", f"{stub.url}/authorize")  # sends the cookie back
        token_request(ctx, {"grant_type": "authorization_code", "code": SECRETS["code"]}, client=ctx.client)

    trace = "".join(lines)
    for what, secret in SECRETS.items():
        assert secret not in trace, f"the {what} was printed"
    assert "pässword" not in trace and "p%C3%A4ssword" not in trace
    assert f"> POST {stub.url}/login" in trace
    assert "< 302 Found" in trace
    assert "Authorization: Basic [masked]" in trace
    assert "Cookie: sid=[masked]" in trace
    assert "Set-Cookie: sid=[masked]; HttpOnly; Path=/" in trace
    assert '"token_type": "Bearer"' in trace
    assert "user=alice" in trace  # what is not secret stays readable


def test_the_device_plan_runs_only_when_asked_for():
    assert not [m for m in select_modules("all") if m.plan == "device"]
    assert [m.id for m in select_modules("device")] == ["rfc8628-device-grant", "rfc8628-slow-down"]
