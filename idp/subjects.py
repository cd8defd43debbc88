"""``sub``: the one place that says which subject identifier a client sees for a person, and back.

Public (the default) is one value per person towards every client. Pairwise (OpenID Connect Core
§8.1) is one value per person and sector identifier: the host of the client's redirect URIs unless
the client names one, so that clients of unrelated sites cannot correlate a person. Every endpoint
that states a ``sub`` (ID tokens, userinfo, introspection, the API) asks ``sub_for``; whatever
reads one back (``id_token_hint``, the API's directory) asks ``sub_for`` or ``user_for_sub``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction

from .identifiers import is_identifier
from .subject_models import PairwiseSubject, Subject

PUBLIC = "public"
PAIRWISE = "pairwise"
SUBJECT_TYPES = (PUBLIC, PAIRWISE)


def sub_for(user, client) -> str:
    """The ``sub`` that ``client`` sees for ``user``, made on first need.

    The public value costs no query when ``user`` was read with its ``idp_subject`` joined (every
    token lookup of ``idp.db.lookups`` does that); a pairwise one is one indexed read.
    """
    if client is not None and getattr(client, "subject_type", PUBLIC) == PAIRWISE:
        return _pairwise_value(user, sector_of(client))
    return public_subject(user).value


def user_for_sub(sub: str, client):
    """The person whose ``sub`` towards ``client`` is ``sub``, or None."""
    if not isinstance(sub, str) or not is_identifier(sub):
        return None
    if client is not None and getattr(client, "subject_type", PUBLIC) == PAIRWISE:
        found = PairwiseSubject.objects.select_related("user").filter(value=sub, sector=sector_of(client))
    else:
        found = Subject.objects.select_related("user").filter(value=sub)
    row = found.first()
    return row.user if row is not None else None


def public_subject(user) -> Subject:
    """The person's public subject row, created the first time anyone needs it."""
    try:
        return user.idp_subject
    except ObjectDoesNotExist:
        pass
    subject = _get_or_create(Subject, user=user)
    user.idp_subject = subject
    return subject


def ensure_subject(sender, user, **kwargs) -> None:
    """``user_logged_in`` receiver: a person who signs in has a ``sub`` before any client asks for it.

    So the token endpoint, where it would otherwise be made, only reads it.
    """
    public_subject(user)


def sector_of(client) -> str:
    """The client's sector identifier: the one it registered, else its redirect URIs' host."""
    if client.sector_identifier:
        return client.sector_identifier
    hosts = redirect_hosts(client.redirect_uris)
    return hosts[0] if hosts else client.client_id


def redirect_hosts(redirect_uris: str) -> list[str]:
    """The distinct hosts of these redirect URIs, in order."""
    return list(dict.fromkeys(host for uri in redirect_uris.split() if (host := urlsplit(uri).hostname)))


def settle_sector(client) -> None:
    """A pairwise client's sector identifier, fixed when it is saved (OIDC Core §8.1).

    Derived from the redirect URIs' single host and then stored, so that adding a redirect URI later
    does not change every ``sub`` the client has seen. With several hosts it must be given.
    """
    if client.subject_type != PAIRWISE or client.sector_identifier:
        return
    hosts = redirect_hosts(client.redirect_uris)
    if len(hosts) != 1:
        raise ValidationError(
            {"sector_identifier": "Redirect URIs on several hosts: name this pairwise client's sector."}
        )
    client.sector_identifier = hosts[0]


def _pairwise_value(user, sector: str) -> str:
    known = user.__dict__.setdefault("_idp_pairwise", {})
    if sector not in known:
        value = (
            PairwiseSubject.objects.filter(user=user, sector=sector).values_list("value", flat=True).first()
        )
        known[sector] = value or _get_or_create(PairwiseSubject, user=user, sector=sector).value
    return known[sector]


def _get_or_create(model, **identity):
    """The row ``identity`` names, inserted if missing; a concurrent first need wins the race harmlessly."""
    try:
        with transaction.atomic():
            return model.objects.create(**identity)
    except IntegrityError:
        return model.objects.get(**identity)
