"""Basic OP plan, third part: code reuse, redirect URIs, client authentication, request objects, refresh."""

from __future__ import annotations

import json
import re
from typing import Any

from ..context import Context
from ..flows import AuthRequest, authorize, callback_params, expect_code, expect_error_page, new_request
from ..http import describe_page, shannon_bits
from ..pkce import b64url
from ..registry import CheckFailed, ModuleSkipped, Status, module
from ..tokens import (
    UNSET,
    check_error_body,
    check_token_response,
    code_flow,
    exchange_code,
    finish_flow,
    signed_in,
    token_request,
    userinfo,
    userinfo_claims,
    verify_id_token,
)


def _first_exchange(ctx: Context) -> tuple[AuthRequest, str, dict[str, Any], dict[str, Any]]:
    browser = ctx.new_browser()
    req = new_request(ctx)
    code = expect_code(ctx, req, authorize(ctx, browser, req))
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    claims = verify_id_token(
        ctx, token["id_token"], client=req.client, nonce=req.nonce, access_token=token["access_token"]
    )
    return req, code, token, claims


@module("oidcc-codereuse", "basic", "A second exchange of the same code gets 400 invalid_grant")
def codereuse(ctx: Context) -> tuple[Status, str]:
    req, code, _, _ = _first_exchange(ctx)
    check_error_body(exchange_code(ctx, req, code), "the second exchange of the code", "invalid_grant")
    return ctx.verdict()


@module(
    "oidcc-codereuse-30seconds",
    "basic",
    "Code reuse later: invalid_grant, and the first access token should be revoked",
)
def codereuse_30seconds(ctx: Context) -> tuple[Status, str]:
    req, code, token, claims = _first_exchange(ctx)
    userinfo_claims(ctx, userinfo(ctx, token["access_token"]), claims["sub"], "userinfo before the reuse")
    ctx.sleep(30.0 if ctx.config.slow else 1.0)
    check_error_body(exchange_code(ctx, req, code), "the second exchange of the code", "invalid_grant")
    after = userinfo(ctx, token["access_token"])
    if after.status_code == 200:
        ctx.warn("the access token of the first exchange still works at userinfo after the code was reused")
    elif after.status_code != 401:
        ctx.warn(f"userinfo answered HTTP {after.status_code}, not 401, for the revoked access token")
    return ctx.verdict()


@module(
    "oidcc-ensure-registered-redirect-uri",
    "basic",
    "An unregistered redirect_uri gets an error page, never a redirect",
)
def registered_redirect_uri(ctx: Context) -> tuple[Status, str]:
    bad_uri = ctx.config.redirect_uri.split("?")[0] + "-selftest-unregistered"
    ctx.add_rp_uri(bad_uri)
    outcome = authorize(ctx, ctx.new_browser(), new_request(ctx, redirect_uri=bad_uri))
    expect_error_page(outcome, "an unregistered redirect_uri")
    return ctx.verdict()


@module(
    "oidcc-ensure-post-request-succeeds",
    "basic",
    "The authorization request as a form POST completes normally (a warning if it never comes back)",
)
def post_request(ctx: Context) -> tuple[Status, str]:
    browser, _ = signed_in(ctx)
    req = new_request(ctx)
    outcome = authorize(ctx, browser, req, method="POST")
    if outcome.location is None:
        # OIDC Core 3.1.2.1 says MUST, but the suite only warns when the redirect_uri is never called
        # (ExpectRedirectUriHasBeenCalled at WARNING): so does this module. A response that does come
        # back is checked in full.
        ctx.warn(
            "the authorization request sent as a form POST never came back to the relying party "
            f"(OIDC Core 3.1.2.1 requires POST): {describe_page(outcome.page)}"
        )
        return ctx.verdict()
    finish_flow(ctx, req, outcome, what="the POSTed authorization request")
    return ctx.verdict()


@module("oidcc-server-client-secret-post", "basic", "The happy flow with client_secret_post")
def server_client_secret_post(ctx: Context) -> tuple[Status, str]:
    methods = ctx.discovery().get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "client_secret_post" not in methods:
        raise ModuleSkipped("client_secret_post is not in token_endpoint_auth_methods_supported")
    flow = code_flow(ctx, ctx.new_browser(), new_request(ctx), auth="post")
    userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    return ctx.verdict()


def _unsigned_request_object(ctx: Context, claims: dict[str, Any]) -> str:
    header = {"alg": "none"}
    body = {"iss": ctx.client.client_id, "aud": ctx.issuer, **claims}
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}."


def _unsigned_objects_advertised(ctx: Context) -> bool:
    algs = ctx.discovery().get("request_object_signing_alg_values_supported")
    return isinstance(algs, list) and "none" in algs


@module(
    "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
    "basic",
    "An unsigned request_uri is processed or rejected with request_uri_not_supported",
)
def request_uri_unsigned(ctx: Context) -> tuple[Status, str]:
    if not _unsigned_objects_advertised(ctx):
        raise ModuleSkipped("none is not in request_object_signing_alg_values_supported")
    if ctx.discovery().get("request_uri_parameter_supported") is not False:
        raise ModuleSkipped("request_uri is supported, but this harness cannot host a request object")
    req = new_request(ctx, request_uri="https://selftest.invalid/request-object.jwt")
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        raise CheckFailed(f"no authorization response: {describe_page(outcome.page)}")
    params = callback_params(ctx, req, outcome.location)
    if params.get("error") != "request_uri_not_supported":
        raise CheckFailed(f"error={params.get('error')!r}, expected request_uri_not_supported")
    return ctx.verdict()


