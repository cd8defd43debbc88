"""The pages a person sees when a request is refused or the provider fails: what happened, and a reference."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseServerError
from django.template import loader
from django.utils.html import escape

from ..context_processors import site
from ..logs import current_request_id

logger = logging.getLogger(__name__)

# When even the layout cannot be rendered (a broken template, settings or static storage).
FALLBACK_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Server error</title></head>"
    "<body><h1>Something went wrong</h1><p>Please go back and try again later.</p>"
    "<p>reference: {reference}</p></body></html>"
)


def server_error(request: HttpRequest, template_name: str = "idp/server_error.html") -> HttpResponse:
    """``handler500``: the site's layout with the request id, rendered without context processors.

    Django's own ``server_error`` renders ``500.html`` with no context at all; this one adds the
    reference the person can quote, which is the ``request_id=`` of the traceback in the log and the
    ``X-Request-ID`` of the access log line. Nothing here reads the session, the user or the database.
    """
    return HttpResponseServerError(_page(request, template_name))


def _page(request: HttpRequest, template_name: str) -> str:
    """The page in the site's layout with the request's reference; a bare one if even that fails."""
    reference = getattr(request, "request_id", None) or current_request_id() or "-"
    try:
        return loader.render_to_string(template_name, {**site(request), "reference": reference})
    except Exception:
        logger.exception("The error page could not be rendered (%s)", template_name)
        return FALLBACK_PAGE.format(reference=escape(reference))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a page in the site's layout with the reference, without Django's CSRF check.

    Django's ``bad_request`` view is wrapped in ``requires_csrf_token``, which reads ``request.POST``
    again: for a body Django could not read (a form declared in a charset other than UTF-8, a broken
    multipart body) that raises once more, and the person got a 500 instead of a 400.
    """
    return HttpResponseBadRequest(_page(request, "idp/bad_request.html"))
