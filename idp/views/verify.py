"""The second sign-in step (/login/verify): a code from an authenticator app or a recovery code."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from ..mfa import recovery, totp
from ..mfa.factors import TOTP, has_second_factor
from ..mfa.flow import finish_sign_in, pending_next, pending_user, safe_next


def _locked_out(request, user) -> bool:
    """django-axes' lockout for this account or address (the same one wrong passwords lead to)."""
    if not apps.is_installed("axes"):
        return False
    from axes.handlers.proxy import AxesProxyHandler

    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_allowed(request, credentials):
        return False
    request.axes_locked_out = True  # django-axes' middleware answers with its lockout page
    request.axes_credentials = credentials
    return True


def _count_failure(request, user) -> None:
    """A wrong code counts like a wrong password: django-axes' lockout and the audit log both hear it."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)


@sensitive_post_parameters("code", "recovery_code")
@never_cache
def login_verify(request):
    """Ask the person held after the password (or signed in, for a step-up) for a second factor."""
    user = pending_user(request)
    if user is None:
        return redirect("idp:login")
    step_up = pending_next(request) is None
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next")) if step_up else None
    if step_up and not has_second_factor(user):
        query = urlencode({"next": next_url})
        return HttpResponseRedirect(f"{reverse('idp:account-security')}?{query}")
    error = None
    if request.method == "POST":
        if _locked_out(request, user):
            return render(request, "idp/lockout.html", status=429)
        method = request.POST.get("method")
        if method == "totp" and totp.verify_any(user, request.POST.get("code", "")):
            return redirect(finish_sign_in(request, user, methods=["otp"], next_url=next_url))
        # A recovery code is a single-use code, so RFC 8176 "otp" as well.
        if method == "recovery" and recovery.use_code(user, request.POST.get("recovery_code", "")):
            return redirect(finish_sign_in(request, user, methods=["otp"], next_url=next_url))
        _count_failure(request, user)
        if getattr(request, "axes_locked_out", False):
            return render(request, "idp/lockout.html", status=429)
        error = method if method in ("totp", "recovery") else "totp"
    context = {
        "has_totp": TOTP.held_by(user),
        "has_recovery_codes": recovery.remaining(user) > 0,
        "error": error,
        "next": next_url or "",
        "step_up": step_up,
        "person": user,
    }
    return render(request, "idp/login_verify.html", context, status=400 if error else 200)
