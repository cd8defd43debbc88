"""Basic OP plan, first part: the happy flow, ID tokens, userinfo, scopes and display."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..flows import authorize, callback_params, expect_code, expect_error_page, new_request
from ..registry import CheckFailed, ModuleSkipped, Status, module
from ..tokens import (
    check_token_response,
    code_flow,
    exchange_code,
    jwt_parts,
    signed_in,
    userinfo,
    userinfo_claims,
    verify_id_token,
)


@module("oidcc-server", "basic", "The happy code flow: state, nonce, iss, tokens, ID token, userinfo")
def server(ctx: Context) -> tuple[Status, str]:
    ctx.check_jwks_kids()
    browser = ctx.new_browser()
    flow = code_flow(ctx, browser, new_request(ctx))
    userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    return ctx.verdict()


@module(
    "oidcc-response-type-missing",
    "basic",
    "No response_type: an unsupported_response_type/invalid_request response, or an error page",
)
def response_type_missing(ctx: Context) -> tuple[Status, str]:
    req = new_request(ctx, response_type=None)
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        expect_error_page(outcome, "a request without response_type")
        return ctx.verdict()
    params = callback_params(ctx, req, outcome.location)
    if "code" in params:
        raise CheckFailed("a code was issued for a request without response_type")
    if params.get("error") not in {"unsupported_response_type", "invalid_request"}:
        raise CheckFailed(
            f"error={params.get('error')!r}, expected unsupported_response_type or invalid_request"
        )
    return ctx.verdict()


@module("oidcc-idtoken-signature", "basic", "The ID token is RS256-signed and verifies against jwks_uri")
def idtoken_signature(ctx: Context) -> tuple[Status, str]:
    _, flow = signed_in(ctx)
    header, _ = jwt_parts(flow.id_token)
    if header.get("alg") != "RS256":  # verify_id_token already insists; kept explicit
        raise CheckFailed(f"alg is {header.get('alg')!r}")
    return ctx.verdict()


@module("oidcc-idtoken-unsigned", "basic", "alg none ID tokens, only if the provider advertises them")
def idtoken_unsigned(ctx: Context) -> tuple[Status, str]:
    if "none" not in (ctx.discovery().get("id_token_signing_alg_values_supported") or []):
        raise ModuleSkipped("alg none is not in id_token_signing_alg_values_supported (acceptable)")
    browser = ctx.new_browser()
    req = new_request(ctx)
    code = expect_code(ctx, req, authorize(ctx, browser, req))
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    header, claims = jwt_parts(token["id_token"])
    if header.get("alg") == "none":
        if claims.get("iss") != ctx.issuer or claims.get("nonce") != req.nonce:
            raise CheckFailed("the unsigned ID token has the wrong iss or nonce")
        return ctx.verdict()
    verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    ctx.warn("none is advertised but the static client gets signed ID tokens (register it for none to test)")
    return ctx.verdict()


def _userinfo_module(ctx: Context, how: str) -> tuple[Status, str]:
    _, flow = signed_in(ctx)
    response = userinfo(ctx, flow.access_token, how=how)
    if how == "post-body" and response.status_code != 200:
        ctx.warn(f"an access token in the POST body is not accepted (HTTP {response.status_code})")
        return ctx.verdict()
    userinfo_claims(ctx, response, flow.claims["sub"])
    return ctx.verdict()


@module("oidcc-userinfo-get", "basic", "userinfo with the Bearer header in a GET")
def userinfo_get(ctx: Context) -> tuple[Status, str]:
    return _userinfo_module(ctx, "get")


@module("oidcc-userinfo-post-header", "basic", "userinfo with the Bearer header in a POST")
def userinfo_post_header(ctx: Context) -> tuple[Status, str]:
    return _userinfo_module(ctx, "post-header")


@module("oidcc-userinfo-post-body", "basic", "userinfo with the access token in the POST body")
def userinfo_post_body(ctx: Context) -> tuple[Status, str]:
    return _userinfo_module(ctx, "post-body")


@module(
    "oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
    "basic",
    "nonce is optional in the code flow",
)
def request_without_nonce(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, nonce=False))
    return ctx.verdict()


SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}


def _check_claim_types(claims: dict[str, Any]) -> None:
    for name in ("email_verified", "phone_number_verified"):
        if name in claims and not isinstance(claims[name], bool):
            raise CheckFailed(f"userinfo: {name} is not a boolean")
    if "address" in claims and not isinstance(claims["address"], dict):
        raise CheckFailed("userinfo: address is not a JSON object")
    if "updated_at" in claims and (
        isinstance(claims["updated_at"], bool) or not isinstance(claims["updated_at"], int | float)
    ):
        raise CheckFailed("userinfo: updated_at is not a number")


def _scope_module(ctx: Context, scopes: list[str]) -> tuple[Status, str]:
    supported = ctx.discovery().get("scopes_supported")
    if isinstance(supported, list):
        missing = [scope for scope in scopes if scope not in supported]
        if missing:
            ctx.warn(f"scopes not in scopes_supported: {', '.join(missing)}")
    _, flow = signed_in(ctx, scope=" ".join(["openid", *scopes]))
    claims = userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    _check_claim_types(claims)
    for scope in scopes:
        if not any(name in claims for name in SCOPE_CLAIMS[scope]):
            ctx.warn(f"userinfo has none of the {scope} claims")
    return ctx.verdict()


@module("oidcc-scope-profile", "basic", "profile claims from userinfo")
def scope_profile(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["profile"])


@module("oidcc-scope-email", "basic", "email claims from userinfo")
def scope_email(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["email"])


@module("oidcc-scope-address", "basic", "the address claim from userinfo")
def scope_address(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["address"])


@module("oidcc-scope-phone", "basic", "phone claims from userinfo")
def scope_phone(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["phone"])


@module("oidcc-scope-all", "basic", "profile, email, address and phone together")
def scope_all(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["profile", "email", "address", "phone"])


@module("oidcc-alternate-happy-flow", "basic", "Reversed scope order and shuffled parameters still succeed")
def alternate_happy_flow(ctx: Context) -> tuple[Status, str]:
    req = new_request(ctx, scope="email profile openid")
    req.params = dict(reversed(list(req.params.items())))
    flow = code_flow(ctx, ctx.new_browser(), req)
    userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    return ctx.verdict()


@module("oidcc-display-page", "basic", "display=page does not cause an error")
def display_page(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, display="page"))
    return ctx.verdict()


@module("oidcc-display-popup", "basic", "display=popup does not cause an error")
def display_popup(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, display="popup"))
    return ctx.verdict()
