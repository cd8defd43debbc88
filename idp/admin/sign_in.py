"""The admin's sign-in is the provider's own: password, then the second factor (never a way around it)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponseRedirect:
    """Send /admin/login/ to idp's sign-in, which asks a person with a factor for it; then ``next``.

    Django's admin form calls ``login()`` after the password alone: a staff member's stolen password
    would open the admin without the second factor. Nothing posted here is read.
    """
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=admin.site.name)
    return redirect_to_login(next_url, reverse("idp:login"), REDIRECT_FIELD_NAME)


def route_admin_sign_in(site: admin.AdminSite) -> None:
    """Make ``site``'s login view the redirect above (call before its URLs are first resolved)."""
    site.login = admin_login
