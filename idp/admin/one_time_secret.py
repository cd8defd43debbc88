"""A new client secret, shown once: held minutes in the cache for the next page, never in the session."""

from __future__ import annotations

import secrets

from django.core.cache import cache

# The session key holding a reference (never the secret) between the POST that made a secret and
# the one page that shows it; the secret itself waits in the cache, deleted on first read.
ONE_TIME_SECRET = "idp_one_time_secret"  # noqa: S105  (a session key, not a secret)
ONE_TIME_SECRET_SECONDS = 300


def keep_one_time_secret(request, *, client, secret: str) -> None:
    """Hold a new secret for the next page of ``client`` only: minutes in the cache, never in the session."""
    reference = secrets.token_urlsafe(32)
    cache.set(f"idp:one-time-secret:{reference}", secret, timeout=ONE_TIME_SECRET_SECONDS)
    request.session[ONE_TIME_SECRET] = {"pk": client.pk, "ref": reference}


def take_one_time_secret(request, *, object_id: str) -> str | None:
    """The secret kept for ``object_id``'s page, once: the reference and the secret are deleted on read.

    None: nothing was kept for this page; "": a secret was kept but has expired from the cache.
    """
    held = request.session.get(ONE_TIME_SECRET)
    if not isinstance(held, dict) or str(held.get("pk")) != str(object_id) or request.method != "GET":
        return None
    del request.session[ONE_TIME_SECRET]
    key = f"idp:one-time-secret:{held.get('ref')}"
    secret = cache.get(key)
    cache.delete(key)
    return secret or ""
