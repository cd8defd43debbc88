"""Remembered consent: what a person already allowed a client, the one decision, recording and revoking."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from .audit import Event, record
from .claims import claim_names_for
from .db import lookups
from .models import Consent
from .tokens import revoke_tokens


@dataclass(frozen=True)
class ConsentNeed:
    """What a request asks for, split into what was already allowed and what is new."""

    granted_scopes: tuple[str, ...]
    new_scopes: tuple[str, ...]
    new_claims: tuple[str, ...]

    @property
    def satisfied(self) -> bool:
        return not self.new_scopes and not self.new_claims


def consent_need(user, application, *, scopes: Iterable[str], claims: Iterable[str] = ()) -> ConsentNeed:
    """Compare a request's scopes and individually requested claims with the stored consent."""
    consent = lookups.consent(user.pk, application.pk)
    allowed_scopes = set(consent.scopes.split()) if consent else set()
    allowed_claims = set(consent.claims.split()) if consent else set()
    scopes = list(dict.fromkeys(scopes))
    released = set(claim_names_for(allowed_scopes | set(scopes)))
    return ConsentNeed(
        granted_scopes=tuple(s for s in scopes if s in allowed_scopes),
        new_scopes=tuple(s for s in scopes if s not in allowed_scopes),
        new_claims=tuple(c for c in dict.fromkeys(claims) if c not in allowed_claims and c not in released),
    )


class Outcome(enum.Enum):
    """What an authorization request gets from the person's side."""

    SILENT = "silent"  # a code, without a page
    PAGE = "page"  # the consent page
    CONSENT_REQUIRED = "consent_required"  # the page is needed, but prompt=none forbids it


@dataclass(frozen=True)
class Decision:
    """The consent decision for one request, the scopes it is about and the need it was made from."""

    outcome: Outcome
    scopes: tuple[str, ...]
    need: ConsentNeed


def decide(
    user, application, *, scopes: Iterable[str], claims: Iterable[str], prompt: Iterable[str]
) -> Decision:
    """The consent decision, the only one: ``offline_access``, stored consent, first-party clients, prompt.

    ``offline_access`` needs the person's explicit consent, asked for this time (OIDC Core 11):
    without ``prompt=consent`` it is left out of the request. A first-party client
    (``skip_authorization``) counts as allowed everything it may ask for, but ``prompt=consent``
    still shows the page (OIDC Core 3.1.2.1), as for any client.
    """
    prompt = set(prompt)
    if "consent" not in prompt:
        scopes = [scope for scope in scopes if scope != "offline_access"]
    need = consent_need(user, application, scopes=scopes, claims=claims)
    if "consent" not in prompt and (need.satisfied or application.skip_authorization):
        outcome = Outcome.SILENT
    else:
        outcome = Outcome.CONSENT_REQUIRED if "none" in prompt else Outcome.PAGE
    return Decision(outcome, scopes=tuple(scopes), need=need)


def record_consent(
    user, application, *, scopes: Iterable[str], claims: Iterable[str] = (), request=None
) -> Consent:
    """Add these scopes and claims to what ``user`` allowed ``application`` (never removes any)."""
    with transaction.atomic():
        consent, _ = Consent.objects.select_for_update().get_or_create(
            user=user, application=application, defaults={"scopes": ""}
        )
        merged_scopes = " ".join(dict.fromkeys([*consent.scopes.split(), *scopes]))
        merged_claims = " ".join(dict.fromkeys([*consent.claims.split(), *claims]))
        if (merged_scopes, merged_claims) != (consent.scopes, consent.claims):
            consent.scopes, consent.claims = merged_scopes, merged_claims
            consent.save(update_fields=["scopes", "claims", "updated"])
            record(
                Event.CONSENT_GRANTED,
                actor=user,
                client=application,
                request=request,
                scope=merged_scopes,
                claims=merged_claims,
            )
    return consent


def revoke_consent(user, application, *, actor=None, request=None) -> bool:
    """Forget the consent and revoke every token ``application`` holds for ``user``.

    ``actor`` is who revoked it, when not the person themselves (an operator).
    """
    with transaction.atomic():
        deleted, _ = Consent.objects.filter(user=user, application=application).delete()
        revoke_tokens(user=user, client=application)
        if deleted:
            record(
                Event.CONSENT_REVOKED,
                actor=actor or user,
                client=application,
                request=request,
                user=user.get_username(),
            )
    return bool(deleted)
