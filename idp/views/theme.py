"""The theme stylesheet: the configured brand colour, served as CSS so that no page needs inline style."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from ..branding import theme_css


def theme(request: HttpRequest) -> HttpResponse:
    """``:root`` custom properties from the IDP settings; cacheable (its URL changes with them)."""
    response = HttpResponse(theme_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
