"""RP-Initiated Logout OP plan: end_session_endpoint, its redirects and the signed-out state."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from jwcrypto import jwk, jws

from ..browser import Browser, Landing
from ..context import Context
from ..flows import authorize, callback_params, new_request
from ..http import add_query, describe_page, is_html, is_http_url, is_loopback_url, origin_of, short_url
from ..pages import asks_to_sign_out, sign_out_choice
from ..pkce import b64url
from ..registry import CheckFailed, Status, module
from ..tokens import Flow, code_flow, jwt_parts, signed_in


def logout_state() -> str:
    """128 characters, as the suite uses, to check that the provider does not corrupt a long state."""
    return secrets.token_urlsafe(96)


@dataclass
class LogoutOutcome:
    first: Landing  # the answer to the end_session request itself
    final: Landing  # after confirming, if the provider asked
    confirmed: bool


def end_session(
    ctx: Context, browser: Browser, params: dict[str, str], *, method: str = "GET"
) -> LogoutOutcome:
    """Send the user to end_session_endpoint (a redirect, or the RP's auto-posted form); on a sign-out
    confirmation page, press the button that confirms (never the one that declines)."""
    endpoint = ctx.endpoint("end_session_endpoint")
    if method == "GET":
        first = browser.navigate("GET", add_query(endpoint, params))
    else:
        rp_origin = origin_of(ctx.config.post_logout_redirect_uri)
        first = browser.navigate(
            "POST", endpoint, data=params, headers={"Origin": rp_origin, "Referer": rp_origin + "/"}
        )
    final, confirmed = first, False
    if first.rp_location is None and is_html(first.response):
        choice = sign_out_choice(first.response.text, ctx.config.approve_button)
        if choice is not None:
            final = browser.submit(first.response, choice.form, click=choice.button)
            confirmed = True
    return LogoutOutcome(first=first, final=final, confirmed=confirmed)


def expect_session_ended(ctx: Context, browser: Browser) -> None:
    """A prompt=none request in the browser now fails with login_required or interaction_required."""
    req = new_request(ctx, prompt="none")
    outcome = authorize(
        ctx,
        browser,
        req,
        forbid_login="after logout, prompt=none showed the login page "
        "instead of redirecting with login_required",
        forbid_consent="after logout, prompt=none showed the consent page: the session is still active",
    )
    if outcome.location is None:
        raise CheckFailed(f"after logout, prompt=none did not redirect back: {describe_page(outcome.page)}")
    params = callback_params(ctx, req, outcome.location)
    if "code" in params:
        raise CheckFailed("the session is still active after logout: prompt=none returned a code")
    if params.get("error") not in {"login_required", "interaction_required"}:
        raise CheckFailed(
            f"after logout, prompt=none gave error={params.get('error')!r}, "
            "expected login_required or interaction_required"
        )


def expect_logout_redirect(ctx: Context, outcome: LogoutOutcome, state: str | None) -> None:
    if outcome.final.rp_location is None:
        raise CheckFailed(
            f"no redirect to the post_logout_redirect_uri: {describe_page(outcome.final.response)}"
        )
    location = outcome.final.rp_location
    parts, expected = urlsplit(location), urlsplit(ctx.config.post_logout_redirect_uri)
    if (parts.scheme, parts.netloc, parts.path) != (expected.scheme, expected.netloc, expected.path):
        raise CheckFailed(f"redirected to {short_url(location)}, not the post_logout_redirect_uri")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if state is not None and params.get("state") != state:
        raise CheckFailed(
            "the post-logout redirect " + ("has a different state" if "state" in params else "lacks state")
        )
    if state is None and "state" in params:
        raise CheckFailed("the post-logout redirect has a state although none was sent")


def expect_no_logout_redirect(outcome: LogoutOutcome, why: str) -> None:
    """An error or confirmation page, and no redirect to the RP even after the user confirms."""
    if outcome.first.rp_location is not None:
        raise CheckFailed(f"redirected to {short_url(outcome.first.rp_location)} although {why}")
    page = outcome.first.response
    if page.status_code >= 500 or not is_html(page):
        raise CheckFailed(f"no error or confirmation page: {describe_page(page)}")
    if outcome.final.rp_location is not None:
        raise CheckFailed(
            f"after the user confirmed, redirected to {short_url(outcome.final.rp_location)} although {why}"
        )
    if outcome.final.response.status_code >= 500:
        raise CheckFailed(f"after the user confirmed: {describe_page(outcome.final.response)}")


def expect_logged_out_page(outcome: LogoutOutcome) -> None:
    if outcome.final.rp_location is not None:
        raise CheckFailed(
            f"redirected to {short_url(outcome.final.rp_location)} "
            "although no post_logout_redirect_uri was given"
        )
    page = outcome.final.response
    if page.status_code != 200 or not is_html(page):
        raise CheckFailed(f"no logged-out page: {describe_page(page)}")
    if asks_to_sign_out(page.text):
        if outcome.confirmed:
            raise CheckFailed(
                f"after the user confirmed, the page still offers to sign out: {describe_page(page)}"
            )
        raise CheckFailed(
            "a sign-out confirmation page, not a logged-out page, and none of its buttons is recognisable "
            f"as confirming (name it with --approve-button): {describe_page(page)}"
        )


def _logout_setup(ctx: Context) -> tuple[Browser, Flow]:
    ctx.endpoint("end_session_endpoint")
    return signed_in(ctx)


@module(
    "oidcc-rp-initiated-logout-discovery-endpoint-verification",
    "logout",
    "end_session_endpoint is in the discovery document",
)
def logout_discovery(ctx: Context) -> tuple[Status, str]:
    value = ctx.discovery().get("end_session_endpoint")
    if value is None:
        raise CheckFailed("end_session_endpoint is missing from the discovery document")
    if not is_http_url(value):
        raise CheckFailed("end_session_endpoint is not an absolute http(s) URL")
    if urlsplit(value).scheme != "https":
        if is_loopback_url(ctx.issuer):
            ctx.warn("end_session_endpoint is not https (accepted for a loopback development issuer only)")
        else:
            raise CheckFailed("end_session_endpoint is not https")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout",
    "logout",
    "Logout with id_token_hint, post_logout_redirect_uri and state redirects back with state; session "
    "ends; the same by form POST (a warning if refused)",
)
def rp_initiated_logout(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    state = logout_state()
    params = {"id_token_hint": flow.id_token, "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri}
    outcome = end_session(ctx, browser, {**params, "state": state})
    expect_logout_redirect(ctx, outcome, state)
    expect_session_ended(ctx, browser)

    # RP-Initiated Logout 1.0 §2: the OP MUST support POST too. The suite sends only GET, so a POST that
    # is refused outright is a warning here (as the suite treats a refused POST authorization request);
    # a POST that is answered is held to the same rules as the GET.
    flow = code_flow(ctx, browser, new_request(ctx), what="the second sign-in, before the logout by POST")
    state = logout_state()
    outcome = end_session(
        ctx, browser, {**params, "id_token_hint": flow.id_token, "state": state}, method="POST"
    )
    if outcome.final.rp_location is None and (
        outcome.first.response.status_code >= 400 or not outcome.confirmed
    ):
        ctx.warn(
            "a logout request sent as a form POST was not accepted (RP-Initiated Logout 1.0 §2 requires "
            f"POST): {describe_page(outcome.first.response)}"
        )
        return ctx.verdict()
    expect_logout_redirect(ctx, outcome, state)
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
    "logout",
    "An unregistered post_logout_redirect_uri gets an error or confirmation page, no redirect",
)
def logout_bad_post_logout_redirect_uri(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    bad_uri = ctx.config.post_logout_redirect_uri.split("?")[0] + "-selftest-unregistered"
    ctx.add_rp_uri(bad_uri)
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": flow.id_token,
            "post_logout_redirect_uri": bad_uri,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the post_logout_redirect_uri is not registered")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-modified-id-token-hint",
    "logout",
    "An alg:none-tampered id_token_hint gets an error or confirmation page, no redirect",
)
def logout_modified_id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    header, _ = jwt_parts(flow.id_token)
    tampered_header = {**header, "alg": "none"}
    payload = flow.id_token.split(".")[1]
    hint = f"{b64url(json.dumps(tampered_header).encode())}.{payload}."
    ctx.secret(hint)
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": hint,
            "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the id_token_hint is unsigned (alg none)")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-bad-id-token-hint",
    "logout",
    "An id_token_hint signed by a foreign key gets an error or confirmation page, no redirect",
)
def logout_bad_id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    header, claims = jwt_parts(flow.id_token)
    kid = header.get("kid") if isinstance(header.get("kid"), str) else "selftest"
    foreign = jwk.JWK.generate(kty="RSA", size=2048, kid=kid)
    token = jws.JWS(json.dumps(claims).encode())
    token.add_signature(
        foreign, alg="RS256", protected=json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"})
    )
    hint = token.serialize(compact=True)
    ctx.secret(hint)
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": hint,
            "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the id_token_hint is signed by a key the provider never published")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-no-id-token-hint",
    "logout",
    "post_logout_redirect_uri without id_token_hint gets an error or confirmation page, no redirect",
)
def logout_no_id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, _ = _logout_setup(ctx)
    outcome = end_session(
        ctx,
        browser,
        {"post_logout_redirect_uri": ctx.config.post_logout_redirect_uri, "state": logout_state()},
    )
    expect_no_logout_redirect(outcome, "no id_token_hint identifies the client")
    return ctx.verdict()


@module("oidcc-rp-initiated-logout-no-params", "logout", "No parameters: the user is logged out and told so")
def logout_no_params(ctx: Context) -> tuple[Status, str]:
    browser, _ = _logout_setup(ctx)
    expect_logged_out_page(end_session(ctx, browser, {}))
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
    "logout",
    "id_token_hint without post_logout_redirect_uri: the user is logged out and told so",
)
def logout_no_post_logout_redirect_uri(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    outcome = end_session(ctx, browser, {"id_token_hint": flow.id_token, "state": logout_state()})
    expect_logged_out_page(outcome)
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-no-state",
    "logout",
    "Without state: a redirect to the registered URI without state; the session ends",
)
def logout_no_state(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    outcome = end_session(
        ctx,
        browser,
        {"id_token_hint": flow.id_token, "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri},
    )
    expect_logout_redirect(ctx, outcome, None)
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module("oidcc-rp-initiated-logout-only-state", "logout", "Only state: the user is logged out and told so")
def logout_only_state(ctx: Context) -> tuple[Status, str]:
    browser, _ = _logout_setup(ctx)
    expect_logged_out_page(end_session(ctx, browser, {"state": logout_state()}))
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
    "logout",
    "A query added to the registered post_logout_redirect_uri: an error or confirmation page, no redirect",
)
def logout_query_added(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    modified = add_query(ctx.config.post_logout_redirect_uri, {"foo": "bar"})
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": flow.id_token,
            "post_logout_redirect_uri": modified,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the post_logout_redirect_uri has an added query (not an exact match)")
    return ctx.verdict()
