"""Device authorization grant (RFC 8628): codes, polling with §3.5's answers, approval on the pages.

Not an OpenID Foundation plan: run it with ``--plan device``. It skips a provider whose metadata
names no ``device_authorization_endpoint``.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from ..browser import Browser
from ..context import Context
from ..flows import login_fill
from ..forms import forms_of
from ..http import describe_page, error_of, is_html, is_http_url, json_body
from ..pages import consent_choice, login_form
from ..registry import CheckFailed, Client, ModuleSkipped, module
from ..tokens import userinfo, userinfo_claims, verify_id_token

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REQUIRED = ("device_code", "user_code", "verification_uri", "expires_in")


def device_client(ctx: Context) -> Client:
    return Client(ctx.config.device_client_id, ctx.config.device_client_secret or "")


def _client_auth(ctx: Context) -> dict[str, Any]:
    """A confidential device client authenticates with HTTP Basic; a public one names itself."""
    client = device_client(ctx)
    if client.secret:
        return {"auth": (client.client_id, ctx.secret(client.secret))}
    return {"data": {"client_id": client.client_id}}


def request_codes(ctx: Context, scope: str) -> dict[str, Any]:
    """RFC 8628 §3.1-3.2: the device's request, and every required member of the answer."""
    endpoint = ctx.discovery().get("device_authorization_endpoint")
    if not endpoint:
        raise ModuleSkipped("the provider advertises no device_authorization_endpoint")
    if not is_http_url(endpoint):
        raise CheckFailed(f"device_authorization_endpoint is not an http(s) URL: {endpoint!r}")
    auth = _client_auth(ctx)
    data = {**auth.pop("data", {}), "scope": scope}
    response = ctx.http("POST", endpoint, data=data, headers={"Accept": "application/json"}, **auth)
    if response.status_code != 200:
        raise CheckFailed(
            f"the device authorization request got HTTP {response.status_code} ({error_of(response)})"
        )
    body = json_body(response, "the device authorization response")
    if missing := [name for name in REQUIRED if name not in body]:
        raise CheckFailed(f"the device authorization response lacks {', '.join(missing)}")
    ctx.secret(body["device_code"])
    return body


def poll(ctx: Context, codes: dict[str, Any]) -> requests.Response:
    """One token request of RFC 8628 §3.4."""
    auth = _client_auth(ctx)
    data = {**auth.pop("data", {}), "grant_type": DEVICE_GRANT, "device_code": codes["device_code"]}
    return ctx.http(
        "POST", ctx.endpoint("token_endpoint"), data=data, headers={"Accept": "application/json"}, **auth
    )


def expect_error(response: requests.Response, expected: str, what: str) -> None:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code != 400 or error != expected:
        raise CheckFailed(
            f"{what}: expected HTTP 400 {expected}, got HTTP {response.status_code} ({error_of(response)})"
        )


def approve_on_the_pages(ctx: Context, browser: Browser, codes: dict[str, Any]) -> None:
    """Open verification_uri_complete (or verification_uri), sign in, send the code, approve."""
    url = codes.get("verification_uri_complete") or codes["verification_uri"]
    landing = browser.navigate("GET", url)
    steps = []
    for _ in range(6):
        page = landing.response
        if not is_html(page):
            raise CheckFailed(f"the verification pages ended on {describe_page(page)}")
        forms = forms_of(page.text)
        login = login_form(forms)
        consent = consent_choice(page.text, ctx.config.approve_button) if login is None else None
        code_form = next(
            (f for f in forms if any(e.get("name") == "user_code" for e in f.text_entries)), None
        )
        if login is not None:
            steps.append("login")
            if steps.count("login") > 1:
                raise CheckFailed("the login page came back after signing in")
            landing = browser.submit(page, login, click=None, fill=login_fill(ctx, login))
        elif code_form is not None:
            steps.append("code")
            if steps.count("code") > 1:
                raise CheckFailed(f"the code was not accepted: {describe_page(page)}")
            landing = browser.submit(page, code_form, click=None, fill={"user_code": codes["user_code"]})
        elif consent is not None:
            browser.submit(page, consent.form, click=consent.button)
            return
        else:
            raise CheckFailed(f"no sign-in, code or approval form on {describe_page(page)}")
    raise CheckFailed("the verification pages did not lead to an approval")


@module(
    "rfc8628-device-grant", "device", "Device codes, authorization_pending, approval on the pages, tokens"
)
def device_grant(ctx: Context):
    codes = request_codes(ctx, "openid")
    interval = codes.get("interval", 5)
    expect_error(poll(ctx, codes), "authorization_pending", "polling before the person answered")
    approve_on_the_pages(ctx, ctx.new_browser(), codes)
    ctx.sleep(interval)
    response = poll(ctx, codes)
    if response.status_code != 200:
        raise CheckFailed(f"polling after approval got HTTP {response.status_code} ({error_of(response)})")
    tokens = json_body(response, "the token response")
    if "openid" not in tokens.get("scope", "openid").split() or not tokens.get("id_token"):
        raise CheckFailed("the approved openid scope gave no ID token")
    claims = verify_id_token(
        ctx,
        tokens["id_token"],
        client=device_client(ctx),
        nonce=None,
        access_token=tokens.get("access_token"),
    )
    userinfo_claims(ctx, userinfo(ctx, tokens["access_token"]), claims["sub"])
    ctx.sleep(interval)
    expect_error(poll(ctx, codes), "invalid_grant", "polling again with the used device code")
    return ctx.verdict()


@module("rfc8628-slow-down", "device", "Polling faster than the interval: slow_down, then a longer interval")
def slow_down(ctx: Context):
    codes = request_codes(ctx, "openid")
    interval = codes.get("interval", 5)
    expect_error(poll(ctx, codes), "authorization_pending", "the first poll")
    started = time.monotonic()
    expect_error(poll(ctx, codes), "slow_down", f"a second poll well within the {interval} s interval")
    # §3.5: the interval grows by 5 seconds for this and every later request.
    ctx.sleep(max(0.0, interval + 5 - (time.monotonic() - started)))
    expect_error(
        poll(ctx, codes), "authorization_pending", f"a poll after the longer {interval + 5} s interval"
    )
    return ctx.verdict()
