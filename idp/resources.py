"""RFC 8707 resource indicators at the token endpoint: a token serves its code's resources, or fewer."""

from __future__ import annotations

from collections.abc import Callable

from oauthlib.oauth2.rfc6749 import errors


def narrow_to_code(request, *, grant, validate: Callable[[object, list[str]], None]) -> None:
    """Set the resources a token from ``grant`` serves: the requested ones, if the code has them all,
    else the code's own (checked with ``validate``). A code issued for none limits nothing.

    These are DOT's rules (``_check_and_set_request_resource``), given the Grant already loaded.
    """
    granted = (
        (grant.resource or []) if grant is not None and grant.application_id == request.client.pk else []
    )
    if not granted:
        return
    if not request.resource:
        validate(request, granted)
        request.resource = granted
        return
    for resource in request.resource:
        if resource not in granted:
            raise errors.CustomOAuth2Error(
                error="invalid_target",
                description=f"The requested resource '{resource}' is not allowed. Token request "
                "cannot escalate resource permissions beyond the original authorization grant",
                request=request,
            )
