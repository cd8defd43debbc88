"""The device authorization grant's endpoint (RFC 8628 §3.1) and its page for people, ``/device``.

The page: sign in first (the same sign-in as every flow, lockout included), type the code or arrive
with it pre-filled from ``verification_uri_complete``, read what the device asks for with a warning
against remote phishing (§5.4), Allow or Deny, then go back to the device. A code that is wrong,
expired or used, or one guess too many (§5.1), is a message on the same page.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from ..api.throttling import exceeded_limits, named_limits
from ..audit import client_address
from ..client_auth import basic_credentials
from ..conf import idp_settings
from ..device.approval import CodeProblem, answer, check_user_code
from ..device.protocol import IdpDeviceAuthorizationEndpoint
from ..mfa.stepup import step_up_for, step_up_url
from ..presentation import client_card, describe_scopes
from .tokens import FormEndpointMixin, challenge_for_client_authentication, oauth_error

# The session remembers which grant each consent page showed, and to whom, under a random name the
# page's form sends back: the answer names no code, so the Allow/Deny form cannot be used to guess
# codes past the limits, and an answer applies to the grant its own page showed, not to one a second
# tab (perhaps opened by a phisher's instructions) showed later. (Signing in as someone else flushes
# the session anyway; the person is checked again all the same.)
SESSION_KEY = "idp_device_grants_shown"
SHOWN_FIELD = "shown"
MAX_SHOWN = 5  # consent pages open at once in one session; the oldest is forgotten first


def verification_uri() -> str:
    return idp_settings.issuer_origin + reverse("idp:device")


class DeviceAuthorizationView(FormEndpointMixin, View):
    """RFC 8628 §3.1: a device asks for a device code and a user code (``idp.device.protocol``)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        if wait := _authorization_requests_over_limit(request):
            response = oauth_error(
                "invalid_request", f"Too many device authorization requests; retry in {wait} seconds.", 429
            )
            response["Retry-After"] = str(wait)
            return response
        base = verification_uri()
        endpoint = IdpDeviceAuthorizationEndpoint(
            oauth2_settings.OAUTH2_VALIDATOR_CLASS(),
            verification_uri=base,
            expires_in=int(idp_settings.DEVICE_CODE_LIFETIME),
            interval=int(idp_settings.DEVICE_POLL_INTERVAL),
            verification_uri_complete=base + "?user_code={user_code}",
        )
        headers = {
            "Content-Type": request.META.get("CONTENT_TYPE", ""),
            "HTTP_AUTHORIZATION": request.headers.get("Authorization", ""),
            "REMOTE_ADDR": request.META.get("REMOTE_ADDR", ""),
            "HTTP_X_FORWARDED_FOR": request.META.get("HTTP_X_FORWARDED_FOR", ""),
        }
        try:
            response_headers, body, status = endpoint.create_device_authorization_response(
                request.build_absolute_uri(request.path), "POST", request.POST.urlencode(), headers
            )
        except OAuth2Error as error:
            response = oauth_error(error.error, error.description, error.status_code)
            return challenge_for_client_authentication(request, response)
        response = HttpResponse(body, status=status)
        for key, value in response_headers.items():
            response[key] = value
        return response


def _authorization_requests_over_limit(request: HttpRequest) -> int:
    """Seconds to wait when this request is over ``IDP["DEVICE_AUTHORIZATION_RATES"]``, else 0.

    Each device authorization request stores a grant, and a public client's ``client_id`` is no
    secret: without a limit anyone could fill the table (cleanup removes rows only once expired).
    """
    basic_id, _secret = basic_credentials(_basic(request), request)
    client_id = request.POST.get("client_id") or basic_id
    who = {"client": client_id[:200] if client_id else None, "address": client_address(request)}
    counted = named_limits("idp_device_authorization", idp_settings.DEVICE_AUTHORIZATION_RATES, who)
    over = exceeded_limits(counted, what="Device authorization limits")
    return max((ttl for _, ttl in over), default=0)


def _basic(request: HttpRequest) -> str | None:
    """The credentials of an HTTP Basic Authorization header (only to count the client it names)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials if scheme.lower() == "basic" else None


_MESSAGES = {
    CodeProblem.UNKNOWN: gettext_lazy(
        "That code is not right. Check the code your device shows and type it again."
    ),
    CodeProblem.EXPIRED: gettext_lazy("That code has expired. Start again on your device to get a new code."),
    CodeProblem.USED: gettext_lazy(
        "That code has already been used. Start again on your device to get a new code."
    ),
}


def _code_page(request, *, code: str = "", problem: CodeProblem | None = None, wait: int = 0, status=200):
    if problem is CodeProblem.TOO_MANY:
        message = _("Too many codes tried. Wait %(minutes)d minutes, then try again.") % {"minutes": wait}
    else:
        message = str(_MESSAGES[problem]) if problem else ""
    context = {"user_code": code, "message": message, "problem": problem.value if problem else ""}
    return render(request, "idp/device_code.html", context, status=status)


@never_cache
@login_required
@sensitive_post_parameters("user_code", SHOWN_FIELD)
def device_page(request: HttpRequest) -> HttpResponse:
    """``/device``: the code form (GET, pre-filled by ``?user_code=``), the consent page (POST of a
    code), and the person's answer (POST of Allow or Deny)."""
    if request.method == "GET":
        return _code_page(request, code=request.GET.get("user_code", "")[:64])
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    if "allow" in request.POST or "deny" in request.POST:
        pages = _shown_pages(request)
        shown = pages.pop(request.POST.get(SHOWN_FIELD, ""), None)
        request.session[SESSION_KEY] = pages
        if not isinstance(shown, list) or shown[1] != str(request.user.pk):
            return _code_page(request, problem=CodeProblem.UNKNOWN)
        grant, problem = answer(shown[0], request=request, allow="allow" in request.POST)
        if problem is not None:
            return _code_page(request, problem=problem)
        return render(
            request,
            "idp/device_done.html",
            {"client": client_card(grant.application), "allowed": grant.status == grant.AUTHORIZED},
        )
    typed = request.POST.get("user_code", "")[:64]
    grant, problem, wait = check_user_code(request, typed)
    if problem is not None:
        return _code_page(request, code=typed, problem=problem, wait=wait, status=429 if wait else 200)
    if needed := step_up_for(request, client=grant.application, claims_request=None):
        # The client or the site requires a second factor: give it (or add one), then this code again.
        back = f"{request.path}?{urlencode({'user_code': typed})}"
        return HttpResponseRedirect(step_up_url(needed, next_url=back))
    pages = _shown_pages(request)
    name = secrets.token_urlsafe(16)
    pages[name] = [grant.pk, str(request.user.pk)]
    for oldest in list(pages)[:-MAX_SHOWN]:
        del pages[oldest]
    request.session[SESSION_KEY] = pages
    return render(
        request,
        "idp/device_consent.html",
        {
            "client": client_card(grant.application),
            "scope_items": describe_scopes(request.user, grant.scope.split()),
            "shown": name,
        },
    )


def _shown_pages(request) -> dict:
    """The consent pages this session showed: {name in the form: [grant pk, person's pk]}."""
    pages = request.session.get(SESSION_KEY)
    return dict(pages) if isinstance(pages, dict) else {}
