"""Who may use the flow explorer: ``IDP["FLOW_EXPLORER"]``, and the refusals (404, sign-in, 403)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from ..conf import idp_settings

OFF, STAFF, EVERYONE = "off", "staff", "everyone"
INDEX = "idp:explorer:index"


def explorer_policy() -> str:
    """``off``, ``staff`` or ``everyone``, from ``IDP["FLOW_EXPLORER"]`` (None: everyone while DEBUG).

    Any value other than the documented ones (None, "staff", "everyone", False) is taken as "staff"
    (and is check error ``idp.E023``, idp.explorer.checks).
    """
    configured = idp_settings.FLOW_EXPLORER
    if configured is False:
        return OFF
    if configured is None:
        return EVERYONE if settings.DEBUG else STAFF
    return EVERYONE if configured == EVERYONE else STAFF


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer to a request the explorer refuses, or None when this browser may use it."""
    policy = explorer_policy()
    if policy == OFF:
        raise Http404("The flow explorer is off.")
    if policy == EVERYONE:
        return None
    user = request.user
    if not user.is_authenticated:  # back to this page after signing in (the start page after a POST)
        return redirect_to_login(request.get_full_path() if request.method == "GET" else reverse(INDEX))
    if not (user.is_active and user.is_staff):
        return render(request, "idp/explorer/forbidden.html", status=403)
    return None


def explorer_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the explorer: refused as the setting says, and never cached (it shows secrets)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = refusal(request) or view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapped


def explorer_run_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of one run (``run_id``, or the callback's ``state``): as ``explorer_view``, except that the
    browser owning a run a staff member started may finish and see it whoever it is signed in as now
    (the sign-in at /authorize may be a test account's). The start page and the start stay refused."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = refusal(request)
        if response is not None and _owns_a_staff_run(request, run_id=kwargs.get("run_id")):
            response = None
        response = response or view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapped


def _owns_a_staff_run(request: HttpRequest, *, run_id) -> bool:
    from .front_channel import callback_run  # the runs' modules import the models: not at start-up
    from .runs import find_run, started_by_staff

    run = find_run(request, run_id) if run_id is not None else callback_run(request)
    return run is not None and started_by_staff(run)
