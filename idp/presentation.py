"""What the pages show a person: scopes in plain words with their concrete claims, clients, connected apps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_access_token_model

from .claims import SCOPES, claim_values
from .db import lookups
from .models import Consent

# What a person is told a claim is, in the order a page lists them.
CLAIM_LABELS: dict[str, Any] = {
    "name": _("Name"),
    "given_name": _("Given name"),
    "middle_name": _("Middle name"),
    "family_name": _("Family name"),
    "nickname": _("Nickname"),
    "preferred_username": _("Username"),
    "picture": _("Picture"),
    "website": _("Website"),
    "gender": _("Gender"),
    "birthdate": _("Date of birth"),
    "zoneinfo": _("Time zone"),
    "locale": _("Language and region"),
    "email": _("Email address"),
    "phone_number": _("Phone number"),
    "address": _("Postal address"),
}

# One more sentence for scopes whose title alone does not say enough.
SCOPE_EXPLANATIONS: dict[str, Any] = {
    "openid": _("A random identifier for your account, the same each time. It tells nothing else about you."),
    "profile": _("Only what is filled in on your profile:"),
    "offline_access": _(
        "The app can keep using what you allow here while you are signed out, until you revoke its "
        "access under Connected apps. Without this, its access ends within an hour."
    ),
}

# Claims shown as part of another one (verified flags) or not meaningful to a person.
_NOT_SHOWN = {"sub", "updated_at", "email_verified", "phone_number_verified"}


@dataclass(frozen=True)
class Detail:
    """One concrete piece of information, e.g. ("Email address", "alice@example.com (verified)")."""

    label: str
    value: str
    name: str = ""


@dataclass(frozen=True)
class ScopeItem:
    """A scope as a person reads it: a title, maybe an explanation, and what it releases about them."""

    name: str
    title: str
    explanation: str = ""
    details: tuple[Detail, ...] = field(default_factory=tuple)


def _format_value(claim: str, value: Any, values: dict[str, Any]) -> str:
    if claim == "address":
        return ", ".join(line for line in value.get("formatted", "").splitlines() if line)
    text = str(value)
    verified = {"email": "email_verified", "phone_number": "phone_number_verified"}.get(claim)
    if verified and verified in values:
        text += " " + (gettext("(verified)") if values[verified] else gettext("(not verified)"))
    return text


def claim_details(user, claims: Iterable[str]) -> tuple[Detail, ...]:
    """The named claims about ``user`` that have a value, labelled and formatted for a person."""
    names = list(dict.fromkeys(claims))
    values = claim_values(user, names)
    return tuple(
        Detail(
            label=str(CLAIM_LABELS.get(claim, claim)),
            value=_format_value(claim, values[claim], values),
            name=claim,
        )
        for claim in names
        if claim in values and claim not in _NOT_SHOWN
    )


def describe_claims(user, claims: Iterable[str]) -> list[Detail]:
    """Individually requested claims (the ``claims`` parameter): each labelled, with its value if any."""
    names = [claim for claim in dict.fromkeys(claims) if claim not in _NOT_SHOWN]
    shown = {detail.name: detail for detail in claim_details(user, names)}
    return [
        shown.get(claim)
        or Detail(label=str(CLAIM_LABELS.get(claim, claim)), value=gettext("nothing on file"), name=claim)
        for claim in names
    ]


def _without_name_parts(details: tuple[Detail, ...]) -> tuple[Detail, ...]:
    """With the full name shown, its given and family parts only repeat it."""
    if not any(detail.name == "name" for detail in details):
        return details
    return tuple(detail for detail in details if detail.name not in {"given_name", "family_name"})


def describe_scopes(user, scopes: Iterable[str], *, brief: bool = False) -> list[ScopeItem]:
    """Each scope in plain language, with the concrete values it would release about ``user``.

    ``brief`` (the consent page) leaves out details that only repeat another one.
    """
    items = []
    for name in dict.fromkeys(scopes):
        spec = SCOPES.get(name)
        if spec is None:
            items.append(
                ScopeItem(name=name, title=gettext("Use the permission “%(scope)s”") % {"scope": name})
            )
            continue
        details = claim_details(user, spec["claims"])
        if brief:
            details = _without_name_parts(details)
        explanation = str(SCOPE_EXPLANATIONS.get(name, ""))
        if name == "profile" and not details:
            explanation = gettext("Your profile has nothing filled in yet.")
        items.append(
            ScopeItem(name=name, title=str(spec["description"]), explanation=explanation, details=details)
        )
    return items


def _web_link(uri: str) -> str:
    """``uri`` if it is an http(s) URL a page may link to, else "" (never ``javascript:`` and the like)."""
    parts = urlsplit(uri or "")
    return uri if parts.scheme in {"http", "https"} and parts.netloc else ""


@dataclass(frozen=True)
class ClientCard:
    """Who is asking: the client's name, its logo or initial, its links, and whether the operator vouches."""

    name: str
    initial: str
    logo_url: str
    links: tuple[Detail, ...]
    is_verified: bool


