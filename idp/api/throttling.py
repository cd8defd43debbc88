"""Request rates per client and per person, from ``IDP["API_THROTTLE_RATES"]``.

Each limit is a window that opens with the first request counted in it (GitHub's REST API limits
work the same way): ``1200/minute`` lets 1,200 requests through, then answers 429 with the
window's remaining seconds in ``Retry-After``. On a Redis cache that loads Lua scripts (a backend
with ``script(source)`` returning redis-py's ``Script``, like the project's) a request makes one
round trip for all of a view's limits: one script increments every counter and reads its time to
live, atomically, so concurrent requests are all counted. DRF's own ``SimpleRateThrottle`` reads
and rewrites a pickled list of timestamps per limit, two round trips each, and loses counts when
requests race.
"""

from __future__ import annotations

import logging
import math
import time

from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from ..conf import idp_settings

logger = logging.getLogger("idp.api")

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"1200/minute"`` as (1200, 60); None for no limit. Raises ValueError for anything else."""
    if rate is None:
        return None
    count, _, period = str(rate).partition("/")
    if not count.strip().isdigit() or not period.strip() or period.strip()[0] not in PERIODS:
        raise ValueError(f"{rate!r} is not a rate like '1200/minute' (periods: second, minute, hour, day)")
    return int(count), PERIODS[period.strip()[0]]


class WindowThrottle(BaseThrottle):
    """One limit: ``scope`` names its rate in the settings; ``ident`` says whom a request counts for."""

    scope = ""

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def rate(self) -> tuple[int, int] | None:
        # Read on every request, so ``override_settings`` just works.
        return parse_rate(idp_settings.API_THROTTLE_RATES.get(self.scope))

    def allow_request(self, request, view) -> bool:
        self._wait = check(request, [self])
        return self._wait is None

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def check(request, throttles) -> float | None:
    """Counts the request against every limit that applies; the seconds to wait if one is exceeded."""
    counted = []
    for throttle in throttles:
        rate, ident = throttle.rate(), throttle.ident(request)
        if rate is not None and ident is not None:
            counted.append((f"idp_api_throttle:{throttle.scope}:{ident}", *rate))
    # An unreachable cache serves the request rather than fail it (the token itself was checked
    # against the database).
    waits = [ttl for _, ttl in exceeded_limits(counted, what="API limits")]
    return max(waits) if waits else None


def named_limits(prefix: str, rates: dict | None, idents: dict[str, object]) -> list[tuple[str, int, int]]:
    """The ``(key, limit, period)`` of each limit in ``rates`` (name to rate) that applies to the
    request: one per identity in ``idents`` (name to identity; None or empty: not counted), keyed
    ``prefix:name:identity``, for ``exceeded_limits``."""
    rates = rates or {}
    return [
        (f"{prefix}:{name}:{ident}", *rate)
        for name, ident in idents.items()
        if ident not in (None, "") and (rate := parse_rate(rates.get(name))) is not None
    ]


def exceeded_limits(counted: list[tuple[str, int, int]], *, what: str) -> list[tuple[str, int]]:
    """Count one hit on each ``(key, limit, period)``; the ``(key, seconds left)`` of those now over.

    One round trip for all of them. An unreachable cache counts nothing and lets the request
    through: ``what`` names the limits in the warning the operator sees.
    """
    if not counted:
        return []
    try:
        windows = _count([key for key, _, _ in counted], [period for _, _, period in counted])
    except RedisError:
        logger.warning("%s not counted: the cache is unreachable", what, exc_info=True)
        return []
    return [(key, ttl) for (key, limit, _), (hits, ttl) in zip(counted, windows, strict=True) if hits > limit]


# For each key: add one, start its window if it has none, and answer [hits, seconds left].
_COUNT_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    ttl = tonumber(ARGV[i])
    redis.call('EXPIRE', key, ttl)
  end
  out[#out + 1] = hits
  out[#out + 1] = ttl
end
return out
"""


def _count(keys: list[str], periods: list[int]) -> list[tuple[int, int]]:
    """(hits so far, seconds until the window closes) for each key, after counting this request."""
    backend = caches["default"]
    if callable(getattr(backend, "script", None)):
        # A Redis cache that loads Lua scripts (project.cache.RedisCache): one round trip.
        script = backend.script(_COUNT_SCRIPT)
        flat = script(keys=[backend.make_and_validate_key(key) for key in keys], args=periods)
        return [(int(flat[i]), max(int(flat[i + 1]), 1)) for i in range(0, len(flat), 2)]
    return [_count_in_cache(backend, key, period) for key, period in zip(keys, periods, strict=True)]


def _count_in_cache(cache, key: str, period: int) -> tuple[int, int]:
    # Any other cache (the in-process one of a single-process development server, or a Redis cache
    # without ``script(source)``): the window's closing time is kept beside the count, two round
    # trips per limit. Not atomic across processes, like DRF's throttles.
    now = time.time()
    closes, hits = cache.get(key) or (0.0, 0)
    if closes <= now:
        closes, hits = now + period, 0
    hits += 1
    seconds_left = math.ceil(closes - now)
    cache.set(key, (closes, hits), timeout=seconds_left)
    return hits, max(seconds_left, 1)


class ClientRateThrottle(WindowThrottle):
    """Limits the requests made with all the tokens of one client."""

    scope = "client"

    def ident(self, request) -> str | None:
        return None if request.auth is None else str(request.auth.application_id)


class PersonRateThrottle(WindowThrottle):
    """Limits the requests made on behalf of one person, whichever client makes them."""

    scope = "user"

    def ident(self, request) -> str | None:
        if request.auth is None or request.user is None or not request.user.is_authenticated:
            return None
        return str(request.user.pk)
