"""JSON error bodies for every API failure: ``{"error": code, "error_description": text}``."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("idp.api")

# DRF's exception codes, renamed where OAuth (RFC 6749/6750) has a name for the same thing.
ERROR_CODES = {
    "invalid": "invalid_request",
    "parse_error": "invalid_request",
    "permission_denied": "access_denied",
}


def error_body(exc: exceptions.APIException, request) -> dict:
    """The JSON body for ``exc``: an OAuth error code, a description, and the details DRF has."""
    oauth2_error = getattr(request, "oauth2_error", None) or {}
    if isinstance(exc, exceptions.NotAuthenticated) and oauth2_error:  # a token was sent, and is bad
        return {
            "error": oauth2_error.get("error", "invalid_token"),
            "error_description": str(oauth2_error.get("error_description", "The access token is invalid.")),
        }
    if isinstance(exc.detail, dict | list):
        return {
            "error": "invalid_request",
            "error_description": "The request is invalid.",
            "invalid_params": exc.detail,
        }
    code = getattr(exc.detail, "code", None) or exc.default_code
    body = {"error": ERROR_CODES.get(code, code), "error_description": str(exc.detail)}
    if getattr(exc, "scope", None):
        body["scope"] = exc.scope
    return body


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's handler (status, WWW-Authenticate, Retry-After), with OAuth-shaped JSON bodies; never HTML."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.error("Unhandled error in the API", exc_info=exc)
        response = Response(
            {"error": "server_error", "error_description": "Something went wrong on our side."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    else:
        response.data = error_body(exc, context.get("request"))
    response["Cache-Control"] = "no-store"
    return response
