"""Passkey endpoints: JSON ceremonies for the browser's WebAuthn calls, and rename/remove forms."""

from __future__ import annotations

import json
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..audit import Event, record
from ..mfa import flow, passkeys, recovery
from ..mfa.factors import FACTOR_KINDS, PASSKEYS
from ..mfa.passkey_models import Passkey
from .security import _sign_in_again, _step_up_needed

MAX_BODY = 64 * 1024  # a credential is a few kilobytes at most
MODES = {"second_factor", "passwordless"}


class BadInput(Exception):
    """The request is not the JSON a ceremony expects."""


def _body(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise BadInput(_("The request is too large."))
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise BadInput(_("The request is not valid JSON.")) from exc
    if not isinstance(body, dict):
        raise BadInput(_("The request must be a JSON object."))
    return body


def _error(error: str, message: str, *, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "message": message}, status=status)


def _refused(request, refused: passkeys.PasskeyRefused, *, ceremony: str) -> JsonResponse:
    """Audit a refused answer once (not mere bad input), and tell the person what to do."""
    if refused.reason != "malformed_response":
        record(
            Event.PASSKEY_REFUSED,
            actor=refused.user,
            request=request,
            ceremony=ceremony,
            reason=refused.reason,
            passkey=refused.passkey.pk if refused.passkey is not None else None,
        )
    return _error(refused.reason, _message(refused.reason))


def _message(reason: str) -> str:
    if reason in {"no_challenge", "challenge_expired"}:
        return _("That took too long, or the page was opened twice. Try again.")
    if reason == "unknown_passkey":
        return _("This passkey is not registered here. Sign in with your password, or use another passkey.")
    if reason == "foreign_passkey":
        return _("This passkey belongs to another account. Use a passkey of this account.")
    if reason == "passkey_already_registered":
        return _("This passkey is already registered.")
    if reason == "malformed_response":
        return _("The browser's answer could not be read. Try again.")
    return _("The passkey could not be verified. Try again, or use another way to sign in.")


def _sign_in_again_json(request, *, next_url) -> JsonResponse:
    """Like ``_sign_in_again``, for the browser's script: sign in, then back here (and on to ``next``)."""
    back = _security_url()
    if isinstance(next_url, str) and next_url:
        back = f"{back}?{urlencode({'next': next_url})}"
    messages.info(request, _("Sign in again to confirm this change."))
    return JsonResponse(
        {
            "error": "sign_in_again",
            "message": _("Sign in again to confirm this change."),
            "redirect": f"{reverse('idp:login')}?{urlencode({REDIRECT_FIELD_NAME: back})}",
        },
        status=403,
    )


def _json_login_required(view):
    """Like ``login_required``, but a JSON 401 instead of a redirect to the sign-in page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _error("login_required", _("Sign in first."), status=401)
        return view(request, *args, **kwargs)

    return wrapped


def _ceremony_user(request, body: dict):
    """(mode, the person whose key is asked for or None for passwordless); raises BadInput."""
    mode = body.get("mode")
    if not isinstance(mode, str) or mode not in MODES:
        raise BadInput(_("Unknown sign-in mode."))
    if mode == "passwordless":
        return mode, None
    user = flow.pending_user(request)
    if user is None:
        raise BadInput(_("There is no sign-in waiting for a second factor. Start again."))
    return mode, user


@never_cache
@require_POST
@_json_login_required
def register_begin(request):
    """Registration options for the signed-in person's new passkey (the challenge kept in the session).

    A passkey signs in on its own and outlives a password change, so it is added only from a fresh
    sign-in (as removing the last factor): a stolen or forgotten session cannot plant one.
    """
    if response := _step_up_needed(request):
        return JsonResponse(
            {
                "error": "step_up_required",
                "message": _("Confirm it is you with your second factor first."),
                "redirect": response["Location"],
            },
            status=403,
        )
    try:
        body = _body(request)
    except BadInput as exc:
        return _error("invalid_request", str(exc))
    if flow.fresh_sign_in_required(request):
        return _sign_in_again_json(request, next_url=body.get("next"))
    return JsonResponse(passkeys.registration_options(request, request.user))


@never_cache
@require_POST
@_json_login_required
def register_finish(request):
    """Verify the new passkey, store it, audit and notify; where to go next."""
    if flow.fresh_sign_in_required(request):  # begun fresh, but the sign-in went stale since
        return _sign_in_again_json(request, next_url=None)
    try:
        body = _body(request)
        passkey = passkeys.register(
            request, request.user, credential=body.get("credential"), name=body.get("name")
        )
    except BadInput as exc:
        return _error("invalid_request", str(exc))
    except passkeys.PasskeyRefused as refused:
        return _refused(request, refused, ceremony="register")
    flow.record_factor_change(request, request.user, event=Event.FACTOR_ADDED, detail=_detail(passkey))
    # The person just used the passkey, in a signed-in session: the session counts it (as for TOTP).
    flow.finish_sign_in(request, request.user, methods=["hwk", "pin" if passkey.user_verified else "user"])
    if recovery.remaining(request.user) == 0:
        messages.success(
            request,
            _("Passkey “%(name)s” added. Create recovery codes now, in case you lose it.")
            % {"name": passkey.name},
        )
    else:
        messages.success(request, _("Passkey “%(name)s” added.") % {"name": passkey.name})
    next_url = body.get("next") if isinstance(body.get("next"), str) else ""
    return JsonResponse(
        {
            "passkey": {"id": passkey.pk, "name": passkey.name},
            "redirect": flow.safe_next(request, next_url) if next_url else _security_url(),
        }
    )


@never_cache
@require_POST
def authenticate_begin(request):
    """Sign-in options: the pending person's passkeys (second factor), or any passkey (passwordless)."""
    try:
        _, user = _ceremony_user(request, _body(request))
    except BadInput as exc:
        return _error("invalid_request", str(exc))
    if user is not None and not Passkey.objects.filter(user=user).exists():
        return _error("no_passkey", _("This account has no passkey. Use another way to sign in."))
    return JsonResponse(passkeys.authentication_options(request, user=user))


