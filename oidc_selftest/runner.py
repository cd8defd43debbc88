"""The self-test's entry points: select modules of the registered plans, run them within the time budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from . import plans  # noqa: F401 - registers every module of every plan, in plan order
from .context import Context, Shared
from .registry import (
    MODULES,
    PLANS,
    CheckFailed,
    Config,
    Module,
    ModuleSkipped,
    Result,
    Status,
    select_modules,
    summary_line,
)

__all__ = [
    "MODULES",
    "PLANS",
    "Config",
    "Module",
    "Result",
    "Status",
    "run_selftest",
    "select_modules",
    "summary_line",
]


def run_selftest(
    config: Config,
    modules: Iterable[Module] | None = None,
    report: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run ``modules`` (default: all) one after the other within ``config.max_time`` seconds."""
    budget = config.max_time + (30.0 if config.slow else 0.0)
    deadline = time.monotonic() + budget
    shared = Shared()
    results: list[Result] = []
    for mod in list(MODULES if modules is None else modules):
        started = time.monotonic()
        if started >= deadline:
            status, detail = Status.FAIL, f"not run: the overall time limit of {budget:.0f} s was reached"
        else:
            ctx = Context(config, deadline, shared)
            status, detail = _run_one(ctx, mod)
        result = Result(mod, status, detail, time.monotonic() - started)
        results.append(result)
        if report is not None:
            report(result)
    return results


def _run_one(ctx: Context, mod: Module) -> tuple[Status, str]:
    try:
        status, detail = mod.run(ctx)
    except CheckFailed as exc:
        status, detail = Status.FAIL, str(exc)
    except ModuleSkipped as exc:
        status, detail = Status.SKIP, str(exc)
    except Exception as exc:  # a harness bug must not hide the other modules' results
        status, detail = Status.FAIL, f"harness error: {type(exc).__name__}: {exc}"
    finally:
        ctx.close()
    if status is Status.PASS and ctx.warnings:
        status, detail = Status.WARN, "; ".join(ctx.warnings)
    return status, ctx.scrub(detail)
