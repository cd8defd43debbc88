"""A person's own pages: the apps they connected (with revoke), where they are signed in, and their claims."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from oauth2_provider.models import get_application_model

from ..browser_sessions import (
    current_sid,
    end_browser_session,
    end_sessions_of,
    live_sessions,
    start_browser_session,
    touch,
)
from ..claims import SCOPES
from ..consent import revoke_consent
from ..identifiers import is_identifier
from ..presentation import client_card, connected_apps, describe_scopes
from ..session_models import BrowserSession
from ..user_agents import describe_methods, describe_user_agent


@never_cache
@login_required
def connected_apps_page(request):
    """Every client the person allowed: scopes, since when, last used; each with a Revoke button."""
    return render(request, "idp/connected_apps.html", {"apps": connected_apps(request.user)})


@never_cache
@login_required
@require_POST
def revoke(request, application_id: int):
    """Forget the consent and revoke the client's tokens for this person."""
    application = get_object_or_404(get_application_model(), pk=application_id)
    name = client_card(application).name
    if revoke_consent(request.user, application):
        messages.success(request, _("%(name)s can no longer access your account.") % {"name": name})
    else:
        messages.info(request, _("%(name)s had no access to revoke.") % {"name": name})
    return redirect("idp:connected-apps")


@never_cache
@login_required
def profile(request):
    """What apps can receive about the person, scope by scope, with the values on file."""
    scopes = [name for name in SCOPES if name != "offline_access"]
    return render(request, "idp/profile.html", {"scopes": describe_scopes(request.user, scopes)})


@never_cache
@login_required
def sessions_page(request):
    """Where the person is signed in: each live browser session, this one first, each with Sign out."""
    if not current_sid(request):  # signed in before the index, or this session was ended under it
        start_browser_session(request, user=request.user)
        request.session.save()  # live_sessions reads the store: it must hold the new sid already
    touch(request)
    current = current_sid(request)
    rows = sorted(live_sessions(request.user), key=lambda row: row.sid != current)
    sessions = [
        {
            "sid": row.sid,
            "device": describe_user_agent(row.user_agent),
            "address": row.ip_address,
            "created": row.created,
            "last_active": row.last_active,
            "methods": describe_methods(row.amr.split()),
            "apps": sorted(client_card(client).name for client in row.clients.all()),
            "current": row.sid == current,
        }
        for row in rows
    ]
    return render(request, "idp/sessions.html", {"sessions": sessions, "others": len(sessions) > 1})


@never_cache
@login_required
@require_POST
def end_session(request, sid: str):
    """Sign out one of the person's own sessions (this one: signed out here, as /logout does)."""
    if not is_identifier(sid, max_length=BrowserSession._meta.get_field("sid").max_length):
        raise Http404  # a NUL byte would make PostgreSQL refuse the query: a 500
    row = get_object_or_404(BrowserSession, sid=sid, user=request.user, ended__isnull=True)
    if row.sid == current_sid(request):
        logout(request)  # ends the session row, and owes its apps a logout (browser_sessions)
        return redirect("idp:login")
    end_browser_session(row, reason="ended by the person", actor=request.user, request=request)
    messages.success(request, _("That session is signed out."))
    return redirect("idp:sessions")


@never_cache
@login_required
@require_POST
def end_other_sessions(request):
    """Sign out every other session of the person (``everywhere``: this one too)."""
    everywhere = request.POST.get("everywhere") == "1"
    count = end_sessions_of(
        request.user, reason="signed out everywhere", actor=request.user, request=request,
        keep_sid=current_sid(request),
    )  # fmt: skip
    if everywhere:
        logout(request)
        return redirect("idp:login")
    text = ngettext(
        "Signed out of %(count)d other session.", "Signed out of %(count)d other sessions.", count
    )
    messages.success(request, text % {"count": count})
    return redirect("idp:sessions")
