"""Basic OP plan, second part: prompt, max_age, hints, locales and acr_values."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..flows import AuthOutcome, AuthRequest, authorize, callback_params, expect_code, new_request
from ..http import describe_page
from ..registry import CheckFailed, Status, module
from ..tokens import (
    check_auth_time_moved,
    check_token_response,
    code_flow,
    exchange_code,
    remembered,
    signed_in,
    verify_id_token,
)

MAX_AGE_1_WAIT = 2.0  # seconds between the first sign-in and the max_age=1 request


@module("oidcc-prompt-login", "basic", "prompt=login forces a new sign-in; auth_time moves forward")
def prompt_login(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    ctx.sleep(1.1)
    second = code_flow(ctx, browser, new_request(ctx, prompt="login"), what="the prompt=login request")
    if second.outcome.logins == 0:
        raise CheckFailed("prompt=login did not show the login page although the user was signed in")
    check_auth_time_moved(first.claims, second.claims, "prompt=login")
    if second.claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub changed between the two sign-ins")
    return ctx.verdict()


@module(
    "oidcc-prompt-none-not-logged-in",
    "basic",
    "prompt=none without a session redirects back with login_required (or similar)",
)
def prompt_none_not_logged_in(ctx: Context) -> tuple[Status, str]:
    req = new_request(ctx, prompt="none")
    outcome = authorize(
        ctx,
        ctx.new_browser(),
        req,
        forbid_login="prompt=none showed the login page instead of redirecting with login_required",
        forbid_consent="prompt=none showed the consent page",
    )
    if outcome.location is None:
        raise CheckFailed(f"prompt=none did not redirect back: {describe_page(outcome.page)}")
    params = callback_params(ctx, req, outcome.location)
    if "code" in params:
        raise CheckFailed("prompt=none without any session returned a code")
    allowed = {"login_required", "interaction_required", "consent_required", "account_selection_required"}
    if params.get("error") not in allowed:
        raise CheckFailed(f"error={params.get('error')!r}, expected one of {', '.join(sorted(allowed))}")
    return ctx.verdict()


@module(
    "oidcc-prompt-none-logged-in",
    "basic",
    "A second request with prompt=none succeeds silently; sub and auth_time are consistent",
)
def prompt_none_logged_in(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    what = "the second request, with prompt=none"
    req = new_request(ctx, prompt="none")
    outcome = authorize(ctx, browser, req, **remembered(ctx, what))
    code = _silent_code(ctx, req, outcome, what)
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    claims = verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    if claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub differs from the first ID token's")
    _same_auth_time_if_present(first.claims, claims)
    return ctx.verdict()


def _same_auth_time_if_present(first: dict[str, Any], second: dict[str, Any]) -> None:
    """The suite's CheckIdTokenAuthTimeClaimsSameIfPresent: no new sign-in, so the same auth_time."""
    if "auth_time" in first and "auth_time" in second and first["auth_time"] != second["auth_time"]:
        raise CheckFailed(
            "auth_time differs from the first ID token's although no new sign-in happened "
            f"({first['auth_time']} then {second['auth_time']})"
        )


def _silent_code(ctx: Context, req: AuthRequest, outcome: AuthOutcome, what: str) -> str:
    """The code of a prompt=none request in a signed-in, consented browser; clear FAILs otherwise."""
    if outcome.location is not None:
        params = callback_params(ctx, req, outcome.location)
        if params.get("error") == "consent_required":
            raise CheckFailed(
                f"{what} was answered with consent_required although {ctx.config.username} already "
                f"approved {ctx.config.client_id} for the same scopes in this browser "
                "(remembered consent expected)"
            )
        if params.get("error") in {"login_required", "interaction_required"}:
            raise CheckFailed(
                f"{what} was answered with {params['error']} although the user is signed in in this browser"
            )
    return expect_code(ctx, req, outcome, what)


@module("oidcc-max-age-1", "basic", "max_age=1 after two seconds forces a new sign-in; auth_time present")
def max_age_1(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    # 2 s, as the suite waits: a provider counting whole seconds may see 1.5 s as 1 s, within max_age=1.
    ctx.sleep(MAX_AGE_1_WAIT)
    second = code_flow(ctx, browser, new_request(ctx, max_age="1"), what="the max_age=1 request")
    if second.outcome.logins == 0:
        raise CheckFailed("max_age=1 did not show the login page although the sign-in was over 1 s old")
    check_auth_time_moved(first.claims, second.claims, "re-authentication")
    return ctx.verdict()


@module(
    "oidcc-max-age-10000", "basic", "max_age=10000 needs no new sign-in; auth_time present and consistent"
)
def max_age_10000(ctx: Context) -> tuple[Status, str]:
    # As the suite: max_age=15000 first, so that auth_time must be in both ID tokens.
    browser, first = signed_in(ctx, max_age="15000")
    what = "the second request, with max_age=10000"
    second = code_flow(ctx, browser, new_request(ctx, max_age="10000"), what=what, **remembered(ctx, what))
    if second.claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub differs from the first ID token's")
    _same_auth_time_if_present(first.claims, second.claims)
    return ctx.verdict()


@module(
    "oidcc-ensure-request-with-unknown-parameter-succeeds",
    "basic",
    "An unknown parameter is ignored",
)
def unknown_parameter(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, extra="foobar"))
    return ctx.verdict()


@module("oidcc-id-token-hint", "basic", "prompt=none with id_token_hint succeeds silently; sub matches")
def id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    what = "the second request, with prompt=none and id_token_hint"
    req = new_request(ctx, prompt="none", id_token_hint=first.id_token)
    outcome = authorize(ctx, browser, req, **remembered(ctx, what))
    code = _silent_code(ctx, req, outcome, what)
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    claims = verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    if claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub differs from the id_token_hint's")
    _same_auth_time_if_present(first.claims, claims)
    return ctx.verdict()


@module("oidcc-login-hint", "basic", "login_hint does not cause an error")
def login_hint(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, login_hint=ctx.config.username))
    return ctx.verdict()


@module("oidcc-ui-locales", "basic", "ui_locales does not cause an error")
def ui_locales(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, ui_locales="se"))
    return ctx.verdict()


@module("oidcc-claims-locales", "basic", "claims_locales does not cause an error")
def claims_locales(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, claims_locales="se"))
    return ctx.verdict()


@module(
    "oidcc-ensure-request-with-acr-values-succeeds",
    "basic",
    "acr_values succeeds; a warning unless a requested acr comes back",
)
def acr_values(ctx: Context) -> tuple[Status, str]:
    # The suite asks for the advertised values; "1 2" (OIDC Core's examples) only if none are advertised.
    advertised = ctx.discovery().get("acr_values_supported")
    usable = isinstance(advertised, list) and advertised and all(isinstance(v, str) for v in advertised)
    requested = list(advertised) if usable else ["1", "2"]
    flow = code_flow(ctx, ctx.new_browser(), new_request(ctx, acr_values=" ".join(requested)))
    acr = flow.claims.get("acr")
    if acr is None:
        ctx.warn("no acr in ID token")
    elif acr not in requested:
        ctx.warn(f"acr {acr!r} is not one of the requested acr_values")
    return ctx.verdict()
