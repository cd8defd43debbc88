"""The rows every flow reads and writes, as plain functions over the statements of ``idp.db.compiled``.

Each read is one queryset, written once below: compiled once per process when
``IDP["COMPILED_QUERIES"]`` is on (the default), run through the ORM when it is off. Either way a
value that cannot name a row (``None``, a NUL byte, an overlong string) returns None without a query.
Nothing is remembered between calls: a disabled client or a rotated secret takes effect at once.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)

from ..conf import idp_settings
from ..models import Consent
from .compiled import CompiledInsert, CompiledQuery

_ACCESS_TOKEN = CompiledQuery(
    get_access_token_model,
    lambda checksum: (
        get_access_token_model()
        .objects.select_related("application", "user", "user__idp_subject")
        .filter(token_checksum=checksum)[:1]
    ),
)
_REFRESH_TOKEN = CompiledQuery(
    get_refresh_token_model,
    lambda checksum: (
        get_refresh_token_model()
        .objects.select_related("application", "user", "user__idp_subject", "access_token")
        .filter(token_checksum=checksum)
        .order_by("-pk")[:1]
    ),
)
_GRANT = CompiledQuery(
    get_grant_model,
    lambda code: get_grant_model().objects.select_related("user", "user__idp_subject").filter(code=code)[:1],
)
_APPLICATION = CompiledQuery(
    get_application_model,
    lambda client_id: get_application_model().objects.filter(client_id=client_id)[:1],
)


def _consent(user_id, application_id):
    return Consent.objects.filter(user_id=user_id, application_id=application_id)[:1]


def _user(pk):
    return get_user_model().objects.select_related("idp_subject").filter(pk=pk)[:1]


_CONSENT = CompiledQuery(Consent, _consent, kinds=(int, int))
_USER = CompiledQuery(get_user_model, _user, kinds=(int,))

# The same reads for a user model whose primary key is not an integer (only ever run by the ORM).
_INTEGER_FIELDS = frozenset(
    {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField"}
)
_CONSENT_BY_ORM = CompiledQuery(Consent, _consent, kinds=(object, int))
_USER_BY_ORM = CompiledQuery(get_user_model, _user, kinds=(object,))

# One compiled INSERT per model, made on its first save.
_INSERTS: dict[type[Model], CompiledInsert] = {}


def _first(query: CompiledQuery, *values):
    return query.first(*values) if idp_settings.COMPILED_QUERIES else query.first_by_orm(*values)


def access_token(checksum: str):
    """The access token stored under ``checksum``, with its client and person, or None."""
    return _first(_ACCESS_TOKEN, checksum)


def refresh_token(checksum: str):
    """The newest refresh token stored under ``checksum``, with its client, person and access token."""
    return _first(_REFRESH_TOKEN, checksum)


def grant(code: str):
    """The authorization code ``code``, with its person, or None."""
    return _first(_GRANT, code)


def application(client_id: str):
    """The client with this ``client_id`` (active or not), or None."""
    return _first(_APPLICATION, client_id)


def consent(user_id, application_id: int) -> Consent | None:
    """What the person ``user_id`` has allowed the client ``application_id``, or None."""
    if not _int_user_pk():
        return _CONSENT_BY_ORM.first_by_orm(user_id, application_id)
    return _first(_CONSENT, user_id, application_id)


def user(pk):
    """The person with this primary key (active or not), or None; ``pk`` as a session stores it.

    An integer key is read through the compiled statement; any other (a UUID, say) through the ORM,
    which converts it: the compiled statements bind integers and strings only.
    """
    User = get_user_model()
    try:
        pk = User._meta.pk.to_python(pk)
    except (TypeError, ValueError, ValidationError):
        return None
    if not _int_user_pk():
        return _USER_BY_ORM.first_by_orm(pk) if pk is not None else None
    return _first(_USER, pk)


def _int_user_pk() -> bool:
    return get_user_model()._meta.pk.get_internal_type() in _INTEGER_FIELDS


def insert(obj: Model) -> Model:
    """Save the new row ``obj`` (``obj.save()``, with its INSERT compiled once per model); return it."""
    if not idp_settings.COMPILED_QUERIES:
        obj.save()
        return obj
    statement = _INSERTS.get(type(obj))
    if statement is None:
        statement = _INSERTS[type(obj)] = CompiledInsert(type(obj))
    return statement.save(obj)
