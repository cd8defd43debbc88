"""The relying party's authorization requests and responses, signing in and consenting on the way."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import requests

from .browser import Browser, Landing
from .context import Context
from .forms import Form, forms_of
from .http import add_query, describe_page, is_html, origin_of, short_url
from .pages import consent_choice, login_form, username_field, what_page
from .pkce import pkce_pair
from .registry import CheckFailed, Client


@dataclass
class AuthRequest:
    client: Client
    params: dict[str, str]
    redirect_uri: str
    state: str | None
    nonce: str | None
    verifier: str

    @property
    def max_age(self) -> int | None:
        value = self.params.get("max_age")
        return int(value) if value is not None else None

    def url(self, endpoint: str) -> str:
        return add_query(endpoint, self.params)


def new_request(
    ctx: Context,
    *,
    client: Client | None = None,
    scope: str = "openid",
    nonce: bool = True,
    state: bool = True,
    redirect_uri: str | None = None,
    **extra: str | None,
) -> AuthRequest:
    """An authorization code request with PKCE S256, state and nonce; ``extra=None`` removes a key."""
    client = client or ctx.client
    redirect_uri = redirect_uri or ctx.config.redirect_uri
    verifier, challenge = pkce_pair()
    ctx.secret(verifier)
    state_value = secrets.token_urlsafe(16) if state else None
    nonce_value = secrets.token_urlsafe(16) if nonce else None
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state_value,
        "nonce": nonce_value,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return AuthRequest(
        client=client,
        params={key: value for key, value in params.items() if value is not None},
        redirect_uri=redirect_uri,
        state=state_value,
        nonce=nonce_value,
        verifier=verifier,
    )


@dataclass
class AuthOutcome:
    """The end of an authorization request in a browser: the RP redirect, or the page it stopped at."""

    landing: Landing
    logins: int
    consents: int

    @property
    def location(self) -> str | None:
        return self.landing.rp_location

    @property
    def page(self) -> requests.Response:
        return self.landing.response


def authorize(
    ctx: Context,
    browser: Browser,
    req: AuthRequest,
    *,
    method: str = "GET",
    forbid_login: str | None = None,
    forbid_consent: str | None = None,
) -> AuthOutcome:
    """Send ``req`` from ``browser``, sign in and approve consent as the pages come, stop at the RP.

    ``forbid_login`` / ``forbid_consent``: the FAIL detail if that page appears (it must not).
    """
    endpoint = ctx.endpoint("authorization_endpoint")
    if method == "GET":
        landing = browser.navigate("GET", req.url(endpoint))
    else:
        # A form auto-posted by the relying party's page: a cross-origin POST from the RP.
        rp_origin = origin_of(req.redirect_uri)
        landing = browser.navigate(
            "POST",
            endpoint,
            data=req.params,
            headers={"Origin": rp_origin, "Referer": rp_origin + "/"},
        )
    logins = consents = 0
    for _ in range(8):
        if landing.rp_location is not None or not is_html(landing.response):
            break
        html = landing.response.text
        login = login_form(forms_of(html))
        consent = consent_choice(html, ctx.config.approve_button) if login is None else None
        if login is not None:
            if forbid_login:
                raise CheckFailed(forbid_login)
            if logins:
                raise CheckFailed(
                    "the login page came back right after signing in "
                    f"(wrong credentials for {ctx.config.username}, or a login loop)"
                )
            logins += 1
            landing = browser.submit(
                landing.response, login, click=None, fill=login_fill(ctx, login), credentials=True
            )
        elif consent is not None:
            if forbid_consent:
                raise CheckFailed(forbid_consent)
            if consents:
                raise CheckFailed("the consent page came back right after approving it")
            consents += 1
            landing = browser.submit(landing.response, consent.form, click=consent.button)
        else:
            break
    return AuthOutcome(landing=landing, logins=logins, consents=consents)


def login_fill(ctx: Context, form: Form) -> dict[str, str]:
    """The username and password typed into ``form``; a FAIL if it has no recognisable username field."""
    fill = {
        control["name"]: ctx.config.password
        for control in form.fields
        if control.get("type", "").lower() == "password" and control.get("name")
    }
    username = username_field(form, ctx.config.username_field)
    if username is None:
        if ctx.config.username_field:
            raise CheckFailed(f"the login page has no field named {ctx.config.username_field!r}")
        raise CheckFailed(
            "the login page has no field recognisable as the username: name it with --username-field"
        )
    fill[username] = ctx.config.username
    return fill


def callback_params(ctx: Context, req: AuthRequest, location: str) -> dict[str, str]:
    """Check an authorization response (redirect target, ``iss``, ``state``) and return its parameters."""
    parts = urlsplit(location)
    expected = urlsplit(req.redirect_uri)
    if (parts.scheme, parts.netloc, parts.path) != (expected.scheme, expected.netloc, expected.path):
        raise CheckFailed(
            f"the authorization response went to {short_url(location)}, not to {short_url(req.redirect_uri)}"
        )
    fragment = dict(parse_qsl(parts.fragment))
    if "code" in fragment or "error" in fragment:
        raise CheckFailed("the authorization response is in the URL fragment, not the query")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    registered = parse_qsl(expected.query, keep_blank_values=True)
    pairs = [pair for pair in pairs if pair not in registered]
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CheckFailed(f"the authorization response repeats {', '.join(repeated)}")
    params = dict(pairs)
    ctx.secret(params.get("code"))
    if "iss" in params:
        if params["iss"] != ctx.issuer:
            raise CheckFailed(f"the authorization response has iss={params['iss']!r}, not the issuer")
    elif ctx.discovery().get("authorization_response_iss_parameter_supported") is True:
        raise CheckFailed(
            "the authorization response has no iss parameter although "
            "authorization_response_iss_parameter_supported is true (RFC 9207)"
        )
    if req.state is not None and params.get("state") != req.state:
        if "state" not in params:
            raise CheckFailed("the authorization response does not echo state")
        raise CheckFailed("the authorization response has a different state from the one sent")
    if req.state is None and "state" in params:
        raise CheckFailed("the authorization response has a state although none was sent")
    return params


def expect_code(ctx: Context, req: AuthRequest, outcome: AuthOutcome, what: str = "the request") -> str:
    """The authorization code of a successful response, or a FAIL that says what happened instead."""
    if outcome.location is None:
        page = outcome.page
        where = describe_page(page)
        if is_html(page) and page.status_code == 200:
            where = f"it stopped at {what_page(page.text)}: {where}"
        raise CheckFailed(f"{what} did not come back to the relying party: {where}")
    params = callback_params(ctx, req, outcome.location)
    if "error" in params:
        description = params.get("error_description")
        raise CheckFailed(
            f"{what} was answered with error={params['error']}" + (f" ({description})" if description else "")
        )
    code = params.get("code")
    if not code:
        raise CheckFailed(f"{what}: the authorization response has neither code nor error")
    return code


def expect_error_page(outcome: AuthOutcome, what: str) -> None:
    """PASS condition of the 'error page, no redirect' modules."""
    if outcome.location is not None:
        raise CheckFailed(f"{what}: redirected to {short_url(outcome.location)} instead of an error page")
    page = outcome.page
    if page.status_code >= 500:
        raise CheckFailed(f"{what}: server error, {describe_page(page)}")
    if not is_html(page) or not (page.status_code == 200 or 400 <= page.status_code < 500):
        raise CheckFailed(f"{what}: not an error page for the user: {describe_page(page)}")
