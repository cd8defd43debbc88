"""The page a person sees when the provider fails: an apology and the request's reference."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.utils.html import escape

from ..context_processors import site
from ..logs import current_request_id

logger = logging.getLogger(__name__)

# When even the layout cannot be rendered (a broken template, settings or static storage).
FALLBACK_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Server error</title></head>"
    "<body><h1>Something went wrong</h1><p>Please try again later.</p>"
    "<p>reference: {reference}</p></body></html>"
)


def server_error(request: HttpRequest, template_name: str = "idp/server_error.html") -> HttpResponse:
    """``handler500``: the site's layout with the request id, rendered without context processors.

    Django's own ``server_error`` renders ``500.html`` with no context at all; this one adds the
    reference the person can quote, which is the ``request_id=`` of the traceback in the log and the
    ``X-Request-ID`` of the access log line. Nothing here reads the session, the user or the database.
    """
    reference = getattr(request, "request_id", None) or current_request_id() or "-"
    try:
        html = loader.render_to_string(template_name, {**site(request), "reference": reference})
    except Exception:
        logger.exception("The error page could not be rendered")
        html = FALLBACK_PAGE.format(reference=escape(reference))
    return HttpResponseServerError(html)
