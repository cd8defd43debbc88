"""Load: N concurrent clients for a fixed time, each step's latency and errors, server CPU per unit."""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict

import requests

from oidc_selftest.pkce import pkce_pair

from .client import CLIENT, TIMEOUT, authorization_url, code_exchange
from .server import cpu_seconds


class Recorder:
    """Latencies per step, errors, and a count of completed units."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.completed = 0

    def timed(self, step: str, call, ok=lambda r: r.status_code == 200):
        start = time.perf_counter()
        try:
            response = call()
            good = ok(response)
        except requests.RequestException:
            response, good = None, False
        elapsed = time.perf_counter() - start
        with self.lock:
            self.latencies[step].append(elapsed)
            if not good:
                self.errors[step] += 1
        return response if good else None


def full_flow(base: str, browser: requests.Session, api: requests.Session, rec: Recorder) -> bool:
    verifier, challenge = pkce_pair()
    response = rec.timed(
        "authorize",
        lambda: browser.get(authorization_url(base, challenge), allow_redirects=False, timeout=TIMEOUT),
        ok=lambda r: r.status_code == 302 and "code=" in r.headers.get("Location", ""),
    )
    if response is None:
        return False
    data = code_exchange(response, verifier)
    response = rec.timed("token", lambda: api.post(f"{base}/token", data=data, auth=CLIENT, timeout=TIMEOUT))
    if response is None:
        return False
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    if rec.timed("userinfo", lambda: api.get(f"{base}/userinfo", headers=bearer, timeout=TIMEOUT)) is None:
        return False
    return rec.timed("api", lambda: api.get(f"{base}/api/v1/me", headers=bearer, timeout=TIMEOUT)) is not None


def run_for(duration: float, concurrency: int, unit) -> tuple[int, float]:
    """Run ``unit(worker_index)`` in ``concurrency`` threads for ``duration`` s; count successes."""
    done = [0] * concurrency
    stop = time.monotonic() + duration

    def loop(index: int):
        while time.monotonic() < stop:
            if unit(index):
                done[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), time.monotonic() - start


def measure(pid: int, duration: float, concurrency: int, unit) -> dict:
    cpu_before = cpu_seconds(pid)
    count, elapsed = run_for(duration, concurrency, unit)
    cpu = cpu_seconds(pid) - cpu_before
    return {"count": count, "per_second": count / elapsed, "cpu_ms": 1000 * cpu / max(count, 1)}


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    q = statistics.quantiles(values, n=100)
    return f"{1000 * q[49]:7.2f} {1000 * q[94]:7.2f} {1000 * q[98]:7.2f}"


def measure_endpoint(pid: int, args, call) -> dict:
    sessions = [requests.Session() for _ in range(args.concurrency)]
    errors = [0]

    def unit(index: int) -> bool:
        response = call(sessions[index])
        if response.status_code != 200:
            errors[0] += 1
            return False
        return True

    for i in range(args.concurrency):
        unit(i)
    # The quietest of a few short windows: this VM's other tenants slow whole seconds at a time.
    rounds = [
        measure(pid, args.endpoint_duration / args.endpoint_rounds, args.concurrency, unit)
        for _ in range(args.endpoint_rounds)
    ]
    return min(rounds, key=lambda r: r["cpu_ms"]) | {"errors": errors[0]}
