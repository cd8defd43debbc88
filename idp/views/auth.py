"""Sign-in, sign-out and the landing page of the provider itself."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache


@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's login, always showing the form (``prompt=login`` needs it), pre-filled by ``login_hint``."""

    template_name = "idp/login.html"
    redirect_authenticated_user = False

    def get_initial(self):
        initial = super().get_initial()
        next_url = self.request.GET.get(self.redirect_field_name, "")
        hint = parse_qs(urlsplit(next_url).query).get("login_hint", [""])[0]
        if hint:
            initial["username"] = hint[:150]
        return initial


class LogoutView(auth_views.LogoutView):
    """Sign out of this provider (POST), then a page that says so."""

    template_name = "idp/logged_out.html"


@never_cache
def home(request):
    """Who is signed in, and where a developer finds the discovery document."""
    return render(request, "idp/home.html")