@never_cache
@require_POST
def authenticate_finish(request):
    """Verify the passkey and complete the sign-in (amr hwk + pin/user); where to go next."""
    try:
        body = _body(request)
        mode, user = _ceremony_user(request, body)
    except BadInput as exc:
        return _error("invalid_request", str(exc))
    try:
        assertion = passkeys.authenticate(request, credential=body.get("credential"), user=user)
    except passkeys.PasskeyRefused as refused:
        return _refused(request, refused, ceremony=mode)
    next_url = body.get("next") if isinstance(body.get("next"), str) and body.get("next") else None
    url = flow.finish_sign_in(request, assertion.passkey.user, methods=assertion.amr, next_url=next_url)
    return JsonResponse({"redirect": url})


@never_cache
@login_required
@require_POST
def rename(request, passkey_id: int):
    """Give one of the person's passkeys a new name."""
    if response := _step_up_needed(request):
        return response
    passkey = get_object_or_404(Passkey, pk=passkey_id, user=request.user)
    old = passkey.name
    passkey.name = passkeys.clean_name(request.POST.get("name"))
    if passkey.name != old:
        passkey.save(update_fields=["name"])
        flow.record_factor_change(
            request, request.user, event=Event.FACTOR_RENAMED, detail={**_detail(passkey), "old_name": old}
        )
        messages.success(request, _("Passkey renamed to “%(name)s”.") % {"name": passkey.name})
    return redirect(_security_url())


@never_cache
@login_required
@require_POST
def remove(request, passkey_id: int):
    """Remove one of the person's passkeys; the last factor only after a fresh sign-in."""
    if response := _step_up_needed(request):
        return response
    passkey = get_object_or_404(Passkey, pk=passkey_id, user=request.user)
    last = _is_last_factor(request.user, passkey)
    if last and flow.fresh_sign_in_required(request):
        return _sign_in_again(request)
    detail = _detail(passkey)
    passkey.delete()
    flow.record_factor_change(request, request.user, event=Event.FACTOR_REMOVED, detail=detail)
    if last:  # recovery codes are a backup of a second factor, not one on their own
        recovery.RecoveryCode.objects.filter(user=request.user).delete()
    messages.success(request, _("Passkey “%(name)s” removed.") % {"name": passkey.name})
    return redirect(_security_url())


def _is_last_factor(user, passkey: Passkey) -> bool:
    if Passkey.objects.filter(user=user).exclude(pk=passkey.pk).exists():
        return False
    return not any(kind.held_by(user) for kind in FACTOR_KINDS if kind.is_factor and kind is not PASSKEYS)


def _detail(passkey: Passkey) -> dict:
    return {"kind": "passkey", "passkey": passkey.pk, "name": passkey.name}


def _security_url() -> str:
    return reverse("idp:account-security")
