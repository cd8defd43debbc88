"""The authorization endpoint: validate, session policy, the consent decision, then a code or a page.

DOT's AuthorizationView, plus: ``idp.authorization`` (what a request may say, PKCE by ``idp.pkce``),
``idp.sessions``, ``idp.consent``'s decision, one code issuer (``idp.server``), ``iss`` on every
answer, requests by POST, error pages for what must not be redirected.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749 import errors

from ..authorization import invalid_target, is_resource_indicator, parsed_json, request_problem, with_iss
from ..browser_sessions import note_client
from ..claims import requested_claims
from ..conf import idp_settings
from ..consent import Outcome, decide, record_consent
from ..db import lookups
from ..mfa.stepup import consent_step_up_error, step_up_error, step_up_for, step_up_url, with_acr_values
from ..presentation import authorization_error_text, client_card, describe_claims, describe_scopes
from ..sessions import SessionProblem, how_signed_in, session_problem

# The consent form says it is the consent form; any other POST is an authorization request.
CONSENT_MARKER = "idp_consent"
# Prompt values a fresh sign-in answers: the login page is also where another account is chosen.
ANSWERED_BY_SIGNING_IN = frozenset({"login", "select_account"})


def _redirectable_error(error: errors.OAuth2Error, credentials: dict) -> OAuthToolkitError:
    error.state = credentials.get("state")
    return OAuthToolkitError(error=error, redirect_uri=credentials["redirect_uri"])


def _prompt(request) -> set[str]:
    return set(request.GET.get("prompt", "").split())


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class IdpAuthorizationView(AuthorizationView):
    """Login if needed, then the consent page (or a silent answer), then a redirect with code and iss."""

    template_name = "idp/consent.html"
    error_template_name = "idp/authorize_error.html"

    # --- entry: GET, POSTed authorization requests, and the consent form's POST ------------------

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            if CONSENT_MARKER not in request.POST:
                # OIDC Core 3.1.2.1: a form-encoded POST authorization request works like GET.
                return HttpResponseRedirect(f"{request.path}?{request.POST.urlencode()}", status=303)
            rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if rejected is not None:
                return rejected
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        """Validate → session policy → the consent decision → a code, the consent page or an error.

        Replaces DOT's ``get``, which issues a code without any consent decision when the request
        says ``approval_prompt=auto`` and the person holds any live token for the client (whatever
        ``prompt``, ``claims`` or new scopes ask), or when the client has ``skip_authorization``
        (whatever ``prompt=consent`` asks). Here ``approval_prompt`` means nothing, and
        ``skip_authorization`` (a first-party client) is consent already given, inside the decision.
        """
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = credentials["request"].client  # read once, by the validation above
        prompt = _prompt(request)
        # acr_values travel with the code as the voluntary acr request they are (idp.mfa.stepup).
        credentials["claims"] = credentials["request"].claims = with_acr_values(
            credentials.get("claims"), acr_values=request.GET.get("acr_values")
        )

        problem = session_problem(
            request,
            client=application,
            max_age=request.GET.get("max_age"),
            id_token_hint=request.GET.get("id_token_hint"),
        )
        if problem is SessionProblem.SIGN_IN_AGAIN and "none" not in prompt:
            return self.redirect_to_fresh_login(drop={"max_age", "id_token_hint"})
        if problem is not None:
            error = errors.InvalidRequestError(description=problem.value)
            if problem is SessionProblem.SIGN_IN_AGAIN:
                error = errors.LoginRequired()  # prompt=none: OIDC Core 3.1.2.6
            return self.error_response(_redirectable_error(error, credentials), application)
        if "login" in prompt:
            return self.redirect_to_fresh_login()
        if "select_account" in prompt:
            return self.account_choice(application)
        if needed := step_up_for(request, client=application, claims_request=credentials.get("claims")):
            if error := step_up_error(needed, prompt=prompt):
                return self.error_response(_redirectable_error(error, credentials), application)
            return HttpResponseRedirect(step_up_url(needed, next_url=self.authorize_url()))

        claims = requested_claims(credentials.get("claims"))
        decision = decide(request.user, application, scopes=scopes, claims=claims, prompt=prompt)
        if decision.outcome is Outcome.SILENT:
            return self.issue_code(credentials["request"], scopes=decision.scopes, application=application)
        if decision.outcome is Outcome.CONSENT_REQUIRED:
            error = errors.ConsentRequired(state=credentials.get("state"))
            uri = credentials["redirect_uri"]
            return self.redirect(uri + ("&" if "?" in uri else "?") + error.urlencoded, application)
        return self.consent_page(decision, credentials, application)

    # --- validation ------------------------------------------------------------------------------

    def validate_authorization_request(self, request):
        if not request.GET.get("redirect_uri"):
            # OIDC Core 3.1.2.1: redirect_uri is required. Without it there is nowhere safe to send
            # an error, so it is an error page, like an unregistered one.
            raise FatalClientError(
                error=errors.MissingRedirectURIError(description="The redirect_uri parameter is required.")
            )
        try:
            scopes, credentials = super().validate_authorization_request(request)
        except OAuthToolkitError as exc:
            oauthlib_error = exc.oauthlib_error
            if isinstance(oauthlib_error, errors.UnauthorizedClientError) and request.GET.get(
                "response_type"
            ) not in {None, "code"}:
                # Implicit and hybrid flows are not offered to anyone (OAuth 2.1, RFC 9700 §2.1.2).
                raise _redirectable_error(
                    errors.UnsupportedResponseTypeError(description="Only response_type=code is supported."),
                    {"state": request.GET.get("state"), "redirect_uri": oauthlib_error.redirect_uri},
                ) from exc
            raise
        if error := request_problem(request.GET, credentials, scopes):
            raise _redirectable_error(error, credentials)
        return scopes, credentials

    # --- responses -------------------------------------------------------------------------------

    def handle_no_permission(self):
        """Refuse a bad request before anyone signs in; only a sound one leads to the login page."""
        prompt = _prompt(self.request)
        if "none" not in prompt:
            try:
                self.validate_authorization_request(self.request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
            if prompt & ANSWERED_BY_SIGNING_IN:
                return self.redirect_to_fresh_login()
        return super().handle_no_permission()

    def authorize_url(self, *, drop: set[str] = frozenset()) -> str:
        """This request again, without the parameters in ``drop`` and the prompt values a sign-in answers."""
        query = []
        for key, value in parse_qsl(self.request.GET.urlencode(), keep_blank_values=True):
            if key == "prompt":
                value = " ".join(p for p in value.split() if p not in ANSWERED_BY_SIGNING_IN)
            if key not in drop and (key != "prompt" or value):
                query.append((key, value))
        return f"{self.request.path}?{urlencode(query)}"

    def redirect_to_fresh_login(self, *, drop: set[str] = frozenset()):
        """Send the person to sign in again, then back here without what asked for the new sign-in."""
        return redirect_to_login(self.authorize_url(drop=drop), self.get_login_url(), REDIRECT_FIELD_NAME)

    def account_choice(self, application):
        """``prompt=select_account`` (OIDC Core 3.1.2.1): continue as the signed-in person, or sign in
        as someone else. Either way the request goes on without ``select_account``."""
        user = self.request.user
        return render(
            self.request,
            "idp/select_account.html",
            {
                "client": client_card(application),
                "person_name": user.get_full_name() or user.get_username(),
                "continue_url": self.authorize_url(),
                "switch_url": self.redirect_to_fresh_login()["Location"],
            },
        )

    def create_authorization_response(self, request, scopes, credentials, allow):
        if allow:
            note_client(request, getattr(self, "application", None))
        credentials.update(how_signed_in(request))
        if getattr(self, "application", None) is not None:
            credentials["client"] = self.application  # oauthlib's validation reuses it (request.client)
        return super().create_authorization_response(request, scopes, credentials, allow)

    def redirect(self, redirect_to, application):
        """Every redirect from this endpoint is an authorization response, so it carries ``iss``."""
        if application is None:
            # DOT passes no application for errors found while validating the request; oauthlib only
            # lets an error be redirected once client_id and redirect_uri are known to match.
            application = lookups.application(self.request.GET.get("client_id"))
        return super().redirect(with_iss(redirect_to, idp_settings.ISSUER), application)

    def form_valid(self, form):
        """The person's answer on the consent page, for the client and redirect URI it names.

        The form's hidden fields come back from the browser: DOT would send a Deny to whatever
        ``redirect_uri`` they say. The client must exist and be active, and the redirect URI be
        registered for it, before anything (an answer or an error) is redirected there.
        """
        data = form.cleaned_data
        application = lookups.application(data["client_id"])
        if (
            application is None
            or not application.is_usable(self.request)
            or not application.redirect_uri_allowed(data["redirect_uri"])
        ):
            return self.form_invalid(form)
        self.application = application
        claims_request = parsed_json(data.get("claims"))
        if error := consent_step_up_error(self.request, client=application, claims_request=claims_request):
            return self.error_response(_redirectable_error(error, data), application)
        if not all(is_resource_indicator(resource) for resource in (data.get("resource") or "").split()):
            return self.error_response(_redirectable_error(invalid_target(), data), application)
        response = super().form_valid(form)
        if data.get("allow") and "code" in dict(parse_qsl(urlsplit(response.get("Location", "")).query)):
            record_consent(
                self.request.user,
                application,
                scopes=data["scope"].split(),
                claims=requested_claims(claims_request),
                request=self.request,
            )
        return response

    def form_invalid(self, form):
        """A consent form that is incomplete or names no registered client and redirect URI: a page."""
        error = errors.InvalidRequestFatalError(
            description="The consent form does not match a registered client and redirect URI."
        )
        return self.error_page(error, status=400)

    def issue_code(self, request, *, scopes, application):
        """The code for an approval decided without the page: the one issuer (``IdpServer.issue_code``).

        DOT would put the request into a form, read it back and have oauthlib validate it all again;
        it was validated moments ago in this HTTP request. The consent page's POST reaches the same
        issuer after oauthlib's full validation: its hidden fields come from the browser.
        """
        request.scopes = list(scopes)  # as decided: offline_access only with prompt=consent
        request.user = self.request.user
        request.resource = self.request.GET.getlist("resource") or None  # each checked in validation
        note_client(self.request, application)
        for name, value in how_signed_in(self.request).items():
            setattr(request, name, value)
        try:
            location = self.get_oauthlib_core().server.issue_code(request)
        except errors.OAuth2Error as error:
            return self.error_response(
                OAuthToolkitError(error, redirect_uri=request.redirect_uri), application
            )
        return self.redirect(location, application)

    def render_to_response(self, context, **response_kwargs):
        if "error" in context and "form" not in context:
            # An error that must not be redirected (unknown client, unregistered redirect_uri, ...).
            return self.error_page(context["error"], status=response_kwargs.get("status", 400))
        return super().render_to_response(context, **response_kwargs)

    def error_page(self, error: errors.OAuth2Error, *, status: int):
        return render(
            self.request,
            self.error_template_name,
            {
                "error": error.error,
                "description": error.description,
                "explanation": authorization_error_text(error),
            },
            status=status,
        )

    def consent_page(self, decision, credentials, application):
        """The consent page, as a person reads it: plain words and the values each new scope would release."""
        user = self.request.user
        context = {
            "application": application,
            "scopes": decision.scopes,
            "claims": json.dumps(credentials["claims"]) if credentials.get("claims") else None,
            "resource": " ".join(self.request.GET.getlist("resource")) or None,
            **{
                name: credentials.get(name)
                for name in ("client_id", "redirect_uri", "response_type", "state")
            },
            **{name: credentials.get(name) for name in ("nonce", "code_challenge", "code_challenge_method")},
        }
        self.oauth2_data = context  # the consent form's hidden fields (DOT's get_initial)
        return super().render_to_response(
            self.get_context_data(
                **context,
                consent_marker=CONSENT_MARKER,
                client=client_card(application),
                new_scope_items=describe_scopes(user, decision.need.new_scopes, brief=True),
                granted_scope_items=describe_scopes(user, decision.need.granted_scopes),
                new_claim_items=describe_claims(user, decision.need.new_claims),
            )
        )
