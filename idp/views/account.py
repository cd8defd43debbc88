"""A person's own pages: the apps they connected (with revoke) and the claims apps can receive."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from oauth2_provider.models import get_application_model

from ..claims import SCOPES
from ..consent import revoke_consent
from ..presentation import client_card, connected_apps, describe_scopes


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
