"""The rows every flow reads and writes, through statements compiled once (``idp.queries``).

A client is read at most once per request: DOT's validator, the consent view and the redirect all
ask for it, and within one request it cannot meaningfully change (a save clears the memo anyway).
Nothing is kept between requests, so a disabled client or a rotated secret takes effect at once.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib.auth import get_user_model
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from .models import AuditEvent, Consent
from .queries import CompiledInsert, CompiledQuery

ACCESS_TOKEN = CompiledQuery(
    get_access_token_model,
    lambda checksum: (
        get_access_token_model()
        .objects.select_related("application", "user")
        .filter(token_checksum=checksum)[:1]
    ),
)
REFRESH_TOKEN = CompiledQuery(
    get_refresh_token_model,
    lambda checksum: (
        get_refresh_token_model()
        .objects.select_related("application", "user", "access_token")
        .filter(token_checksum=checksum)
        .order_by("-pk")[:1]
    ),
)
GRANT = CompiledQuery(
    get_grant_model, lambda code: get_grant_model().objects.select_related("user").filter(code=code)[:1]
)
APPLICATION = CompiledQuery(
    get_application_model,
    lambda client_id: get_application_model().objects.filter(client_id=client_id)[:1],
)
Application = get_application_model()

CONSENT = CompiledQuery(
    Consent,
    lambda user_id, application_id: Consent.objects.filter(user_id=user_id, application_id=application_id)[
        :1
    ],
    kinds=(int, int),
)
USER = CompiledQuery(get_user_model, lambda pk: get_user_model().objects.filter(pk=pk)[:1], kinds=(int,))

# The clients read during the current request, by client_id; None outside a request.
_clients: ContextVar[dict | None] = ContextVar("idp_request_clients", default=None)


def start_request(**kwargs) -> None:
    _clients.set({})


def end_request(**kwargs) -> None:
    _clients.set(None)


def forget_clients(**kwargs) -> None:
    """A client was saved or deleted: drop what this request remembered."""
    if _clients.get() is not None:
        _clients.set({})


def application(client_id) -> object | None:
    """The client with this ``client_id`` (active or not), or None."""
    if not isinstance(client_id, str) or not client_id:
        return None
    memo = _clients.get()
    if memo is not None and client_id in memo:
        return memo[client_id]
    found = APPLICATION.first(client_id)
    if memo is not None:
        memo[client_id] = found
    return found


INSERT_GRANT = CompiledInsert(get_grant_model)
INSERT_ID_TOKEN = CompiledInsert(get_id_token_model)
INSERT_ACCESS_TOKEN = CompiledInsert(get_access_token_model)
INSERT_REFRESH_TOKEN = CompiledInsert(get_refresh_token_model)
INSERT_AUDIT_EVENT = CompiledInsert(AuditEvent)
