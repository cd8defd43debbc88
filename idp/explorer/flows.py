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
        ),
        Flow(
            "spa",
            "Single-page or native app: authorization code + PKCE, no secret",
            CODE,
            False,
            "openid profile email",
            CODE_BREAKS,
        ),
        Flow(
            "refresh",
            "Web app, then refresh the tokens (offline_access)",
            CODE,
            None,
            "openid profile email offline_access",
            (*CODE_BREAKS, "wrong_secret", "reuse_refresh_token"),
            prompt="consent",  # offline_access is granted only on a consent page (OIDC Core 11)
        ),
        Flow(
            "device", "Device: a TV or a CLI (device authorization grant)", DEVICE, None, "openid profile", ()
        ),
        Flow(
            "client_credentials",
            "Service: client credentials, no person",
            CLIENT_CREDENTIALS,
            True,
            "users:read",
            ("wrong_secret",),
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
