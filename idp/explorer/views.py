"""The flow explorer's pages: the start form, the callback, a run (its diagram), and its actions."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..conf import idp_settings
from .access import explorer_run_view, explorer_view
from .browsers import browser_hash, ensure_browser_key, remember_browser
from .flows import FLOWS
from .forms import BREAK_LABELS, StartForm
from .front_channel import CallbackRefused, receive_callback, run_url
from .glossary import STEPS
from .models import ExplorerRun
from .playground import callback_url
from .presentation import diagram_context, exports_context, tokens_context
from .runs import (
    can_advance,
    can_refresh,
    find_run,
    next_step,
    plan_refresh,
    remaining_steps,
    runs_of,
    start_run,
    starts_over_limit,
)
from .store import exchanges_of, is_full, secrets_of


@explorer_view
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The start form, and this browser's runs of the last hour."""
    return _index(request, StartForm())


def _index(request: HttpRequest, form: StartForm, *, status: int = 200) -> HttpResponse:
    context = {"form": form, "runs": runs_of(request), "flows": FLOWS, "callback_url": callback_url()}
    return render(request, "idp/explorer/index.html", context, status=status)


@explorer_view
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Start a run: to /authorize for a code flow, else to the run's page."""
    form = StartForm(request.POST)
    if not form.is_valid():
        return _index(request, form, status=400)
    if wait := starts_over_limit(request):
        form.add_error(None, f"Too many runs were started from your address: try again in {wait} seconds.")
        response = _index(request, form, status=429)
        response["Retry-After"] = str(wait)
        return response
    key = ensure_browser_key(request)
    user = request.user
    started_by = str(user.pk) if user.is_authenticated and user.is_active and user.is_staff else None
    _run, response = start_run(
        request, choice=form.choice(), browser=browser_hash(key), started_by=started_by
    )
    remember_browser(response, request, key)
    return response


@explorer_run_view
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The redirect URI of the explorer's code flows: state and iss checked, the code kept."""
    try:
        _run, response = receive_callback(request)
    except CallbackRefused as refused:
        return render(request, "idp/explorer/refused.html", {"reason": str(refused)}, status=400)
    return response


def _own_run(request: HttpRequest, run_id: uuid.UUID) -> ExplorerRun:
    run = find_run(request, run_id)
    if run is None:
        raise Http404("No run of this browser has this id.")
    return run


@explorer_run_view
@require_GET
def run_page(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """The run: its sequence diagram, tokens, exports, and what can be done next."""
    run = _own_run(request, run_id)
    reveal = request.GET.get("reveal") == "1"
    exchanges = exchanges_of(run)
    kept = secrets_of(run)
    of_run = {"issuer": idp_settings.ISSUER, "client_id": run.client_id}
    next_step = run.pending[0]["step"] if run.pending else ""
    context = {
        "run": run,
        "flow": FLOWS.get(run.flow),
        "breaks": [BREAK_LABELS.get(name, name) for name in run.breaks],
        "can_advance": can_advance(run),
        "next_step": next_step,
        "next_step_title": STEPS[next_step].title if next_step in STEPS else next_step,
        "can_refresh": can_refresh(run),
        "full": is_full(run),
        "device": _device(run, kept),
        **diagram_context(exchanges, reveal=reveal),
        **tokens_context(exchanges, **of_run, nonce=kept.get("nonce"), reveal=reveal),
        **exports_context(exchanges, **of_run, flow=run.flow, confidential=run.confidential),
        "downloads": {kind: reverse("idp:explorer:export", args=[run.pk, kind]) for kind in EXPORTS},
    }
    return render(request, "idp/explorer/run.html", context)


EXPORTS = ("curl", "mermaid")  # the exports a run page offers as files (presentation.Exports' members)


@explorer_run_view
@require_GET
def export_view(request: HttpRequest, run_id: uuid.UUID, kind: str) -> HttpResponse:
    """The run's curl script or Mermaid text as a file to save (no secret is written in either)."""
    if kind not in EXPORTS:
        raise Http404("No such export.")
    run = _own_run(request, run_id)
    of_run = {"issuer": idp_settings.ISSUER, "client_id": run.client_id, "confidential": run.confidential}
    exports = exports_context(exchanges_of(run), **of_run, flow=run.flow)["exports"]
    response = HttpResponse(getattr(exports, kind), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.files[kind]}"'
    return response


def _device(run: ExplorerRun, kept: dict) -> dict | None:
    """What the person needs to approve the device: the user code and a link to /device with it."""
    if run.stage != ExplorerRun.Stage.DEVICE or not kept.get("user_code"):
        return None
    link = reverse("idp:device") + "?" + urlencode({"user_code": kept["user_code"]})
    return {"user_code": kept["user_code"], "link": link, "interval": kept.get("interval", "5")}


def _back_to(run: ExplorerRun) -> HttpResponse:
    return HttpResponseRedirect(f"{run_url(run)}#message-{run.last_seq}")


@explorer_run_view
@require_POST
def next_view(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """Send the run's next request."""
    run = _own_run(request, run_id)
    next_step(request, run)
    return _back_to(run)


@explorer_run_view
@require_POST
def remaining_view(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """Send every remaining request (a device poll that must wait stops it)."""
    run = _own_run(request, run_id)
    remaining_steps(request, run)
    return _back_to(run)


@explorer_run_view
@require_POST
def refresh_view(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """Refresh the run's tokens with its refresh token."""
    run = _own_run(request, run_id)
    if plan_refresh(run):
        next_step(request, run)
    return _back_to(run)
