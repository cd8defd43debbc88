"""The authorization endpoint: DOT's AuthorizationView with the OpenID behaviours plain DOT lacks.

PKCE S256 only; ``iss`` on every response; ``prompt``, ``max_age`` and ``id_token_hint``; remembered
consent, decided here alone; requests by POST; ``offline_access`` only with ``prompt=consent``; error
pages for requests that must not be redirected.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.oauth2_validators import is_valid_resource_uri
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749 import errors

from .. import hot_path
from ..claims import requested_claims
from ..conf import idp_settings
from ..consent import Decision, consent_need, decide, record_consent
from ..id_tokens import verified_claims
from ..pkce import pkce_problem
from ..presentation import authorization_error_text, client_card, describe_claims, describe_scopes
from ..server import random_token
from ..sessions import AMR_KEY, authentication_time

# The consent form says it is the consent form; any other POST is an authorization request.
CONSENT_MARKER = "idp_consent"
# Prompt values a fresh sign-in answers: the login page is also where another account is chosen.
ANSWERED_BY_SIGNING_IN = frozenset({"login", "select_account"})


class ReauthenticationRequired(Exception):
    """The session is too old for ``max_age``, or belongs to someone other than ``id_token_hint``."""


def with_iss(uri: str, issuer: str) -> str:
    """``uri`` with exactly one RFC 9207 ``iss`` query parameter, equal to ``issuer``."""
    parts = urlsplit(uri)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "iss"]
    query.append(("iss", issuer))
    return urlunsplit(parts._replace(query=urlencode(query)))


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
        """Validate, answer ``prompt``, then the consent decision: ``idp.consent.decide``'s alone.

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
        except ReauthenticationRequired:
            return self.redirect_to_fresh_login(drop={"max_age", "id_token_hint"})
        prompt = _prompt(request)
        if "login" in prompt:
            return self.handle_prompt_login()
        application = hot_path.application(credentials["client_id"])
        if "select_account" in prompt:
            return self.account_choice(application)
        context = {
            "application": application,
            "scopes": scopes,
            "claims": json.dumps(credentials["claims"]) if credentials.get("claims") else None,
            "resource": " ".join(request.GET.getlist("resource")) or None,
        }
        for name in ("client_id", "redirect_uri", "response_type", "state", "nonce", "code_challenge"):
            context[name] = credentials.get(name)
        context["code_challenge_method"] = credentials.get("code_challenge_method")
        self.oauth2_data = context  # the consent form's hidden fields (DOT's get_initial)
        return self.consent_or_silent_answer(context)

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
        for parameter, error in (
            ("request", "request_not_supported"),
            ("request_uri", "request_uri_not_supported"),
        ):
            if parameter in request.GET:
                raise _redirectable_error(
                    errors.CustomOAuth2Error(
                        error=error, description=f"The {parameter} parameter is not supported."
                    ),
                    credentials,
                )
        if problem := pkce_problem(
            credentials["request"].client,
            code_challenge=credentials.get("code_challenge"),
            code_challenge_method=credentials.get("code_challenge_method"),
            nonce=credentials.get("nonce"),
            scopes=scopes,
        ):
            raise _redirectable_error(errors.InvalidRequestError(description=problem), credentials)
        for resource in request.GET.getlist("resource"):
            if not _is_resource_indicator(resource):
                raise _redirectable_error(_invalid_target(), credentials)
        if "offline_access" in scopes and "consent" not in _prompt(request):
            # OIDC Core 11: offline access needs the person's explicit consent, asked for this time.
            scopes = [scope for scope in scopes if scope != "offline_access"]
        if request.user.is_authenticated:
            self.check_session(request, credentials)
        # oauthlib's request, validated: a silent answer issues its code from it (``issue_code``).
        self.validated_request = credentials.get("request")
        return scopes, credentials

    def check_session(self, request, credentials) -> None:
        """``max_age`` and ``id_token_hint`` against this browser session (OIDC Core 3.1.2.1)."""
        stale = False
        if "max_age" in request.GET:
            try:
                max_age = int(request.GET["max_age"])
                if max_age < 0:
                    raise ValueError
            except ValueError:
                raise _redirectable_error(
                    errors.InvalidRequestError(description="max_age must be a non-negative integer."),
                    credentials,
                ) from None
            auth_time = authentication_time(request)
            stale = auth_time is None or time.time() - auth_time > max_age
        someone_else = False
        if hint := request.GET.get("id_token_hint"):
            claims = verified_claims(hint)
            if claims is None:
                raise _redirectable_error(
                    errors.InvalidRequestError(description="id_token_hint is not an ID token issued here."),
                    credentials,
                )
            someone_else = claims["sub"] != str(request.user.sub)
        if stale or someone_else:
            if "none" in _prompt(request):
                raise _redirectable_error(errors.LoginRequired(), credentials)
            raise ReauthenticationRequired

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

    def handle_prompt_login(self):
        return self.redirect_to_fresh_login()

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
        credentials.update(_how_signed_in(request))
        return super().create_authorization_response(request, scopes, credentials, allow)

    def redirect(self, redirect_to, application):
        """Every redirect from this endpoint is an authorization response, so it carries ``iss``."""
        if application is None:
            # DOT passes no application for errors found while validating the request; oauthlib only
            # lets an error be redirected once client_id and redirect_uri are known to match.
            application = hot_path.application(self.request.GET.get("client_id"))
        return super().redirect(with_iss(redirect_to, idp_settings.ISSUER), application)

    def form_valid(self, form):
        """The person's answer on the consent page, for the client and redirect URI it names.

        The form's hidden fields come back from the browser: DOT would send a Deny to whatever
        ``redirect_uri`` they say. The client must exist and be active, and the redirect URI be
        registered for it, before anything (an answer or an error) is redirected there.
        """
        data = form.cleaned_data
        application = hot_path.application(data["client_id"])
        if (
            application is None
            or not application.is_usable(self.request)
            or not application.redirect_uri_allowed(data["redirect_uri"])
        ):
            return self.form_invalid(form)
        for resource in (data.get("resource") or "").split():
            if not _is_resource_indicator(resource):
                error = _invalid_target()
                error.state = data.get("state")
                return self.error_response(
                    OAuthToolkitError(error, redirect_uri=data["redirect_uri"]), application
                )
        response = super().form_valid(form)
        if data.get("allow") and "code" in dict(parse_qsl(urlsplit(response.get("Location", "")).query)):
            record_consent(
                self.request.user,
                application,
                scopes=data["scope"].split(),
                claims=requested_claims(_json_or_none(data.get("claims"))),
                request=self.request,
            )
        return response

    def form_invalid(self, form):
        """A consent form that is incomplete or names no registered client and redirect URI: a page."""
        error = errors.InvalidRequestFatalError(
            description="The consent form does not match a registered client and redirect URI."
        )
        return self.error_page(error, status=400)

    def issue_code(self, context):
        """The code for an approval decided without the person: DOT's ``form_valid``, minus a second
        validation.

        DOT would put the validated request into a form, read it back and have oauthlib validate
        it all again (client, redirect URI, scopes, PKCE, the OpenID checks) before issuing the
        code. Nothing changed since this request was validated, moments ago, in this same HTTP
        request, so the code is issued from oauthlib's validated request, the way oauthlib's
        ``AuthorizationCodeGrant.create_authorization_response`` does after its validation (with
        ``random_token`` for the code, like every token). The
        consent page's POST still goes DOT's full way: its hidden fields come from the browser.
        """
        request, application = self.validated_request, context["application"]
        request.scopes = context["scopes"]  # as validated here: offline_access only with prompt=consent
        request.user = self.request.user
        request.resource = self.request.GET.getlist("resource") or None  # each checked in validation
        for name, value in _how_signed_in(self.request).items():
            setattr(request, name, value)
        server = self.get_oauthlib_core().server
        grant_type = server.openid_connect_auth if "openid" in request.scopes else server.auth_grant
        try:
            code = {"code": random_token(), **({"state": request.state} if request.state else {})}
            server.request_validator.save_authorization_code(request.client_id, code, request)
        except errors.OAuth2Error as error:
            error = OAuthToolkitError(error, redirect_uri=request.redirect_uri)
            return self.error_response(error, application)
        headers, _, _ = grant_type.prepare_authorization_response(request, code, {}, None, 302)
        return self.redirect(headers["Location"], application)

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

    def consent_or_silent_answer(self, context):
        """``idp.consent.decide``: a code without a page, the consent page, or ``consent_required``."""
        application = context["application"]
        claims = requested_claims(_json_or_none(context.get("claims")))
        need = consent_need(self.request.user, application, scopes=context["scopes"], claims=claims)
        decision = decide(need, application=application, prompt=_prompt(self.request))
        if decision is Decision.ISSUE:
            return self.issue_code(context)
        if decision is Decision.CONSENT_REQUIRED:
            error = errors.ConsentRequired(state=context.get("state"))
            uri = context["redirect_uri"]
            return self.redirect(uri + ("&" if "?" in uri else "?") + error.urlencoded, application)
        return super().render_to_response(
            self.get_context_data(
                **context,
                consent_marker=CONSENT_MARKER,
                # As a person reads it: plain words and the concrete values each scope would release.
                client=client_card(application),
                new_scope_items=describe_scopes(self.request.user, need.new_scopes, brief=True),
                granted_scope_items=describe_scopes(self.request.user, need.granted_scopes),
                new_claim_items=describe_claims(self.request.user, need.new_claims),
            )
        )


def _how_signed_in(request) -> dict:
    """When and how the approving session signed in: stored with the code, for the ID token."""
    return {"auth_time": authentication_time(request), "amr": request.session.get(AMR_KEY, [])}


def _json_or_none(value):
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value or None


def _is_resource_indicator(value: str) -> bool:
    """RFC 8707 §2: an absolute URI without a fragment. DOT's check raises on some, e.g. ``http://[``."""
    try:
        return is_valid_resource_uri(value)
    except ValueError:
        return False


def _invalid_target() -> errors.CustomOAuth2Error:
    return errors.CustomOAuth2Error(
        error="invalid_target",
        description="A resource is not an absolute URI without a fragment (RFC 8707).",
    )
