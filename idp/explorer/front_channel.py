"""The code flows' browser side: the authorization request (state, nonce, PKCE) and the callback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from ..conf import idp_settings
from .browsers import browser_of
from .models import ExplorerRun
from .playground import callback_url
from .recorder import browser_request, recorded_response
from .store import keep_secrets, record_exchange, secrets_of

QUOTED_AT_MOST = 200  # characters of a callback's iss, error or error_description quoted in the outcome
NO_PKCE_NOTE = "Broken on purpose: the authorization request carries no code_challenge (no PKCE)."


class CallbackRefused(Exception):
    """A request to the callback that belongs to no run of this browser (the message says why)."""


def pkce_pair() -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)`` for ``code_challenge_method=S256`` (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", errors="replace")).hexdigest()


def run_url(run: ExplorerRun) -> str:
    return reverse("idp:explorer:run", args=[run.pk])


def begin_authorization(
    request: HttpRequest, run: ExplorerRun, *, client_secret: str | None, login_hint: str | None = None
) -> HttpResponse:
    """New state, nonce and PKCE pair; the redirect to /authorize, recorded as the run's first message."""
    state = secrets.token_urlsafe(32)
    kept = {"state": state, "client_secret": client_secret, "login_hint": login_hint}
    params = {
        "response_type": "code",
        "client_id": run.client_id,
        "redirect_uri": callback_url(),
        "scope": run.scope,
        "state": state,
    }
    if "openid" in run.scope.split():
        kept["nonce"] = params["nonce"] = secrets.token_urlsafe(24)
    if "no_pkce" not in run.breaks:
        kept["code_verifier"], params["code_challenge"] = pkce_pair()
        params["code_challenge_method"] = "S256"
    options = run.options
    for name in ("prompt", "acr_values", "claims"):
        if options.get(name):
            params[name] = options[name]
    if login_hint:
        params["login_hint"] = login_hint
    if options.get("max_age") is not None:
        params["max_age"] = str(options["max_age"])
    run.state_hash = state_hash(state)
    run.save(update_fields=["state_hash"])
    keep_secrets(run, **kept)
    url = idp_settings.issuer_origin + reverse("oauth2_provider:authorize") + "?" + urlencode(params)
    response = HttpResponseRedirect(url)
    notes = (NO_PKCE_NOTE,) if "no_pkce" in run.breaks else ()
    record_exchange(
        run, step="start", source="browser", target="rp", request=browser_request(request),
        response=recorded_response(response), notes=notes,
    )  # fmt: skip
    return response


def _run_of_callback(request: HttpRequest) -> ExplorerRun:
    browser, state = browser_of(request), request.GET.get("state", "")
    if browser is None:
        raise CallbackRefused("This browser started no run of the flow explorer (its cookie is missing).")
    if not state or len(state) > 512:
        raise CallbackRefused("The callback has no state: it cannot be matched to a run.")
    run = ExplorerRun.objects.filter(
        browser=browser, state_hash=state_hash(state), stage=ExplorerRun.Stage.AUTHORIZING,
        expires__gt=timezone.now(),
    ).first()  # fmt: skip
    if run is None or not hmac.compare_digest(secrets_of(run).get("state", ""), state):
        raise CallbackRefused(
            "The state does not match a run of this browser waiting for its callback: a relying party "
            "refuses such a callback (it may be a forged one, a cross-site request forgery)."
        )
    return run


def _quoted(value: str) -> str:
    """A value of the callback's query as the run's outcome quotes it: printable (PostgreSQL refuses
    NUL in text), on one line, cut after ``QUOTED_AT_MOST`` characters."""
    text = "".join(character if character.isprintable() else " " for character in value[: QUOTED_AT_MOST + 1])
    return text if len(text) <= QUOTED_AT_MOST else text[:QUOTED_AT_MOST] + "…"


def callback_run(request: HttpRequest) -> ExplorerRun | None:
    """The run of this browser that the callback's state names and that waits for it, or None."""
    try:
        return _run_of_callback(request)
    except CallbackRefused:
        return None


def receive_callback(request: HttpRequest) -> tuple[ExplorerRun, HttpResponse]:
    """The authorization response: state checked, iss checked (RFC 9207), the code or error kept."""
    run = _run_of_callback(request)
    response = HttpResponseRedirect(run_url(run))
    notes, end = [], ""
    iss, error = request.GET.get("iss", ""), request.GET.get("error", "")
    if iss != idp_settings.ISSUER:
        shown = _quoted(iss) or "missing"
        end = f"The response's iss ({shown}) is not this issuer: a client stops here (RFC 9207)."
        notes.append(end)
    elif error:
        description = _quoted(request.GET.get("error_description", ""))
        end = f"The authorization server answered {_quoted(error)}"
        end += f": {description}" if description else "."
    elif not request.GET.get("code"):
        end = "The callback carries neither a code nor an error."
    else:
        notes.append("state matches the one this run sent, and iss is this issuer: the code is taken.")
        keep_secrets(run, code=request.GET["code"])
    record_exchange(
        run, step="authorization_response", source="browser", target="rp", request=browser_request(request),
        response=recorded_response(response), notes=tuple(notes),
    )  # fmt: skip
    run.stage = ExplorerRun.Stage.ENDED if end else ExplorerRun.Stage.STEPS
    run.outcome = end
    if end:
        run.pending = []
    run.save(update_fields=["stage", "outcome", "pending"])
    return run, response
