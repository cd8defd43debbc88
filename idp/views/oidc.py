"""Provider metadata, JWKS, userinfo and RP-initiated logout."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import (
    InvalidIDTokenError,
    InvalidOIDCClientError,
    InvalidOIDCRedirectURIError,
    OIDCError,
)
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import RPInitiatedLogoutView, UserInfoView

from ..browser_sessions import end_hinted_session, hinted_sid
from ..db import lookups
from ..discovery import document_bytes
from ..id_tokens import COMPACT_JWS
from ..keys import jwks_document
from .tokens import form_problem

# The confirmation page's form says it is that form; any other POST is a logout request from an RP.
LOGOUT_MARKER = "idp_logout_confirm"


def _public_json(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def openid_configuration(request: HttpRequest) -> HttpResponse:
    """OpenID Connect Discovery document at ``{issuer}/.well-known/openid-configuration``."""
    return _public_json(document_bytes("openid"))


def oauth_authorization_server(request: HttpRequest) -> HttpResponse:
    """RFC 8414 metadata at ``{issuer}/.well-known/oauth-authorization-server``."""
    return _public_json(document_bytes("oauth"))


def jwks(request: HttpRequest) -> HttpResponse:
    """Every public signing key, active first, retired ones after."""
    return _public_json(jwks_document())


class IdpUserInfoView(UserInfoView):
    """DOT's userinfo, refusing access tokens in the URL query (RFC 9700 §4.3.2, OAuth 2.1); JSON errors.

    A request whose parameters cannot be read as one form (an unreadable body, a repeated parameter)
    is ``invalid_request`` with its RFC 6750 challenge, as at the token endpoint.
    """

    def _create_userinfo_response(self, request):
        problem = form_problem(request)
        if problem is None and "access_token" in request.GET:
            problem = "Access tokens are not accepted in the URL query."
        if problem is not None:
            response = JsonResponse({"error": "invalid_request", "error_description": problem}, status=400)
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            response["Cache-Control"] = "no-store"
            return response
        response = super()._create_userinfo_response(request)
        response["Cache-Control"] = "no-store"
        if response.status_code >= 400:
            response["Content-Type"] = "application/json"  # oauthlib's error body, sent as text/html by DOT
        return response


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class IdpRPInitiatedLogoutView(RPInitiatedLogoutView):
    """RP-initiated logout by GET or POST: errors are pages (never redirects); no usable client, no redirect.

    RP-Initiated Logout 1.0 §2: the OP supports GET and form-encoded POST alike. A relying party's POST
    carries no CSRF token of ours, so only the confirmation page's own form (which says so with
    ``LOGOUT_MARKER``) is CSRF-checked; any other POST is answered exactly like the GET.
    """

    template_name = "idp/logout_confirm.html"

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and LOGOUT_MARKER in request.POST:
            rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if rejected is not None:
                return rejected
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.answer_logout_request(request.GET)

    def post(self, request, *args, **kwargs):
        if LOGOUT_MARKER in request.POST:
            return super().post(request, *args, **kwargs)  # the confirmation form: DOT's form_valid
        return self.answer_logout_request(request.POST)

    def answer_logout_request(self, params: QueryDict) -> HttpResponse:
        """DOT's GET handling, for parameters from the query or from a relying party's POST body."""
        post_logout_redirect_uri = params.get("post_logout_redirect_uri")
        state = params.get("state")
        try:
            application, token_user = self.validate_logout_request(
                id_token_hint=params.get("id_token_hint"),
                client_id=params.get("client_id"),
                post_logout_redirect_uri=post_logout_redirect_uri,
            )
        except OIDCError as error:
            return self.error_response(error)
        self.hinted_sid = hinted_sid(params.get("id_token_hint"), user=token_user)
        if not self.must_prompt(token_user):
            return self.do_logout(application, post_logout_redirect_uri, state, token_user)
        self.oidc_data = {
            key: params.get(key)
            for key in ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")
        }
        context = self.get_context_data(form=self.get_form(self.get_form_class()))
        if application:
            context["application"] = application
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        return super().get_context_data(logout_marker=LOGOUT_MARKER, **kwargs)

    def validate_post_logout_redirect_uri(self, application, post_logout_redirect_uri):
        """DOT's check, with a URI that urllib cannot split (``http://[``) refused like any other."""
        try:
            super().validate_post_logout_redirect_uri(application, post_logout_redirect_uri)
        except ValueError as exc:
            raise InvalidOIDCRedirectURIError("post_logout_redirect_uri is not a valid URI.") from exc

    def validate_logout_request_user(self, id_token_hint, client_id):
        """DOT's check, taking only the exact compact serialization as a hint (``id_tokens.COMPACT_JWS``):
        jwcrypto's lenient base64 would read a hint with junk inserted as the genuine one it was made
        from, as the authorization endpoint's ``id_token_hint`` already refuses."""
        if id_token_hint and not COMPACT_JWS.fullmatch(id_token_hint):
            raise InvalidIDTokenError()
        return super().validate_logout_request_user(id_token_hint, client_id)

    def get_request_application(self, id_token, client_id):
        """The client ``client_id`` names, else the ID token's. A client_id that names none (a NUL byte
        included, which PostgreSQL would refuse with a 500) is ``InvalidOIDCClientError``."""
        if not client_id:
            return super().get_request_application(id_token, client_id)
        application = lookups.application(client_id)
        if application is None:
            raise InvalidOIDCClientError()
        return application

    def do_logout(self, application=None, post_logout_redirect_uri=None, state=None, token_user=None):
        """Sign this browser out (``browser_sessions`` ends its session and owes its apps a logout), and
        the session the hint's ``sid`` names, if another of the same person is still live."""
        end_hinted_session(getattr(self, "hinted_sid", ""), user=token_user, request=self.request)
        if post_logout_redirect_uri and application is not None and application.is_usable(self.request):
            return super().do_logout(application, post_logout_redirect_uri, state, token_user)
        # DOT would redirect to "/"; a person is better served by a page saying what happened.
        # A disabled client is never sent anyone, even to a registered post-logout URI.
        # Tokens are kept either way (OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS is off).
        logout(self.request)
        return render(self.request, "idp/logged_out.html")

    def error_response(self, error: OIDCError):
        return render(
            self.request, "idp/logout_error.html", {"error": error}, status=getattr(error, "status_code", 400)
        )
