"""Sign-in (username or email), password reset, sign-out and the landing page of the provider itself."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from ..accounts import changes_by, password_reset_allowed
from ..conf import idp_settings
from ..mfa.flow import begin_second_step, has_second_factor
from ..presentation import client_from_next


class SignInForm(AuthenticationForm):
    """Django's authentication form, asking for a username or an email address."""

    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )


@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's login (safe ``next`` only), always showing the form, pre-filled by ``login_hint``."""

    template_name = "idp/login.html"
    form_class = SignInForm
    redirect_authenticated_user = False  # prompt=login and "use another account" need the form

    def get_initial(self):
        initial = super().get_initial()
        hint = parse_qs(urlsplit(self.get_redirect_url()).query).get("login_hint", [""])[0]
        if hint:
            initial["username"] = hint[:150]
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["client"] = client_from_next(self.get_redirect_url())
        return context

    def form_valid(self, form):
        """The password was right: a person with a second factor is asked for it before signing in."""
        user = form.get_user()
        if not has_second_factor(user):
            return super().form_valid(form)
        return HttpResponseRedirect(
            begin_second_step(self.request, user, next_url=self.get_success_url(), backend=user.backend)
        )


class LogoutView(auth_views.LogoutView):
    """Sign out of this provider (POST), then a page that says so."""

    template_name = "idp/logged_out.html"


def _issuer_parts() -> tuple[str, bool]:
    parts = urlsplit(idp_settings.ISSUER)
    return parts.netloc, parts.scheme == "https"


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email; the answer is the same whether or not the address is known."""

    template_name = "idp/password_reset_form.html"
    email_template_name = "idp/email/password_reset.txt"
    subject_template_name = "idp/email/password_reset_subject.txt"
    success_url = reverse_lazy("idp:password_reset_done")

    def form_valid(self, form):
        if not password_reset_allowed(self.request, email=form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())  # the same answer, no email
        # Links point at the issuer, never at whatever Host header the request came with.
        domain, use_https = _issuer_parts()
        form.save(
            domain_override=domain,
            use_https=use_https,
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            html_email_template_name=self.html_email_template_name,
            request=self.request,
            extra_email_context={"site_name": idp_settings.SITE_NAME},
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    """Tells the person to look in their mailbox."""

    template_name = "idp/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link from the email: choose a new password (or learn that the link is no longer valid)."""

    template_name = "idp/password_reset_confirm.html"
    success_url = reverse_lazy("idp:password_reset_complete")

    def form_valid(self, form):
        # The new password ends the person's refresh tokens (idp.accounts); they are the actor.
        with changes_by(self.request, actor=form.user):
            return super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    """The password was changed: sign in with it."""

    template_name = "idp/password_reset_complete.html"


@never_cache
def home(request):
    """Who is signed in, and where a developer finds the discovery document."""
    return render(request, "idp/home.html")
