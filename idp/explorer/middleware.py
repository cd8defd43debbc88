"""Records the person's browser at the authorization server while one of its explorer runs is there."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone

from ..views.authorize import CONSENT_MARKER
from .access import OFF, explorer_policy
from .browsers import COOKIE, browser_of
from .front_channel import NO_PKCE_NOTE
from .models import ExplorerRun
from .recorder import browser_request, recorded_response
from .store import is_full, record_exchange

logger = logging.getLogger(__name__)

# The pages a browser passes through at the authorization server -> the step they are, and the
# one-time codes a person types there (never recorded).
RECORDED: dict[str, tuple[str, frozenset[str]]] = {
    "oauth2_provider:authorize": ("authorization_request", frozenset()),
    "idp:login": ("sign_in", frozenset()),
    "idp:login-verify": ("second_factor", frozenset({"code"})),
    "idp:device": ("device_verification", frozenset({"user_code"})),
}


class ExplorerRecorderMiddleware:
    """While a run of this browser is at the authorization server, records its requests there.

    The requests to /authorize (the consent form's POST too), /login, /login/verify and /device
    become ``browser -> authorize`` messages of the browser's newest such run. The browser is known
    by the explorer's own cookie; a request without it costs a dictionary lookup: no query, no
    session. Optional: without it, a run shows only the messages the explorer sends or receives
    itself. Place it right after idp.middleware.RequestIdMiddleware, so the headers the middleware
    below adds are part of what is recorded.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.paths: dict[str, tuple[str, frozenset[str]]] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if COOKIE not in request.COOKIES:
            return self.get_response(request)
        if self.paths is None:
            self.paths = {reverse(name): recorded for name, recorded in RECORDED.items()}
        recorded = self.paths.get(request.path)
        browser = browser_of(request) if recorded and explorer_policy() != OFF else None
        if browser is None:
            return self.get_response(request)
        run = (
            ExplorerRun.objects.filter(
                browser=browser,
                stage__in=(ExplorerRun.Stage.AUTHORIZING, ExplorerRun.Stage.DEVICE),
                expires__gt=timezone.now(),
            )
            .only("pk", "client_id", "breaks", "last_seq")
            .first()
        )
        step, typed = recorded
        if run is None or is_full(run):  # a full run records nothing more (idp.explorer.store)
            return self.get_response(request)
        if step == "authorization_request" and _for_another_client(request, run):
            return self.get_response(request)
        sent, sent_at = browser_request(request, also_drop=typed), timezone.now()
        response = self.get_response(request)
        try:
            self.record(run, request, step=step, sent=sent, sent_at=sent_at, response=response)
        except Exception:  # the person's sign-in goes on whatever happens to the recording
            logger.exception("The flow explorer could not record %s", request.path)
        return response

    def record(self, run: ExplorerRun, request: HttpRequest, *, step: str, sent, sent_at, response) -> None:
        broken, notes = "", ()
        if step == "authorization_request" and request.method == "POST" and CONSENT_MARKER in request.POST:
            step = "consent"
        elif step == "authorization_request" and "no_pkce" in run.breaks and "code_challenge" not in sent.url:
            broken, notes = "no_pkce", (NO_PKCE_NOTE,)
        record_exchange(
            run, step=step, source="browser", target="authorize", request=sent,
            response=recorded_response(response), broken=broken, notes=notes, sent_at=sent_at,
        )  # fmt: skip


def _for_another_client(request: HttpRequest, run: ExplorerRun) -> bool:
    """An authorization request (or consent form) of another app, in another tab: not part of the run."""
    client_id = request.GET.get("client_id")
    if client_id is None and request.method == "POST":
        try:
            client_id = request.POST.get("client_id")
        except (BadRequest, SuspiciousOperation, MultiPartParserError):
            return True  # the view refuses a body it cannot read; nothing of the run's to record
    return client_id is not None and client_id != run.client_id
