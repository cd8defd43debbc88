"""Each back-channel step of a run: the request the relying party sends, its break, what it keeps."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote_plus

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from oauth2_provider.models import get_grant_model
from oauth2_provider.settings import oauth2_settings

from ..device import DEVICE_GRANT_TYPE
from . import transport
from .flows import STEP_LANES
from .models import ExplorerRun
from .playground import callback_url
from .recorder import recorded_request, recorded_response
from .store import keep_secrets, record_exchange, secrets_of

# The secret a step cannot go without (a step whose secret is missing is skipped: the run has no
# tokens after a refused token request, no ID token without the openid scope).
NEEDS: dict[tuple[str, str], str] = {
    ("token_request", ""): "code",
    ("jwks", ""): "id_token",
    ("userinfo", ""): "access_token",
    ("api_call", ""): "access_token",
    ("introspection", ""): "access_token",
    ("refresh", ""): "refresh_token",
    ("refresh", "reuse_refresh_token"): "previous_refresh_token",
    ("device_poll", ""): "device_code",
}
STILL_WAITING = frozenset({"authorization_pending", "slow_down"})  # RFC 8628 §3.5: poll again


@dataclass(frozen=True)
class StepResult:
    """What a step means for the run: poll again later (``wait``), or stop here (``end``, a sentence)."""

    wait: bool = False
    end: str = ""
    skipped: bool = False


def json_of(response: HttpResponse) -> dict:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _send(request, run, *, step: str, broken: str = "", notes=(), **kwargs) -> tuple[int, dict]:
    reply = transport.dispatch(request, **kwargs)
    source, target = STEP_LANES[step]
    record_exchange(
        run, step=step, source=source, target=target, request=recorded_request(reply.request),
        response=recorded_response(reply.response), broken=broken, notes=tuple(notes),
    )  # fmt: skip
    return reply.response.status_code, json_of(reply.response)


def basic_auth(client_id: str, secret: str) -> str:
    """HTTP Basic client authentication, each part form-encoded first (RFC 6749 §2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _client_auth(run: ExplorerRun, kept: dict, *, broken: str = "") -> tuple[dict, dict, list[str]]:
    """(headers, form fields, notes): HTTP Basic for a confidential client, client_id for a public one."""
    if not run.confidential:
        return {}, {"client_id": run.client_id}, []
    secret, notes = kept.get("client_secret", ""), []
    if broken == "wrong_secret":
        secret = secrets.token_urlsafe(24)
        notes.append("Broken on purpose: the client authenticated with a made-up secret.")
    return {"Authorization": basic_auth(run.client_id, secret)}, {}, notes


def _failure(status: int, body: dict) -> str:
    error = body.get("error") or f"HTTP {status}"
    return f"{error}: {body['error_description']}" if body.get("error_description") else str(error)


def _no_tokens(status: int, body: dict) -> StepResult:
    refused = _failure(status, body)
    return StepResult(end=f"The token request was refused ({refused}): without tokens, the flow ends.")


def _take_tokens(run: ExplorerRun, kept: dict, body: dict) -> None:
    new = {name: body[name] for name in ("access_token", "refresh_token", "id_token") if body.get(name)}
    if "refresh_token" in new and kept.get("refresh_token"):
        new["previous_refresh_token"] = kept["refresh_token"]
    keep_secrets(run, **new)


def discovery(request, run, kept, *, broken):
    _send(request, run, step="discovery", endpoint="discovery")
    return StepResult()


def jwks(request, run, kept, *, broken):
    _send(request, run, step="jwks", endpoint="jwks")
    return StepResult()


def _bearer(kept: dict) -> dict:
    return {"Authorization": f"Bearer {kept['access_token']}"}


def userinfo(request, run, kept, *, broken):
    _send(request, run, step="userinfo", endpoint="userinfo", headers=_bearer(kept))
    return StepResult()


def api_call(request, run, kept, *, broken):
    endpoint = "users" if run.flow == "client_credentials" else "me"
    _send(request, run, step="api_call", endpoint=endpoint, headers=_bearer(kept))
    return StepResult()


def introspection(request, run, kept, *, broken):
    headers, form, _ = _client_auth(run, kept)
    form |= {"token": kept["access_token"], "token_type_hint": "access_token"}
    _send(
        request, run, step="introspection", endpoint="introspect", method="POST", form=form, headers=headers
    )
    return StepResult()


def _expire_code(code: str) -> list[str]:
    get_grant_model().objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))
    lifetime = oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS
    return [
        "Broken on purpose: the explorer moved this code's expiry into the past on the server. A real "
        f"client gets this answer when it waits longer than the code's lifetime ({lifetime} seconds, "
        "AUTHORIZATION_CODE_EXPIRE_SECONDS) before exchanging it."
    ]


