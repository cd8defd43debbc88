"""Template context for every page: the site's name and logo (``idp_site``)."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest

from .branding import logo_url, theme_css
from .conf import idp_settings


def site(request: HttpRequest) -> dict:
    """``idp_site``: the site's name, logo URL and the version of its theme stylesheet."""
    return {
        "idp_site": {
            "name": idp_settings.SITE_NAME,
            "logo_url": logo_url(idp_settings.SITE_LOGO),
            "theme_version": hashlib.sha256(theme_css().encode()).hexdigest()[:12],
        }
    }
