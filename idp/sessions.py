"""Session policy: when and how this browser session signed in, held to ``max_age`` and ``id_token_hint``."""

from __future__ import annotations

import enum
import time

from django.http import HttpRequest

from .id_tokens import verified_claims
from .subjects import sub_for

AUTH_TIME_KEY = "idp_auth_time"
AMR_KEY = "idp_amr"
SID_KEY = "idp_sid"  # this browser session's sid (idp.browser_sessions)


def record_authentication(request: HttpRequest, *, methods: tuple[str, ...] = ("pwd",)) -> None:
    """Remember in the session that the user authenticated now, and how (RFC 8176 ``amr`` values)."""
    request.session[AUTH_TIME_KEY] = int(time.time())
    request.session[AMR_KEY] = list(methods)


def authentication_time(request: HttpRequest) -> int | None:
    """Seconds since the epoch at which this session's user authenticated, if known."""
    value = request.session.get(AUTH_TIME_KEY)
    return int(value) if value is not None else None


def authentication_methods(request: HttpRequest) -> list[str]:
    """How this session's user authenticated (RFC 8176 ``amr`` values), if known."""
    return list(request.session.get(AMR_KEY, []))


class SessionProblem(enum.Enum):
    """Why this session cannot answer an authorization request as it is (the values describe the errors)."""

    INVALID_MAX_AGE = "max_age must be a non-negative integer."
    INVALID_HINT = "id_token_hint is not an ID token issued here."
    SIGN_IN_AGAIN = "The session is too old for max_age, or belongs to someone other than id_token_hint."


def how_signed_in(request: HttpRequest) -> dict:
    """When and how the approving session signed in, and its ``sid``: kept with the code, for the ID token."""
    return {
        "auth_time": authentication_time(request),
        "amr": authentication_methods(request),
        "sid": request.session.get(SID_KEY) or "",
    }


def session_problem(
    request: HttpRequest, *, client, max_age: str | None, id_token_hint: str | None
) -> SessionProblem | None:
    """``max_age`` and ``id_token_hint`` against this signed-in session (OIDC Core 3.1.2.1), or None.

    The hint's ``sub`` is compared with the one ``client`` (the requesting client, which the hint
    was issued to) sees for the signed-in person: a pairwise client holds its own value.
    """
    stale = False
    if max_age is not None:
        try:
            seconds = int(max_age)
        except ValueError:
            return SessionProblem.INVALID_MAX_AGE
        if seconds < 0:
            return SessionProblem.INVALID_MAX_AGE
        auth_time = authentication_time(request)
        stale = auth_time is None or time.time() - auth_time > seconds
    someone_else = False
    if id_token_hint:
        claims = verified_claims(id_token_hint)
        if claims is None:
            return SessionProblem.INVALID_HINT
        someone_else = claims["sub"] != sub_for(request.user, client)
    return SessionProblem.SIGN_IN_AGAIN if stale or someone_else else None


def on_user_logged_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """``user_logged_in`` receiver: every login through Django's ``login()`` is recorded, and indexed."""
    if request is not None and hasattr(request, "session"):
        # A sign-in finished by a second factor (idp.mfa.flow) says how; a password alone is "pwd".
        record_authentication(request, methods=getattr(request, "idp_sign_in_methods", ("pwd",)))
        from .browser_sessions import start_browser_session

        start_browser_session(request, user=user)