def client_card(application) -> ClientCard:
    """How a page presents ``application`` to a person."""
    name = application.name or application.client_id
    links = (
        (gettext("Home page"), application.client_uri),
        (gettext("Privacy policy"), application.policy_uri),
        (gettext("Terms of service"), application.tos_uri),
    )
    return ClientCard(
        name=name,
        initial=name[:1].upper(),
        logo_url=_web_link(application.logo_uri),
        links=tuple(Detail(label=label, value=url) for label, uri in links if (url := _web_link(uri))),
        is_verified=application.is_verified,
    )


def client_from_next(next_url: str) -> ClientCard | None:
    """The client a sign-in is for, when ``next`` is this provider's authorization endpoint."""
    parts = urlsplit(next_url or "")
    if parts.scheme or parts.netloc or parts.path != reverse("oauth2_provider:authorize"):
        return None
    client_id = parse_qs(parts.query).get("client_id", [""])[0]
    application = lookups.application(client_id)
    return client_card(application) if application is not None and application.is_active else None


@dataclass(frozen=True)
class ConnectedApp:
    """A client the person has allowed: what, since when, and when it last obtained a token."""

    application_id: int
    client: ClientCard
    scopes: list[ScopeItem]
    granted: datetime
    changed: datetime
    last_used: datetime | None

    @property
    def last_used_text(self) -> str:
        if self.last_used is None:
            return ""
        if timezone.now() - self.last_used < timedelta(minutes=1):
            return gettext("just now")
        return gettext("%(time)s ago") % {"time": timesince(self.last_used, depth=1)}


def connected_apps(user) -> list[ConnectedApp]:
    """Every client ``user`` has allowed, by name, with the time of its latest token for them."""
    latest_token = (
        get_access_token_model()
        .objects.filter(user=OuterRef("user"), application=OuterRef("application"))
        .order_by("-created")
        .values("created")[:1]
    )
    consents = (
        Consent.objects.filter(user=user)
        .select_related("application")
        .annotate(last_used=Subquery(latest_token))
        .order_by("application__name", "application__client_id")
    )
    return [
        ConnectedApp(
            application_id=consent.application_id,
            client=client_card(consent.application),
            scopes=describe_scopes(user, consent.scopes.split()),
            granted=consent.created,
            changed=consent.updated,
            last_used=consent.last_used,
        )
        for consent in consents
    ]


# Why an authorization request got an error page instead of a redirect, keyed by oauthlib error class.
_FATAL_ERROR_TEXT: dict[str, Any] = {
    "InvalidClientIdError": _(
        "The app that sent you here is not registered with this service, or it is disabled."
    ),
    "MissingClientIdError": _(
        "The app that sent you here did not say which app it is, so you were not sent back."
    ),
    "InvalidRedirectURIError": _(
        "The app asked to send you back to an address it has not registered, so you were not sent there."
    ),
    "MismatchingRedirectURIError": _(
        "The app asked to send you back to an address it has not registered, so you were not sent there."
    ),
    "MissingRedirectURIError": _("The app did not say where to send you back to, so you were not sent back."),
}


def authorization_error_text(error: Any) -> str:
    """A sentence for a person about an authorization request that cannot be answered by redirect."""
    text = _FATAL_ERROR_TEXT.get(type(error).__name__)
    return (
        str(text)
        if text
        else gettext("The sign-in request from the app was not valid, so you were not sent back.")
    )