def token_request(request, run, kept, *, broken):
    headers, form, notes = _client_auth(run, kept, broken=broken)
    form |= {"grant_type": "authorization_code", "code": kept["code"], "redirect_uri": callback_url()}
    if kept.get("code_verifier"):
        form["code_verifier"] = kept["code_verifier"]
    if broken == "wrong_redirect_uri":
        form["redirect_uri"] += "/"
        notes.append("Broken on purpose: a trailing slash is enough; redirect URIs compare as exact strings.")
    elif broken == "wrong_verifier":
        form["code_verifier"] = secrets.token_urlsafe(48)
        notes.append("Broken on purpose: a fresh code_verifier, not the one code_challenge was made from.")
    elif broken == "expired_code":
        notes += _expire_code(kept["code"])
    elif broken == "reuse_code":
        notes.append("Broken on purpose: the same code, exchanged a second time.")
    status, body = _send(
        request, run, step="token_request", broken=broken, notes=notes, endpoint="token", method="POST",
        form=form, headers=headers,
    )  # fmt: skip
    if status == 200:
        _take_tokens(run, kept, body)
        return StepResult()
    if broken == "reuse_code":
        return StepResult()  # the point: the first exchange's tokens are revoked now
    return _no_tokens(status, body)


def refresh(request, run, kept, *, broken):
    headers, form, notes = _client_auth(run, kept)
    token = kept["previous_refresh_token"] if broken == "reuse_refresh_token" else kept["refresh_token"]
    form |= {"grant_type": "refresh_token", "refresh_token": token}
    if broken == "reuse_refresh_token":
        notes.append("Broken on purpose: the refresh token the last refresh replaced, used again.")
    status, body = _send(
        request, run, step="refresh", broken=broken, notes=notes, endpoint="token", method="POST",
        form=form, headers=headers,
    )  # fmt: skip
    if status == 200:
        _take_tokens(run, kept, body)
    elif not broken:
        return StepResult(end=f"The refresh was refused ({_failure(status, body)}).")
    return StepResult()


def client_credentials(request, run, kept, *, broken):
    headers, form, notes = _client_auth(run, kept, broken=broken)
    form |= {"grant_type": "client_credentials", "scope": run.scope}
    status, body = _send(
        request, run, step="client_credentials", broken=broken, notes=notes, endpoint="token",
        method="POST", form=form, headers=headers,
    )  # fmt: skip
    if status == 200:
        _take_tokens(run, kept, body)
        return StepResult()
    return _no_tokens(status, body)


def device_authorization(request, run, kept, *, broken):
    headers, form, notes = _client_auth(run, kept, broken=broken)
    form["scope"] = run.scope
    status, body = _send(
        request, run, step="device_authorization", notes=notes, endpoint="device_authorization",
        method="POST", form=form, headers=headers,
    )  # fmt: skip
    if status != 200 or not body.get("device_code"):
        return StepResult(end=f"The device authorization was refused ({_failure(status, body)}).")
    fields = ("device_code", "user_code", "verification_uri", "verification_uri_complete")
    keep_secrets(run, **{name: str(body[name]) for name in fields if body.get(name)})
    keep_secrets(run, interval=str(body.get("interval", 5)))
    return StepResult()


def device_poll(request, run, kept, *, broken):
    headers, form, _ = _client_auth(run, kept)
    form |= {"grant_type": DEVICE_GRANT_TYPE, "device_code": kept["device_code"]}
    status, body = _send(
        request, run, step="device_poll", endpoint="token", method="POST", form=form, headers=headers
    )
    if status == 200:
        _take_tokens(run, kept, body)
        return StepResult()
    if body.get("error") in STILL_WAITING:
        if body.get("error") == "slow_down":
            keep_secrets(run, interval=str(int(kept.get("interval", "5")) + 5))
        return StepResult(wait=True)
    return StepResult(end=f"The device was refused tokens ({_failure(status, body)}).")


RUNNERS = {
    "discovery": discovery,
    "jwks": jwks,
    "token_request": token_request,
    "userinfo": userinfo,
    "api_call": api_call,
    "introspection": introspection,
    "refresh": refresh,
    "client_credentials": client_credentials,
    "device_authorization": device_authorization,
    "device_poll": device_poll,
}


def run_step(request: HttpRequest, run: ExplorerRun, *, step: str, broken: str = "") -> StepResult:
    """Send ``step``'s request (broken as asked), record it, keep what it returned."""
    kept = secrets_of(run)
    needed = NEEDS.get((step, broken)) or NEEDS.get((step, ""))
    if step not in RUNNERS or (needed and not kept.get(needed)):
        return StepResult(skipped=True)
    if step == "introspection" and not run.confidential:
        return StepResult(skipped=True)  # RFC 7662: for clients that can authenticate
    return RUNNERS[step](request, run, kept, broken=broken)
