"""What one token request's oauthlib hooks hand each other, typed, on the oauthlib request."""

from __future__ import annotations

from dataclasses import dataclass

from .stored import AccessToken, Grant, IDToken, RefreshToken


@dataclass
class TokenRequestState:
    """What one token request's hooks hand each other: the code read once, the rows saved together."""

    code: str | None = None  # the code ``grant`` was looked up for
    grant: Grant | None = None
    id_token: IDToken | None = None  # signed, not yet saved
    access_token: AccessToken | None = None
    refresh_token: RefreshToken | None = None


def state_of(request) -> TokenRequestState:
    """The state of this oauthlib request, made on first use."""
    state = getattr(request, "idp_state", None)
    if state is None:
        state = request.idp_state = TokenRequestState()
    return state
