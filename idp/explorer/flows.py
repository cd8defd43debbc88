"""The flows the explorer runs: which client each needs, which breaks apply, the steps each plans."""

from __future__ import annotations

from dataclasses import dataclass

from ..device import DEVICE_GRANT_TYPE

CODE, DEVICE, CLIENT_CREDENTIALS = "authorization-code", DEVICE_GRANT_TYPE, "client-credentials"


@dataclass(frozen=True)
class Flow:
    """One flow of the start form: the grant its client must have, its defaults and its breaks."""

    key: str
    label: str
    grant_type: str  # the client's authorization_grant_type
    confidential: bool | None  # True: a client with a secret; False: a public one; None: either
    scope: str  # the default scopes
    breaks: tuple[str, ...]
    prompt: str = ""  # the default prompt
    description: str = ""  # what kind of app uses it and what a run shows, in plain words

    @property
    def front_channel(self) -> bool:
        """Whether the person's browser goes to /authorize (the code flows)."""
        return self.grant_type == CODE


CODE_BREAKS = ("no_pkce", "wrong_redirect_uri", "reuse_code", "wrong_verifier", "expired_code")
FLOWS: dict[str, Flow] = {
    flow.key: flow
    for flow in (
        Flow(
            "web",
            "Web app: authorization code + PKCE, with a client secret",
            CODE,
            True,
            "openid profile email",
            (*CODE_BREAKS, "wrong_secret"),
            description="For an app with a server of its own, such as a web site with a “Sign in” button. "
            "The browser goes to this server to sign in and agree; it comes back to the app with a one-time "
            "code, and the app's server trades the code for tokens, proving who it is with its client secret "
            "and the PKCE code_verifier. The run shows every message: the redirects, the sign-in and consent "
            "pages, the code, the token request, the ID token checked, and the tokens used.",
        ),
        Flow(
            "spa",
            "Single-page or native app: authorization code + PKCE, no secret",
            CODE,
            False,
            "openid profile email",
            CODE_BREAKS,
            description="For an app that cannot keep a secret: JavaScript running in the browser, a phone or "
            "desktop app. The same redirects as the web app, but the token request carries no client secret: "
            "the PKCE code_verifier, known only to the copy of the app that started the flow, is its proof. "
            "The run shows how PKCE stands in for a secret.",
        ),
        Flow(
            "refresh",
            "Web app, then refresh the tokens (offline_access)",
            CODE,
            None,
            "openid profile email offline_access",
            (*CODE_BREAKS, "wrong_secret", "reuse_refresh_token"),
            prompt="consent",  # offline_access is granted only on a consent page (OIDC Core 11)
            description="For an app that keeps working after the person leaves: it asks for offline_access "
            "and also gets a refresh token. The run does the web app flow, then trades the refresh token "
            "for new tokens without the person, and shows that the old refresh token stops working "
            "(rotation).",
        ),
        Flow(
            "device",
            "Device: a TV or a CLI (device authorization grant)",
            DEVICE,
            None,
            "openid profile",
            (),
            description="For a device with no browser or keyboard: a TV, a command-line tool. The device "
            "gets a short user code; the person types it at /device on a phone or computer, signs in and "
            "allows it, while the device asks the token endpoint every few seconds until the tokens arrive. "
            "The run shows the user code and each poll with its answer.",
        ),
        Flow(
            "client_credentials",
            "Service: client credentials, no person",
            CLIENT_CREDENTIALS,
            True,
            "users:read",
            ("wrong_secret",),
            description="For a service calling an API on its own behalf, with no person involved: a "
            "back-end job, another server. It authenticates at the token endpoint with its secret and "
            "gets an access token for the API: no sign-in, no ID token, no refresh token. The run shows "
            "the shortest flow there is.",
        ),
    )
}

# The lanes of each back-channel step: (from, to).
STEP_LANES: dict[str, tuple[str, str]] = {
    "discovery": ("rp", "keys"),
    "jwks": ("rp", "keys"),
    "token_request": ("rp", "token"),
    "refresh": ("rp", "token"),
    "introspection": ("rp", "token"),
    "revocation": ("rp", "token"),
    "device_authorization": ("rp", "token"),
    "device_poll": ("rp", "token"),
    "client_credentials": ("rp", "token"),
    "userinfo": ("rp", "userinfo"),
    "api_call": ("rp", "api"),
}


def _step(step: str, broken: str = "") -> dict[str, str]:
    return {"step": step, "broken": broken}


def refresh_plan(*, breaks: list[str], confidential: bool) -> list[dict[str, str]]:
    """Refresh the tokens (and use the old refresh token again, if broken so), then look at the result."""
    plan = [_step("refresh")]
    if "reuse_refresh_token" in breaks:
        plan.append(_step("refresh", "reuse_refresh_token"))
    if confidential:
        plan.append(_step("introspection"))
    return plan


def plan_for(flow: Flow, *, breaks: list[str], confidential: bool, scope: str) -> list[dict[str, str]]:
    """The back-channel steps of a run, in order: after the callback (code flows), from the start
    (client credentials), or after the device authorization (device)."""
    openid = "openid" in scope.split()
    token_break = next((b for b in breaks if b not in ("no_pkce", "reuse_code", "reuse_refresh_token")), "")
    if flow.grant_type == CLIENT_CREDENTIALS:
        plan = [_step("discovery"), _step("client_credentials", token_break), _step("api_call")]
        return [*plan, _step("introspection")]
    if flow.grant_type == DEVICE:
        plan = [_step("device_poll")]
    else:
        plan = [_step("discovery"), _step("token_request", token_break)]
        if "reuse_code" in breaks:
            plan.append(_step("token_request", "reuse_code"))
    if openid:
        plan += [_step("jwks"), _step("userinfo")]
    plan.append(_step("api_call"))
    if confidential:
        plan.append(_step("introspection"))
    if flow.key == "refresh":
        plan += refresh_plan(breaks=breaks, confidential=confidential)
    return plan