@module(
    "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
    "basic",
    "An unsigned request object is processed or rejected with request_not_supported",
)
def unsigned_request_object(ctx: Context) -> tuple[Status, str]:
    algs = ctx.discovery().get("request_object_signing_alg_values_supported")
    if isinstance(algs, list) and "none" not in algs:
        raise ModuleSkipped("request_object_signing_alg_values_supported excludes none")
    req = new_request(ctx)
    req.params["request"] = _unsigned_request_object(ctx, dict(req.params))
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        raise CheckFailed(
            f"neither processed nor rejected with request_not_supported: {describe_page(outcome.page)}"
        )
    params = callback_params(ctx, req, outcome.location)
    if params.get("error") == "request_not_supported":
        return ctx.verdict()
    if "error" in params:
        raise CheckFailed(
            f"error={params['error']!r}, expected the request processed or request_not_supported"
        )
    token = check_token_response(ctx, exchange_code(ctx, req, params.get("code", "")))
    verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    return ctx.verdict()


@module("oidcc-claims-essential", "basic", "claims asking for name (essential) in userinfo succeeds")
def claims_essential(ctx: Context) -> tuple[Status, str]:
    claims_request = json.dumps({"userinfo": {"name": {"essential": True}}})
    _, flow = signed_in(ctx, claims=claims_request)
    claims = userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    if "name" not in claims:
        ctx.warn("name is not in userinfo although requested as essential")
    return ctx.verdict()


@module(
    "oidcc-ensure-request-object-with-redirect-uri",
    "basic",
    "A request object's redirect_uri is honoured, or an error page",
)
def request_object_with_redirect_uri(ctx: Context) -> tuple[Status, str]:
    if not _unsigned_objects_advertised(ctx):
        raise ModuleSkipped("unsigned request objects are not supported (none not advertised)")
    req = new_request(ctx)
    inner = dict(req.params)
    req.params = {
        "response_type": "code",
        "client_id": req.client.client_id,
        "scope": req.params["scope"],
        "request": _unsigned_request_object(ctx, inner),
    }
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        expect_error_page(outcome, "a request object carrying the redirect_uri")
        return ctx.verdict()
    code = expect_code(ctx, req, outcome)
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    return ctx.verdict()


@module(
    "oidcc-refresh-token",
    "basic",
    "offline_access with prompt=consent gives a refresh token that works for its client only",
)
def refresh_token(ctx: Context) -> tuple[Status, str]:
    offline = "offline_access" in (ctx.discovery().get("scopes_supported") or [])
    scope = "openid offline_access" if offline else "openid"
    browser = ctx.new_browser()
    req = new_request(ctx, scope=scope, **({"prompt": "consent"} if offline else {}))
    flow = code_flow(ctx, browser, req)
    if offline and flow.outcome.consents == 0:
        ctx.warn("prompt=consent did not show the consent page")
    original = flow.refresh_token
    if original is None:
        raise ModuleSkipped(f"no refresh token was issued for scope {scope!r}")
    if not re.fullmatch(r"[\x20-\x7e]+", original):
        raise CheckFailed("the refresh token has characters outside VSCHAR (RFC 6749 A.17)")
    bits = shannon_bits(original)
    # The suite's EnsureMinimumRefreshTokenEntropy: Shannon estimate above 96 bits (128 with slop, since
    # the per-character estimate of a short random string is biased low).
    if bits <= 96:
        raise CheckFailed(
            f"the refresh token has only about {bits:.0f} bits of estimated entropy (over 96 needed)"
        )

    response = token_request(
        ctx, {"grant_type": "refresh_token", "refresh_token": original}, client=ctx.client
    )
    body = check_token_response(ctx, response, what="the refresh", id_token=False)
    if "id_token" in body:
        claims = verify_id_token(
            ctx,
            body["id_token"],
            client=ctx.client,
            nonce=UNSET,
            access_token=body["access_token"],
            what="the refreshed ID token",
        )
        if claims["sub"] != flow.claims["sub"]:
            raise CheckFailed("the refreshed ID token has a different sub")
        if "nonce" in claims and claims["nonce"] != flow.claims.get("nonce"):
            raise CheckFailed("the refreshed ID token has a different nonce from the original")
        if "auth_time" in flow.claims and claims.get("auth_time") != flow.claims["auth_time"]:
            raise CheckFailed("the refreshed ID token has a different auth_time from the original")
    else:
        ctx.warn("the refresh response has no new id_token (allowed by OIDC Core 12.2)")
    latest = body.get("refresh_token") or original

    stolen = token_request(ctx, {"grant_type": "refresh_token", "refresh_token": latest}, client=ctx.client2)
    check_error_body(
        stolen, f"{ctx.client2.client_id} presenting {ctx.client.client_id}'s refresh token", "invalid_grant"
    )
    return ctx.verdict()


@module(
    "oidcc-ensure-request-with-valid-pkce-succeeds",
    "basic",
    "A request with S256 PKCE succeeds",
)
def valid_pkce(ctx: Context) -> tuple[Status, str]:
    methods = ctx.discovery().get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise CheckFailed("code_challenge_methods_supported does not contain S256")
    code_flow(ctx, ctx.new_browser(), new_request(ctx))
    return ctx.verdict()
