"""A run's life: started for one browser, advanced step by step, refreshed, found again, expired."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from ..api.throttling import exceeded_limits, named_limits
from ..audit import client_address
from .browsers import browser_of, is_same_browser
from .flows import Flow, plan_for, refresh_plan
from .front_channel import begin_authorization, run_url
from .models import ExplorerRun
from .steps import run_step
from .store import is_full, keep_secrets, secrets_of

RUN_LIFETIME = timedelta(hours=1)
MAX_STEPS_AT_ONCE = 30  # "Run the remaining steps" sends at most this many requests
# Each run stores a row, its sealed secrets and up to idp.explorer.store.MAX_MESSAGES messages for an
# hour. A browser keeps its newest RUNS_PER_BROWSER (one more forgets the oldest), and runs start at
# most at START_RATES per client address (a browser that drops its cookie is a new one), like the
# device authorizations each of which stores a grant (IDP["DEVICE_AUTHORIZATION_RATES"]).
RUNS_PER_BROWSER = 20
START_RATES = {"address": "30/minute"}
Stage = ExplorerRun.Stage


@dataclass(frozen=True)
class Choice:
    """What the start form asked for, checked (idp.explorer.forms.StartForm)."""

    flow: Flow
    client_id: str
    confidential: bool
    client_secret: str | None
    scope: str
    options: dict = field(default_factory=dict)  # prompt, max_age, acr_values, claims, login_hint
    breaks: tuple[str, ...] = ()


def starts_over_limit(request: HttpRequest) -> int:
    """Seconds to wait when this request's address is over ``START_RATES``, else 0 (counts this start)."""
    counted = named_limits("idp_explorer_start", START_RATES, {"address": client_address(request)})
    return max((ttl for _, ttl in exceeded_limits(counted, what="Flow explorer limits")), default=0)


def _forget_oldest(browser: str) -> None:
    newest = ExplorerRun.objects.filter(browser=browser).order_by("-created").values_list("pk", flat=True)
    if stale := list(newest[RUNS_PER_BROWSER:]):
        ExplorerRun.objects.filter(pk__in=stale).delete()


def start_run(
    request: HttpRequest, *, choice: Choice, browser: str, started_by: str | None = None
) -> tuple[ExplorerRun, HttpResponse]:
    """Create the run for ``browser`` (a hash, idp.explorer.browsers) and take its first step: the
    redirect to /authorize (code flows), the device authorization (device), or nothing yet. The
    browser's runs beyond its newest ``RUNS_PER_BROWSER`` are forgotten.

    ``started_by``: the primary key of the staff member who started it (``started_by_staff``), sealed
    with the secrets as it names a person.
    """
    flow, breaks = choice.flow, list(choice.breaks)
    options = {name: value for name, value in choice.options.items() if name != "login_hint"}
    run = ExplorerRun.objects.create(
        browser=browser, flow=flow.key, client_id=choice.client_id, confidential=choice.confidential,
        scope=choice.scope, options=options, breaks=breaks,
        pending=plan_for(flow, breaks=breaks, confidential=choice.confidential, scope=choice.scope),
        stage=Stage.AUTHORIZING if flow.front_channel else Stage.STEPS,
        expires=timezone.now() + RUN_LIFETIME,
    )  # fmt: skip
    _forget_oldest(browser)
    if started_by is not None:
        keep_secrets(run, started_by=started_by)
    if flow.front_channel:
        # The hint names the person: sealed with the secrets, as logs redact it (idp.logs).
        hint = choice.options.get("login_hint")
        return run, begin_authorization(request, run, client_secret=choice.client_secret, login_hint=hint)
    if choice.client_secret:
        keep_secrets(run, client_secret=choice.client_secret)
    if flow.key == "device":
        run.stage = Stage.DEVICE
        _finish_step(run, run_step(request, run, step="device_authorization"))
    return run, HttpResponseRedirect(run_url(run))


def find_run(request: HttpRequest, run_id: uuid.UUID) -> ExplorerRun | None:
    """The run, if it is this browser's and has not expired (anything else: None, a 404)."""
    run = ExplorerRun.objects.filter(pk=run_id, expires__gt=timezone.now()).first()
    return run if run is not None and is_same_browser(run.browser, request) else None


def forget_runs_at_sign_out(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """``user_logged_out`` receiver: this browser's runs hold the tokens of the person signing out, and
    the explorer's cookie outlives their session; whoever uses the browser next does not find them."""
    browser = browser_of(request) if request is not None else None
    if browser is not None:
        ExplorerRun.objects.filter(browser=browser).delete()


def started_by_staff(run: ExplorerRun) -> bool:
    """Whether a staff member started ``run`` and still is one (active): its browser may finish it."""
    started_by = secrets_of(run).get("started_by")
    if not started_by:
        return False
    return get_user_model().objects.filter(pk=started_by, is_active=True, is_staff=True).exists()


def runs_of(request: HttpRequest) -> list[ExplorerRun]:
    """This browser's live runs, newest first."""
    browser = browser_of(request)
    if browser is None:
        return []
    return list(ExplorerRun.objects.filter(browser=browser, expires__gt=timezone.now())[:20])


def _finish_step(run: ExplorerRun, result) -> None:
    if result.end:
        run.pending, run.outcome = [], result.end
    if not run.pending:
        run.stage = Stage.ENDED
    run.save(update_fields=["stage", "pending", "outcome"])


def can_advance(run: ExplorerRun) -> bool:
    """Whether a back-channel step is waiting for the person's "Next step" (and the run has room to
    record it: a full run sends nothing more)."""
    return bool(run.pending) and run.stage in (Stage.STEPS, Stage.DEVICE) and not is_full(run)


def next_step(request: HttpRequest, run: ExplorerRun) -> bool:
    """Send the next pending request (steps with nothing to send are passed over); False if it waits.

    A device poll answered ``authorization_pending`` or ``slow_down`` stays first in line.
    """
    while can_advance(run):
        head = run.pending[0]
        result = run_step(request, run, step=head["step"], broken=head.get("broken", ""))
        if result.wait:
            return False
        run.pending = run.pending[1:]
        if head["step"] == "device_poll":
            run.stage = Stage.STEPS
        _finish_step(run, result)
        if not result.skipped:
            return True
    return True


def remaining_steps(request: HttpRequest, run: ExplorerRun) -> None:
    """Send every pending request in turn, until the run ends or a device poll has to wait."""
    for _ in range(MAX_STEPS_AT_ONCE):
        if not can_advance(run) or not next_step(request, run):
            return


def can_refresh(run: ExplorerRun) -> bool:
    """Whether the run holds a refresh token and nothing else is pending."""
    return (
        run.stage == Stage.ENDED
        and not run.outcome
        and not is_full(run)
        and bool(secrets_of(run).get("refresh_token"))
    )


def plan_refresh(run: ExplorerRun) -> bool:
    """Queue a refresh (and, for a confidential client, an introspection of the new access token)."""
    if not can_refresh(run):
        return False
    run.pending = refresh_plan(breaks=[], confidential=run.confidential)
    run.stage = Stage.STEPS
    run.save(update_fields=["pending", "stage"])
    return True
