"""The account security page: authenticator apps, recovery codes (and passkeys): add, rename, remove."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from ..audit import Event
from ..mfa import recovery, totp
from ..mfa.factors import factor_count, has_second_factor, remove_all_factors
from ..mfa.flow import finish_sign_in, fresh_sign_in_required, record_factor_change, safe_next
from ..mfa.models import TotpDevice
from ..sessions import authentication_methods

SETUP_KEY = "idp_totp_setup"  # the unconfirmed app being set up in this session


def _device_name(raw: str | None) -> str:
    """A name as typed, without control or format characters (NUL breaks PostgreSQL), at most 64 long."""
    text = "".join(ch for ch in (raw or "")[:1024] if unicodedata.category(ch) not in ("Cc", "Cf"))
    return " ".join(text.split())[:64]


def _page(request) -> HttpResponseRedirect:
    query = urlencode({"next": request.GET["next"]}) if request.GET.get("next") else ""
    return HttpResponseRedirect(reverse("idp:account-security") + (f"?{query}" if query else ""))


def _step_up_needed(request):
    """A person who holds a factor changes factors only from a session that used one (step-up first)."""
    if has_second_factor(request.user) and "mfa" not in authentication_methods(request):
        query = urlencode({"next": reverse("idp:account-security")})
        return HttpResponseRedirect(f"{reverse('idp:login-verify')}?{query}")
    return None


def _sign_in_again(request, *, next_url: str = ""):
    """Send the person to sign in again, then back to this page (and from there on to ``next_url``)."""
    back = reverse("idp:account-security")
    if next_url:
        back += "?" + urlencode({"next": safe_next(request, next_url)})
    query = urlencode({REDIRECT_FIELD_NAME: back})
    messages.info(request, _("Sign in again to confirm this change."))
    return HttpResponseRedirect(f"{reverse('idp:login')}?{query}")


@never_cache
@login_required
def account_security(request):
    """The factors the person holds, with what can be done to each."""
    context = {
        "totp_devices": TotpDevice.objects.filter(user=request.user, confirmed=True).order_by("created"),
        "recovery_remaining": recovery.remaining(request.user),
        "has_factor": has_second_factor(request.user),
        "next": safe_next(request, request.GET["next"]) if request.GET.get("next") else "",
    }
    return render(request, "idp/account_security.html", context)


@never_cache
@login_required
@require_POST
def totp_start(request):
    """Begin adding an authenticator app: a new secret, shown on the setup page until confirmed."""
    if response := _step_up_needed(request):
        return response
    # A new factor is a new way in: only from a fresh sign-in, not from any old or stolen session.
    if fresh_sign_in_required(request):
        return _sign_in_again(request, next_url=request.POST.get("next", ""))
    name = _device_name(request.POST.get("name")) or _("Authenticator app")
    TotpDevice.objects.filter(user=request.user, confirmed=False).delete()
    device, _secret = totp.start_enrollment(request.user, name=name)
    request.session[SETUP_KEY] = device.pk
    url = reverse("idp:totp-setup")
    if request.POST.get("next"):
        url += "?" + urlencode({"next": safe_next(request, request.POST["next"])})
    return HttpResponseRedirect(url)


@sensitive_post_parameters("code")
@never_cache
@login_required
def totp_setup(request):
    """The QR code and the secret of the app being added; one valid code confirms it."""
    device = TotpDevice.objects.filter(
        user=request.user, confirmed=False, pk=request.session.get(SETUP_KEY, 0)
    ).first()
    if device is None:
        return redirect("idp:account-security")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    error = False
    if request.method == "POST":
        if totp.confirm_enrollment(device, request.POST.get("code", "")):
            request.session.pop(SETUP_KEY, None)
            record_factor_change(
                request, request.user, event=Event.FACTOR_ADDED, detail={"kind": "totp", "name": device.name}
            )
            # The person just proved they hold the app, in a session signed in with the password.
            finish_sign_in(request, request.user, methods=["otp"])
            codes = recovery.replace_codes(request.user) if recovery.remaining(request.user) == 0 else None
            if codes:
                record_factor_change(
                    request, request.user, event=Event.RECOVERY_CODES_CREATED, detail={"count": len(codes)}
                )
                return render(
                    request,
                    "idp/recovery_codes.html",
                    {"codes": codes, "next": safe_next(request, next_url) if next_url else ""},
                )
            messages.success(request, _("Your authenticator app is ready."))
            return HttpResponseRedirect(
                safe_next(request, next_url) if next_url else reverse("idp:account-security")
            )
        error = True
    secret = totp.unseal(device.sealed_secret) or ""
    uri = totp.provisioning_uri(request.user, secret=secret)
    context = {
        "device": device,
        "secret": secret,
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": totp.qr_svg_data_uri(uri),
        "error": error,
        "next": next_url and safe_next(request, next_url),
    }
    return render(request, "idp/totp_setup.html", context, status=400 if error else 200)


@never_cache
@login_required
@require_POST
def totp_rename(request, device_id: int):
    """Rename an authenticator app."""
    if response := _step_up_needed(request):
        return response
    device = get_object_or_404(TotpDevice, pk=device_id, user=request.user, confirmed=True)
    name = _device_name(request.POST.get("name"))
    if name and name != device.name:
        old, device.name = device.name, name
        device.save(update_fields=["name"])
        record_factor_change(
            request,
            request.user,
            event=Event.FACTOR_RENAMED,
            detail={"kind": "totp", "name": name, "old_name": old},
        )
        messages.success(request, _("Renamed."))
    return redirect("idp:account-security")


@never_cache
@login_required
@require_POST
def totp_remove(request, device_id: int):
    """Remove an authenticator app; the last factor only after a fresh sign-in."""
    if response := _step_up_needed(request):
        return response
    device = get_object_or_404(TotpDevice, pk=device_id, user=request.user, confirmed=True)
    last = (
        factor_count(request.user) == 1
        and TotpDevice.objects.filter(user=request.user, confirmed=True).count() == 1
    )
    if last and fresh_sign_in_required(request):
        return _sign_in_again(request)
    device.delete()
    record_factor_change(
        request, request.user, event=Event.FACTOR_REMOVED, detail={"kind": "totp", "name": device.name}
    )
    if last:
        recovery.RecoveryCode.objects.filter(user=request.user).delete()
    messages.success(request, _("Removed."))
    return redirect("idp:account-security")


@never_cache
@login_required
@require_POST
def recovery_codes_new(request):
    """A new set of recovery codes (the old ones stop working), shown once."""
    if response := _step_up_needed(request):
        return response
    if not has_second_factor(request.user):
        return redirect("idp:account-security")
    codes = recovery.replace_codes(request.user)
    record_factor_change(
        request, request.user, event=Event.RECOVERY_CODES_CREATED, detail={"count": len(codes)}
    )
    return render(request, "idp/recovery_codes.html", {"codes": codes, "next": ""})


@never_cache
@login_required
@require_POST
def disable_mfa(request):
    """Remove every factor and the recovery codes: only after a fresh sign-in."""
    if response := _step_up_needed(request):
        return response
    if fresh_sign_in_required(request):
        return _sign_in_again(request)
    removed = remove_all_factors(request.user)
    record_factor_change(
        request, request.user, event=Event.FACTOR_REMOVED, detail={"kind": "all", "removed": removed}
    )
    messages.success(request, _("Two-step sign-in is off. Only your password protects your account now."))
    return redirect("idp:account-security")
