"""The plans, the verdicts, the run's configuration and the registry of modules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Context

PLANS: dict[str, str] = {
    "config": "oidcc-config-certification-test-plan",
    "basic": "oidcc-basic-certification-test-plan",
    "logout": "oidcc-rp-initiated-logout-certification-test-plan",
    # Not in "all": the provider must reach this machine's back-channel logout URI and deliver.
    "backchannel": "oidcc-backchannel-rp-initiated-logout-certification-test-plan",
    # Not an OpenID Foundation plan, and not in "all": RFC 8628, for providers that offer it.
    "device": "rfc8628-device-authorization-grant",
}
CERTIFICATION_PLANS = ("config", "basic", "logout")

USER_AGENT = "idp-selftest/1 (+python-requests)"
# What a browser sends when it navigates: providers that negotiate answer it with pages, not JSON.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CLOCK_SKEW = 300  # seconds of clock difference tolerated between this machine and the provider
MAX_REDIRECTS = 10
MAX_DETAIL = 400


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


class CheckFailed(Exception):
    """The provider did something a module does not accept: the module FAILs with this detail."""


class ModuleSkipped(Exception):
    """The module does not apply to this provider (by the plan's own skip rules)."""


@dataclass(frozen=True)
class Config:
    """Where the provider is and what the relying party knows about itself."""

    issuer: str
    client_id: str = "demo-web"
    client_secret: str = "demo-web-secret"  # noqa: S105 - the public development demo client
    client2_id: str = "demo-web-2"
    client2_secret: str = "demo-web-2-secret"  # noqa: S105
    username: str = "alice"
    password: str = "alice-demo-password"  # noqa: S105
    redirect_uri: str = "http://127.0.0.1:8765/callback"
    post_logout_redirect_uri: str = "http://127.0.0.1:8765/logged-out"
    # The first client's registered back-channel logout URI: the backchannel plan listens there.
    backchannel_logout_uri: str = "http://127.0.0.1:8765/backchannel-logout"
    device_client_id: str = "demo-device"  # the device plan's client (public without a secret)
    device_client_secret: str | None = None
    slow: bool = False
    request_timeout: float = 10.0
    max_time: float = 120.0
    verify_tls: bool = True
    approve_button: str | None = None  # name, id or label of the consent page's approve button
    username_field: str | None = None  # name of the login form's username field
    # Origins besides the provider's (issuer, discovered endpoints) that may receive the password: a login
    # page hosted elsewhere on purpose.
    login_origins: tuple[str, ...] = ()
    allowed_metadata: tuple[str, ...] = ()  # discovery members not to warn about (as the suite's option)
    trace: Callable[[str], None] | None = field(default=None, compare=False)  # gets each HTTP exchange


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str


ModuleFunction = Callable[["Context"], tuple[Status, str]]


@dataclass(frozen=True)
class Module:
    id: str
    plan: str
    summary: str
    run: ModuleFunction


@dataclass(frozen=True)
class Result:
    module: Module
    status: Status
    detail: str
    seconds: float

    def line(self) -> str:
        if self.status is Status.PASS or not self.detail:
            return f"{self.status.value} {self.module.id}"
        return f"{self.status.value} {self.module.id}: {self.detail}"


MODULES: list[Module] = []


def module(module_id: str, plan: str, summary: str) -> Callable[[ModuleFunction], ModuleFunction]:
    """Register a module function under its conformance-suite id, in plan order."""
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}")

    def register(function: ModuleFunction) -> ModuleFunction:
        if any(existing.id == module_id for existing in MODULES):
            raise ValueError(f"duplicate module id {module_id!r}")
        MODULES.append(Module(id=module_id, plan=plan, summary=summary, run=function))
        return function

    return register


def select_modules(plan: str = "all", only: str | None = None) -> list[Module]:
    """The modules of ``plan`` (``basic``, ``config``, ``logout``, ``device``, or ``all``: the three
    certification plans), or just ``only``."""
    if plan != "all" and plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}: choose one of {', '.join([*PLANS, 'all'])}")
    chosen = [m for m in MODULES if (m.plan in CERTIFICATION_PLANS if plan == "all" else m.plan == plan)]
    if only is not None:
        chosen = [m for m in chosen if m.id == only]
        if not chosen:
            raise ValueError(f"unknown module {only!r} (in plan {plan!r})")
    order = list(PLANS)
    return sorted(chosen, key=lambda m: order.index(m.plan))


def summary_line(results: Iterable[Result]) -> str:
    """``38 passed, 2 failed`` (WARN counts as passed), then ``, N skipped`` if any were skipped."""
    counts = Counter(result.status for result in results)
    line = f"{counts[Status.PASS] + counts[Status.WARN]} passed, {counts[Status.FAIL]} failed"
    if counts[Status.SKIP]:
        line += f", {counts[Status.SKIP]} skipped"
    return line
