"""idp.db: each compiled lookup and INSERT does exactly what its ORM queryset or ``save()`` does.

The suite runs on SQLite and on PostgreSQL (CI runs it on both), so these comparisons run on both.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from operator import attrgetter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    set_token_value,
)

from idp.db import lookups
from idp.models import AuditEvent, Consent, Subject
from idp.tokens import checksum
from project.accounts.models import User
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

AccessToken = get_access_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()

ACCESS = "access-token-value-" + "a" * 24
REFRESH = "refresh-token-value-" + "r" * 24
CODE = "authorization-code-" + "c" * 24
# JSON a token carries, with what JSON columns get wrong: nesting, null, non-ASCII, numbers.
CLAIMS = {"userinfo": {"email": {"essential": True}, "name": None}, "id_token": {"acr": {"values": ["é", 2]}}}
RESOURCE = ["https://api.example.com/", "https://other.example.com/v1"]
# Values that name no row: a NUL byte (PostgreSQL refuses the query), a lone surrogate (not UTF-8),
# longer than any identifier, empty, and not a string at all.
HOSTILE = ["abc\x00def", "abc\ud800", "x" * 256, "", None, 42, b"bytes"]


def fields(obj) -> dict:
    """Every concrete field of ``obj`` as (type, value), so a str for a UUID or a naive datetime differs."""
    return {f.attname: (type(v), v) for f in obj._meta.concrete_fields for v in [getattr(obj, f.attname)]}


def orm(settings):
    """Run the lookups through the ORM (``IDP["COMPILED_QUERIES"] = False``) from here on."""
    settings.IDP = {**getattr(settings, "IDP", {}), "COMPILED_QUERIES": False}


@pytest.fixture
def rows(db):
    """A person, a client, a code, an ID token, an access token and its refresh token, and a consent."""
    now = timezone.now()
    person = UserFactory(username="compiled", birthdate=date(1990, 2, 3), nickname="Ünïcode")
    subject = Subject.objects.create(user=person)
    client = ApplicationFactory(client_id="compiled-client", allowed_origins="https://spa.example.com")
    grant = Grant.objects.create(
        user=person,
        application=client,
        code=CODE,
        expires=now + timedelta(minutes=1),
        redirect_uri="https://rp.example.com/callback",
        scope="openid email",
        claims='{"userinfo": {"email": null}}',
        resource=RESOURCE,
        auth_time=now - timedelta(minutes=5),
        amr="pwd",
        token_family=uuid.uuid4(),
    )
    id_token = IDToken.objects.create(
        user=person, application=client, jti=uuid.uuid4(), expires=now + timedelta(hours=1), scope="openid"
    )
    access = AccessToken(
        user=person,
        application=client,
        id_token=id_token,
        expires=now + timedelta(hours=1),
        scope="openid email",
        resource=RESOURCE,
        claims=CLAIMS,
    )
    set_token_value(access, ACCESS)
    access.save()
    refresh = RefreshToken(
        user=person,
        application=client,
        access_token=access,
        token_family=uuid.uuid4(),
        resource=RESOURCE,
        auth_time=now - timedelta(minutes=5),
        amr="pwd otp",
        claims=CLAIMS,
    )
    set_token_value(refresh, REFRESH)
    refresh.save()
    consent = Consent.objects.create(user=person, application=client, scopes="openid email", claims="name")
    return {
        "user": person,
        "client": client,
        "grant": grant,
        "access": access,
        "refresh": refresh,
        "consent": consent,
        "subject": subject,
    }


def looked_up(lookup, *args, related: tuple[str, ...] = ()):
    """``lookup(*args)`` in one query, then its ``related`` objects touched without another."""
    with CaptureQueriesContext(connection) as ctx:
        found = lookup(*args)
    assert len(ctx.captured_queries) == 1
    with CaptureQueriesContext(connection) as ctx:
        touched = {name: fields(attrgetter(name)(found)) for name in related}
    assert ctx.captured_queries == []
    return fields(found), touched


def reference(queryset, related: tuple[str, ...] = ()):
    found = queryset.get()
    return fields(found), {name: fields(attrgetter(name)(found)) for name in related}


# Each lookup, its arguments from the rows above, the queryset it stands for, and what it joins.
CASES = {
    "access_token": (
        lambda r: (checksum(ACCESS),),
        lambda r: AccessToken.objects.filter(pk=r["access"].pk),
        ("application", "user", "user.idp_subject"),
    ),
    "refresh_token": (
        lambda r: (checksum(REFRESH),),
        lambda r: RefreshToken.objects.filter(pk=r["refresh"].pk),
        ("application", "user", "user.idp_subject", "access_token"),
    ),
    "grant": (
        lambda r: (CODE,),
        lambda r: Grant.objects.filter(pk=r["grant"].pk),
        ("user", "user.idp_subject"),
    ),
    "application": (
        lambda r: ("compiled-client",),
        lambda r: type(r["client"]).objects.filter(pk=r["client"].pk),
        (),
    ),
    "consent": (
        lambda r: (r["user"].pk, r["client"].pk),
        lambda r: Consent.objects.filter(pk=r["consent"].pk),
        (),
    ),
    "user": (lambda r: (r["user"].pk,), lambda r: User.objects.filter(pk=r["user"].pk), ("idp_subject",)),
}


@pytest.mark.parametrize("name", CASES)
def test_lookup_returns_what_the_orm_returns(rows, settings, name):
    args, queryset, related = CASES[name]
    lookup = getattr(lookups, name)
    compiled = looked_up(lookup, *args(rows), related=related)
    expected = reference(queryset(rows), related)
    assert compiled == expected
    orm(settings)
    assert looked_up(lookup, *args(rows), related=related) == expected


def test_lookups_keep_uuids_json_and_aware_datetimes(rows):
    token = lookups.refresh_token(checksum(REFRESH))
    assert token.token_family == rows["refresh"].token_family and isinstance(token.token_family, uuid.UUID)
    assert token.claims == CLAIMS and token.resource == RESOURCE
    assert token.auth_time == rows["refresh"].auth_time and token.auth_time.tzinfo is not None
    assert token.access_token.id_token_id == rows["access"].id_token_id
    assert token.user.idp_subject == rows["subject"] and token.user.nickname == "Ünïcode"
    grant = lookups.grant(CODE)
    assert grant.resource == RESOURCE and grant.expires == rows["grant"].expires


def test_refresh_token_lookup_takes_the_newest_of_a_checksum(rows):
    """Rotated-away rows may share a checksum; the lookup, like its queryset, takes the newest."""
    newer = RefreshToken(user=rows["user"], application=rows["client"], token_family=uuid.uuid4())
    set_token_value(newer, REFRESH)
    newer.save()
    assert lookups.refresh_token(checksum(REFRESH)).pk == newer.pk


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "orm"])
@pytest.mark.parametrize("name", CASES)
def test_missing_row_is_none(db, settings, name, compiled):
    if not compiled:
        orm(settings)
    args = (10**9, 10**9) if name == "consent" else (10**9,) if name == "user" else ("no-such-" + name,)
    with CaptureQueriesContext(connection) as ctx:
        assert getattr(lookups, name)(*args) is None
    assert len(ctx.captured_queries) == 1


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "orm"])
@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize("name", ["access_token", "refresh_token", "grant", "application", "user"])
def test_a_value_that_names_no_row_is_none_without_a_query(rows, settings, name, value, compiled):
    """No query at all, so PostgreSQL never sees a NUL byte (psycopg would raise: a 500)."""
    if not compiled:
        orm(settings)
    if name == "user" and value == 42:
        value = "4x2"  # a primary key as a session stores it, converted by the pk field: not one
    with CaptureQueriesContext(connection) as ctx:
        assert getattr(lookups, name)(value) is None
    assert ctx.captured_queries == []


def test_consent_lookup_wants_integer_keys(rows):
    with CaptureQueriesContext(connection) as ctx:
        assert lookups.consent(str(rows["user"].pk), rows["client"].pk) is None
        assert lookups.consent(rows["user"].pk, None) is None
    assert ctx.captured_queries == []


# --- inserts ---------------------------------------------------------------------------------------


def new_rows(person, client) -> dict:
    """One unsaved row of each model the hot path inserts, the same values each time it is called."""
    now = timezone.now().replace(microsecond=123456)
    family = uuid.UUID("0b7a1c0e-0000-4000-8000-000000000001")
    access = AccessToken(
        user=person, application=client, expires=now, scope="openid", resource=RESOURCE, claims=CLAIMS
    )
    set_token_value(access, "insert-access-" + uuid.uuid4().hex)
    refresh = RefreshToken(
        user=person, application=client, token_family=family, resource=RESOURCE, auth_time=now, claims=CLAIMS
    )
    set_token_value(refresh, "insert-refresh-" + uuid.uuid4().hex)
    return {
        "grant": Grant(
            user=person,
            application=client,
            code="insert-code-" + uuid.uuid4().hex,
            expires=now,
            redirect_uri="https://rp.example.com/callback",
            scope="openid",
            claims="{}",
            resource=RESOURCE,
            auth_time=now,
            token_family=family,
        ),
        "id_token": IDToken(user=person, application=client, jti=family, expires=now, scope="openid"),
        "access": access,
        "refresh": refresh,
        "event": AuditEvent(
            event=AuditEvent.Event.TOKEN_ISSUED,
            actor=person,
            actor_name=person.username,
            client=client,
            client_identifier=client.client_id,
            ip_address="2001:db8::1",
            details=CLAIMS,
        ),
    }


# Set by the database or differing by design between two rows: the key, the unique values, and
# the times save() takes itself (compared for being aware and recent instead).
DIFFERENT = {"id", "code", "token", "token_checksum", "jti", "created", "updated", "time"}


def stored(obj) -> dict:
    again = type(obj).objects.get(pk=obj.pk)
    for name in ("created", "updated", "time"):
        if hasattr(again, name):
            moment = getattr(again, name)
            assert moment.tzinfo is not None and abs(timezone.now() - moment) < timedelta(minutes=1)
    return {name: value for name, value in fields(again).items() if name not in DIFFERENT}


@pytest.mark.parametrize("kind", ["grant", "id_token", "access", "refresh", "event"])
def test_compiled_insert_stores_what_save_stores(rows, kind):
    person, client = rows["user"], rows["client"]
    by_save = new_rows(person, client)[kind]
    if kind == "id_token":
        by_save.jti = uuid.uuid4()  # unique
    by_save.save()
    compiled = new_rows(person, client)[kind]
    with CaptureQueriesContext(connection) as ctx:
        assert lookups.insert(compiled) is compiled
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT"]
    assert compiled.pk is not None and compiled.pk != by_save.pk and not compiled._state.adding
    assert stored(compiled) == stored(by_save)
    if kind in ("access", "refresh"):
        assert type(compiled).objects.filter(token_checksum=compiled.token_checksum).exists()


def test_insert_without_compiled_queries_is_save(rows, settings):
    orm(settings)
    by_save = new_rows(rows["user"], rows["client"])["event"]
    by_save.save()
    event = new_rows(rows["user"], rows["client"])["event"]
    assert lookups.insert(event) is event and event.pk is not None
    assert stored(event) == stored(by_save)
