"""The authorization endpoint: DOT's AuthorizationView with PKCE S256, ``iss`` everywhere and real pages."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749 import errors

from ..claims import SCOPES
from ..conf import idp_settings
from ..sessions import authentication_time

# RFC 7636 §4.2: 43 to 128 characters of the unreserved set.
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def with_iss(uri: str, issuer: str) -> str:
    """``uri`` with exactly one RFC 9207 ``iss`` query parameter, equal to ``issuer``."""
    parts = urlsplit(uri)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "iss"]
    query.append(("iss", issuer))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirectable_error(error: errors.OAuth2Error, credentials: dict) -> OAuthToolkitError:
    error.state = credentials.get("state")
    return OAuthToolkitError(error=error, redirect_uri=credentials["redirect_uri"])


@method_decorator(never_cache, name="dispatch")
class IdpAuthorizationView(AuthorizationView):
    """Login if needed, then the consent page (or a silent answer), then a redirect with code and iss."""

    template_name = "idp/consent.html"
    error_template_name = "idp/authorize_error.html"

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
        if credentials.get("code_challenge_method") != "S256":
            raise _redirectable_error(
                errors.InvalidRequestError(
                    description="PKCE is required, with code_challenge_method=S256 (plain is not accepted)."
                ),
                credentials,
            )
        if not CODE_CHALLENGE.match(credentials.get("code_challenge") or ""):
            raise _redirectable_error(
                errors.InvalidRequestError(
                    description="code_challenge must be 43-128 unreserved characters."
                ),
                credentials,
            )
        return scopes, credentials

    def create_authorization_response(self, request, scopes, credentials, allow):
        credentials["auth_time"] = authentication_time(request)
        return super().create_authorization_response(request, scopes, credentials, allow)

    def redirect(self, redirect_to, application):
        """Every redirect from this endpoint is an authorization response, so it carries ``iss``."""
        if application is None:
            # DOT passes no application for errors found while validating the request; oauthlib only
            # lets an error be redirected once client_id and redirect_uri are known to match.
            application = (
                get_application_model().objects.filter(client_id=self.request.GET.get("client_id")).first()
            )
        return super().redirect(with_iss(redirect_to, idp_settings.ISSUER), application)

    def render_to_response(self, context, **response_kwargs):
        if "error" in context and "form" not in context:
            # An error that must not be redirected (unknown client, unregistered redirect_uri, ...).
            error = context["error"]
            return render(
                self.request,
                self.error_template_name,
                {"error": error.error, "description": error.description},
                status=response_kwargs.get("status", 400),
            )
        if "none" in self.request.GET.get("prompt", "").split() and "form" in context:
            # prompt=none forbids any UI, and this request would show the consent page.
            error = errors.ConsentRequired(state=context.get("state"))
            uri = (
                context["redirect_uri"] + ("&" if "?" in context["redirect_uri"] else "?") + error.urlencoded
            )
            return self.redirect(uri, context.get("application"))
        if "form" in context:
            context["scope_details"] = [
                {"name": name, "description": SCOPES[name]["description"]}
                for name in context.get("scopes", [])
                if name in SCOPES
            ]
        return super().render_to_response(context, **response_kwargs)
