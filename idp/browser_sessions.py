"""The session index: start, link, touch and end browser sessions, in either session store."""

from __future__ import annotations

import ipaddress
import secrets
import time
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .audit import Event, client_address, record
from .conf import idp_settings
from .logout.outbox import enqueue_logouts
from .session_models import BrowserSession, SessionClient
from .sessions import AMR_KEY, SID_KEY
from .tokens.revoke import revoke_session_refresh_tokens

CLIENTS_KEY = "idp_sid_clients"  # client pks already linked to this session: one INSERT per client
SEEN_KEY = "idp_sid_seen"  # when "last active" was last written (epoch seconds)
ROW_KEY = "idp_sid_row"  # the BrowserSession's primary key: linking a client needs no read


def _session_store(session_key: str | None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def _valid_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None  # a proxy's header that is not an address


def start_browser_session(request: HttpRequest, *, user) -> BrowserSession:
    """A sign-in: keep this browser's sid when it is the same person signing in again, else a new one."""
    sid = request.session.get(SID_KEY)
    row = BrowserSession.objects.filter(sid=sid, user=user, ended__isnull=True).first() if sid else None
    if request.session.session_key is None:
        request.session.save()  # the store's key, to end this session from elsewhere
    fields = {
        "session_key": request.session.session_key or "",
        "last_active": timezone.now(),
        "amr": " ".join(request.session.get(AMR_KEY, [])),
    }
    if row is not None:
        BrowserSession.objects.filter(pk=row.pk).update(**fields)
        request.session[ROW_KEY] = row.pk
        return row
    row = BrowserSession.objects.create(
        sid=secrets.token_urlsafe(32),
        user=user,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        ip_address=_valid_address(client_address(request)),
        **fields,
    )
    request.session[SID_KEY] = row.sid
    request.session[ROW_KEY] = row.pk
    request.session[CLIENTS_KEY] = []
    request.session[SEEN_KEY] = int(time.time())
    return row


def note_client(request: HttpRequest, client) -> None:
    """``client`` is being given a code in this session: link them, once per session and client.

    The first code for a client in a session costs one INSERT (and the session store's write: no query
    with the cache backend); every later one, nothing. A session signed in before the index existed
    gets its row here.
    """
    user = getattr(request, "user", None)
    if client is None or user is None or not user.is_authenticated:
        return
    if not request.session.get(SID_KEY):
        start_browser_session(request, user=user)
    linked = request.session.get(CLIENTS_KEY) or []
    if client.pk in linked:
        touch(request)
        return
    row_id = request.session.get(ROW_KEY)
    if row_id is None:
        row_id = (
            BrowserSession.objects.filter(sid=request.session[SID_KEY]).values_list("pk", flat=True).first()
        )
    if row_id is None:
        return
    link = SessionClient(session_id=row_id, application=client)
    SessionClient.objects.bulk_create([link], ignore_conflicts=True)  # a lost race: already linked
    request.session[CLIENTS_KEY] = [*linked, client.pk]
    touch(request)


def touch(request: HttpRequest) -> None:
    """Write this session's "last active" (and store key), at most every ``SESSION_ACTIVITY_INTERVAL``."""
    sid = request.session.get(SID_KEY)
    now = int(time.time())
    if not sid or now - int(request.session.get(SEEN_KEY) or 0) < idp_settings.SESSION_ACTIVITY_INTERVAL:
        return
    request.session[SEEN_KEY] = now
    BrowserSession.objects.filter(sid=sid, ended__isnull=True).update(
        last_active=timezone.now(), session_key=request.session.session_key or ""
    )


def current_sid(request: HttpRequest) -> str:
    """This browser session's sid, or ""."""
    return request.session.get(SID_KEY) or "" if hasattr(request, "session") else ""


def live_sessions(user) -> list[BrowserSession]:
    """``user``'s sessions still alive in the session store; those it has forgotten (expired) end quietly."""
    alive = []
    for row in BrowserSession.objects.filter(user=user, ended__isnull=True).prefetch_related("clients"):
        data = _session_store(row.session_key).load() if row.session_key else {}
        if data.get(SID_KEY) == row.sid:
            alive.append(row)
        else:
            BrowserSession.objects.filter(pk=row.pk, ended__isnull=True).update(ended=timezone.now())
    return alive


def end_browser_session(row: BrowserSession, *, reason: str, actor=None, request=None) -> bool:
    """End one session: drop it from the store, revoke what its clients' policy ends, and owe every client
    that got tokens in it a logout token (delivered by ``idp_deliver_logouts``); recorded once.

    False if it had already ended (nothing is sent twice).
    """
    with transaction.atomic():
        if not BrowserSession.objects.filter(pk=row.pk, ended__isnull=True).update(ended=timezone.now()):
            return False
        own = request is not None and hasattr(request, "session") and request.session.get(SID_KEY) == row.sid
        if row.session_key and not own:
            _session_store(row.session_key).delete()
        if own:  # this browser may stay signed in (a password change here): a new sid at its next use
            for key in (SID_KEY, ROW_KEY, CLIENTS_KEY, SEEN_KEY):
                request.session.pop(key, None)
        clients = list(row.clients.all())
        revoked = revoke_session_refresh_tokens(
            row.sid, clients=[client for client in clients if client.logout_ends_offline_access]
        )
        owed = enqueue_logouts(user=row.user, sid=row.sid, clients=clients)
        record(
            Event.SESSION_ENDED, actor=actor, request=request, user=row.user.get_username(), sid=row.sid,
            reason=reason, clients=[client.client_id for client in clients], logouts=owed, revoked=revoked,
        )  # fmt: skip
    return True


def end_sessions_of(user, *, reason: str, actor=None, request=None, keep_sid: str = "") -> int:
    """End every session of ``user`` (but ``keep_sid``); return how many ended."""
    rows = BrowserSession.objects.filter(user=user, ended__isnull=True).exclude(sid=keep_sid or None)
    return sum(end_browser_session(row, reason=reason, actor=actor, request=request) for row in rows)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    """``user_logged_out`` receiver: signing out here (or at a relying party) ends this session."""
    sid = current_sid(request) if request is not None else ""
    if not sid or user is None:
        return
    row = BrowserSession.objects.filter(sid=sid, user=user).select_related("user").first()
    if row is not None:
        end_browser_session(row, reason="signed out", actor=user, request=request)


def hinted_sid(id_token_hint: str | None, *, user) -> str:
    """The ``sid`` of an ``id_token_hint`` issued here (already validated by the logout view), or ""."""
    from .id_tokens import verified_claims

    claims = verified_claims(id_token_hint) if id_token_hint and user is not None else None
    sid = claims.get("sid") if claims else None
    return sid if isinstance(sid, str) else ""


def end_hinted_session(sid: str, *, user, request) -> bool:
    """RP-initiated logout named a session by ``sid``: end it if it is ``user``'s and not this browser's
    (this one ends with ``logout()``)."""
    if not sid or user is None or sid == current_sid(request):
        return False
    row = BrowserSession.objects.filter(sid=sid, user=user, ended__isnull=True).select_related("user").first()
    if row is None:
        return False
    return end_browser_session(row, reason="logout at a relying party", actor=user, request=request)


def forget_old_sessions(*, now=None) -> int:
    """Delete the records of sessions ended, or idle past the session lifetime, more than
    ``IDP['SESSION_RECORD_RETENTION_DAYS']`` ago, with their finished logout deliveries."""
    from .logout.models import LogoutDelivery

    now = now or timezone.now()
    cutoff = now - timedelta(days=idp_settings.SESSION_RECORD_RETENTION_DAYS)
    idle = cutoff - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    label = BrowserSession._meta.label
    _, ended = BrowserSession.objects.filter(ended__lt=cutoff).delete()
    _, stale = BrowserSession.objects.filter(ended__isnull=True, last_active__lt=idle).delete()
    LogoutDelivery.objects.filter(delivered__lt=cutoff).delete()
    LogoutDelivery.objects.filter(given_up__lt=cutoff).delete()
    return ended.get(label, 0) + stale.get(label, 0)  # the links went with them
