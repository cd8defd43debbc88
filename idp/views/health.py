"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from ..keys import active_key


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """The database, the cache and an active signing key are all reachable: ready for traffic."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # any failure means "not ready"; the reason is for the logs, not the caller
        checks["database"] = "unavailable"
    try:
        cache.set("idp:readyz", "1", 5)
        checks["cache"] = "ok" if cache.get("idp:readyz") == "1" else "unavailable"
    except Exception:
        checks["cache"] = "unavailable"
    try:
        checks["signing_key"] = "ok" if active_key().has_private else "unavailable"
    except Exception:
        checks["signing_key"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
