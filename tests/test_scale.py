"""What keeps the provider fast with millions of rows: an index under every lookup, on SQLite and PostgreSQL.

Each lookup the flows and the cleanup make is run through the database's own planner (SQLite's
EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN (FORMAT JSON)) over tables filled the way a running
provider fills them, then ANALYZEd: PostgreSQL prefers a full scan of a nearly empty table, so an
empty database would prove nothing there. Every table a plan reads must be read through an index
with a condition on it (no full scan, no walk of a whole index), and the table a lookup is about
through an index on the column it filters by.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from functools import cache

import pytest
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from idp.cleanup import expired_selections
from idp.models import (
    AccessToken,
    Application,
    Consent,
    DeviceGrant,
    ExplorerRun,
    Grant,
    IDToken,
    RefreshToken,
)
from project.accounts.models import User

NOW = timezone.now()
BATCH = 1000  # CLEAR_EXPIRED_TOKENS_BATCH_SIZE's default

# How full the tables are: enough pages that a full scan costs PostgreSQL more than an index.
PEOPLE, CLIENTS, TOKENS = 2000, 500, 5000
# The share of rows each cleanup selection finds between two runs of a cleanup job that runs
# regularly (0.5%). With a backlog of more than about 1% PostgreSQL prefers to hash the other table
# of a NOT EXISTS once over probing its index row by row.
EXPIRED_EVERY = 200


def _sample_user():
    return User.objects.order_by("pk")[PEOPLE // 2]


def _sample_client():
    return Application.objects.order_by("pk")[CLIENTS // 2]


def _sample_token(model):
    return model.objects.order_by("pk")[TOKENS // 2]


# name -> (queryset, {table: the columns an index on it may lead with}). The querysets are the
# flows' own, as idp's modules write them; a table absent from the dict may be read through any
# index with a condition (a join by primary key).
LOOKUPS = {
    # The token endpoint, userinfo and the API (the compiled statements of the hot path).
    "access token by checksum": lambda: (
        AccessToken.objects.select_related("application", "user").filter(
            token_checksum=_sample_token(AccessToken).token_checksum
        )[:1],
        {"idp_accesstoken": {"token_checksum"}},
    ),
    "refresh token by checksum": lambda: (
        RefreshToken.objects.select_related("application", "user", "access_token")
        .filter(token_checksum=_sample_token(RefreshToken).token_checksum)
        .order_by("-pk")[:1],
        {"idp_refreshtoken": {"token_checksum"}},
    ),
    "code": lambda: (
        Grant.objects.select_related("user").filter(code=_sample_token(Grant).code)[:1],
        {"idp_grant": {"code"}},
    ),
    # The device grant (idp.device.codes): the device polling, the person typing the code.
    "device grant by device code": lambda: (
        DeviceGrant.objects.select_related("user").filter(device_code=_sample_token(DeviceGrant).device_code)[
            :1
        ],
        {"idp_devicegrant": {"device_code"}},
    ),
    "device grant by user code": lambda: (
        DeviceGrant.objects.select_related("application")
        .filter(user_code=_sample_token(DeviceGrant).user_code)
        .order_by("-pk")[:1],
        {"idp_devicegrant": {"user_code"}},
    ),
    "client by client_id": lambda: (
        Application.objects.filter(client_id=_sample_client().client_id)[:1],
        {"idp_application": {"client_id"}},
    ),
    "consent": lambda: (
        Consent.objects.filter(user_id=_sample_user().pk, application_id=_sample_client().pk)[:1],
        {"idp_consent": {"user_id", "application_id"}},
    ),
    "person by id": lambda: (User.objects.filter(pk=_sample_user().pk)[:1], {"idp_user": {"id"}}),
    # Reuse detection and revocation (idp.tokens, DOT's RefreshToken.revoke_family).
    "refresh token family": lambda: (
        RefreshToken.objects.filter(
            token_family=_sample_token(RefreshToken).token_family, revoked__isnull=True
        ),
        {"idp_refreshtoken": {"token_family"}},
    ),
    "reused refresh token": lambda: (
        RefreshToken.objects.filter(
            token_checksum=_sample_token(RefreshToken).token_checksum,
            revoked__isnull=False,
            application=_sample_client(),
        )
        .select_related("user")
        .order_by("pk")[:1],
        {"idp_refreshtoken": {"token_checksum"}},
    ),
    "a client's own token, to revoke": lambda: (
        AccessToken.objects.filter(
            token_checksum=_sample_token(AccessToken).token_checksum, application_id=_sample_client().pk
        ),
        {"idp_accesstoken": {"token_checksum"}},
    ),
    "a person's access tokens at a client": lambda: (
        AccessToken.objects.filter(user=_sample_user(), application=_sample_client()),
        {"idp_accesstoken": {"user_id", "application_id"}},
    ),
    "a person's live refresh tokens at a client": lambda: (
        RefreshToken.objects.filter(user=_sample_user(), application=_sample_client(), revoked__isnull=True),
        {"idp_refreshtoken": {"user_id", "application_id"}},
    ),
    # What deleting a token cascades to (and the cleanup's NOT EXISTS asks) for each row.
    "the refresh token of an access token": lambda: (
        RefreshToken.objects.filter(access_token_id=_sample_token(AccessToken).pk),
        {"idp_refreshtoken": {"access_token_id"}},
    ),
    "the access token of an ID token": lambda: (
        AccessToken.objects.filter(id_token_id=_sample_token(IDToken).pk),
        {"idp_accesstoken": {"id_token_id"}},
    ),
    # The flow explorer (idp.explorer): its middleware on /authorize, /login and /device, the callback.
    "the browser's run at the authorization server": lambda: (
        ExplorerRun.objects.filter(
            browser=_sample_token(ExplorerRun).browser,
            stage__in=(ExplorerRun.Stage.AUTHORIZING, ExplorerRun.Stage.DEVICE),
            expires__gt=NOW,
        )[:1],
        {"idp_explorerrun": {"browser"}},
    ),
    "the run of a callback": lambda: (
        ExplorerRun.objects.filter(
            browser=_sample_token(ExplorerRun).browser,
            state_hash=_sample_token(ExplorerRun).state_hash,
            stage=ExplorerRun.Stage.AUTHORIZING,
            expires__gt=NOW,
        )[:1],
        {"idp_explorerrun": {"browser", "state_hash"}},
    ),
    "a person's access tokens": lambda: (
        AccessToken.objects.filter(user=_sample_user()),
        {"idp_accesstoken": {"user_id"}},
    ),
}

# What `manage.py idp_cleartokens` selects (idp.cleanup.expired_selections), per selection: the
# columns the index on the selected table may lead with.
CLEANUP_INDEXES = {
    "revoked refresh tokens": {"idp_refreshtoken": {"revoked"}},
    "orphaned refresh tokens": {"idp_refreshtoken": {"access_token_id", "revoked"}},
    "idle refresh tokens": {"idp_accesstoken": {"expires"}, "idp_refreshtoken": {"access_token_id"}},
    "access tokens": {"idp_accesstoken": {"expires"}, "idp_refreshtoken": {"access_token_id"}},
    "ID tokens": {"idp_idtoken": {"expires"}, "idp_accesstoken": {"id_token_id"}},
    "codes": {"idp_grant": {"expires"}},
    "device grants": {"idp_devicegrant": {"expires"}},
    "explorer runs": {"idp_explorerrun": {"expires"}},
}


def cleanup_batches(now) -> dict[str, QuerySet]:
    """The statements idp.cleanup.delete_in_batches sends for each selection: the first batch and,
    where it walks an index, a later one (which starts where the one before ended)."""
    batches = {}
    for label, model, condition, walk_by in expired_selections(now=now):
        rows = model._default_manager.filter(condition)
        if walk_by is None:
            batches[label] = rows.values_list("pk", flat=True)[:BATCH]
            continue
        batches[label] = rows.order_by(walk_by, "pk").values_list(walk_by, "pk")[:BATCH]
        value, pk = now - timedelta(days=400), 1
        later = rows.filter(Q(**{f"{walk_by}__gt": value}) | Q(pk__gt=pk), **{f"{walk_by}__gte": value})
        batches[f"{label}, a later batch"] = later.order_by(walk_by, "pk").values_list(walk_by, "pk")[:BATCH]
    return batches


def _fill() -> None:
    """Rows as a running provider has them: most live, a few of each kind due for cleanup."""
    hour = timedelta(hours=1)
    people = User.objects.bulk_create(
        User(username=f"scale-{n}", email=f"scale-{n}@example.com", password="!") for n in range(PEOPLE)
    )
    clients = Application.objects.bulk_create(
        Application(
            client_id=f"scale-client-{n}",
            name=f"Client {n}",
            client_type="confidential",
            authorization_grant_type="authorization-code",
            redirect_uris=f"https://rp{n}.example.com/callback",
        )
        for n in range(CLIENTS)
    )

    def owner(n):
        return {"user": people[n % PEOPLE], "application": clients[n % CLIENTS]}

    def due(n):  # one in EXPIRED_EVERY is past its time, the rest are live
        return n % EXPIRED_EVERY == 0

    id_tokens = IDToken.objects.bulk_create(
        IDToken(**owner(n), jti=uuid.uuid4(), expires=NOW + (-hour if due(n) else hour))
        for n in range(TOKENS)
    )
    idle = timedelta(days=400)  # past any refresh token lifetime: the refresh token goes too

    def access_expires(n):
        return NOW + (hour if not due(n) else -idle if n % (2 * EXPIRED_EVERY) == 0 else -hour)

    access_tokens = AccessToken.objects.bulk_create(
        AccessToken(
            **owner(n),
            token="",
            token_checksum=uuid.uuid4().hex * 2,
            id_token=id_tokens[n] if n % 2 else None,
            expires=access_expires(n),
        )
        for n in range(TOKENS)
    )
    families = [uuid.uuid4() for _ in range(TOKENS // 4)]
    RefreshToken.objects.bulk_create(
        RefreshToken(
            **owner(n),
            token="",
            token_checksum=uuid.uuid4().hex * 2,
            token_family=families[n // 4],
            # A few orphans (their access token went out of band), a few revoked long ago.
            access_token=None if n % EXPIRED_EVERY == 1 else access_tokens[n],
            revoked=NOW - idle if n % EXPIRED_EVERY == 2 else None,
        )
        for n in range(TOKENS)
        if not (due(n) and access_expires(n) > NOW - idle)  # those access tokens had no refresh token
    )
    Grant.objects.bulk_create(
        Grant(
            **owner(n),
            code=uuid.uuid4().hex,
            expires=NOW + (-hour if due(n) else timedelta(minutes=1)),
            redirect_uri="https://rp.example.com/callback",
            code_challenge="x" * 43,
            code_challenge_method="S256",
        )
        for n in range(TOKENS)
    )
    Consent.objects.bulk_create(
        Consent(user=people[n], application=clients[n % CLIENTS], scopes="openid") for n in range(PEOPLE)
    )
    DeviceGrant.objects.bulk_create(
        DeviceGrant(
            **owner(n),
            client_id=f"client-{n % CLIENTS}",
            device_code=uuid.uuid4().hex * 2,
            user_code=uuid.uuid4().hex * 2,
            scope="openid",
            expires=NOW + (-hour if due(n) else timedelta(minutes=5)),
        )
        for n in range(TOKENS)
    )
    ExplorerRun.objects.bulk_create(
        ExplorerRun(
            browser=uuid.uuid4().hex * 2,
            state_hash=uuid.uuid4().hex * 2,
            flow="web",
            client_id=f"client-{n % CLIENTS}",
            stage=ExplorerRun.Stage.AUTHORIZING if n % 3 else ExplorerRun.Stage.ENDED,
            expires=NOW + (-hour if due(n) else timedelta(minutes=30)),
        )
        for n in range(TOKENS)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@pytest.fixture(scope="module")
def filled(django_db_setup, django_db_blocker):
    """The filled tables for every test of this module, rolled back after the last one."""
    with django_db_blocker.unblock(), transaction.atomic():
        _fill()
        yield
        transaction.set_rollback(True)


def _postgresql_reads(plan: dict) -> list[tuple[str, str | None]]:
    """(table, leading column of the index used, or None for a full read) for each table in a plan."""
    reads = []

    def leading_column(index_name: str) -> str:
        return index_columns()[index_name][0]

    def walk(node: dict) -> None:
        kind = node["Node Type"]
        if kind == "Seq Scan":
            reads.append((node["Relation Name"], None))
        elif kind in {"Index Scan", "Index Only Scan"}:
            # An index walked without a condition (only for its order) reads the whole table.
            used = leading_column(node["Index Name"]) if "Index Cond" in node else None
            reads.append((node["Relation Name"], used))
        elif kind == "Bitmap Heap Scan":
            for child in _descendants(node):
                if child["Node Type"] == "Bitmap Index Scan":
                    reads.append((node["Relation Name"], leading_column(child["Index Name"])))
            return
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return reads


def _descendants(node: dict):
    for child in node.get("Plans", []):
        yield child
        yield from _descendants(child)


# SQLite: "SEARCH idp_accesstoken USING INDEX name (token_checksum=?)", "SCAN idp_user",
# "SEARCH idp_user USING INTEGER PRIMARY KEY (rowid=?)", "SCAN idp_grant USING INDEX name" (a walk).
SQLITE_READ = re.compile(
    r"\b(?P<verb>SCAN|SEARCH) (?P<table>\w+)(?: AS \w+)?"
    r"(?: USING (?:COVERING )?(?:INDEX \S+|INTEGER PRIMARY KEY|PRIMARY KEY))?(?: \((?P<column>\w+)[^)]*\))?"
)
# A subquery's table is named by its alias in SQLite's plan: "idp_refreshtoken" U0.
SQL_ALIAS = re.compile(r'"(\w+)" (U\d+|T\d+)\b')


def _sqlite_reads(plan: str, sql: str) -> list[tuple[str, str | None]]:
    aliases = dict((alias, table) for table, alias in SQL_ALIAS.findall(sql))
    reads = []
    for line in plan.splitlines():
        found = SQLITE_READ.search(line)
        if found is None:
            continue
        table = aliases.get(found["table"], found["table"])
        if found["verb"] == "SCAN" or found["column"] is None:
            reads.append((table, None))
        else:
            reads.append((table, "id" if found["column"] == "rowid" else found["column"]))
    return reads


def table_reads(queryset) -> list[tuple[str, str | None]]:
    if connection.vendor == "postgresql":
        return _postgresql_reads(json.loads(queryset.explain(format="json"))[0]["Plan"])
    return _sqlite_reads(queryset.explain(), str(queryset.query))


@cache
def index_columns() -> dict[str, list[str]]:
    """Every index of the database by name, with its columns: PostgreSQL's plans name only the index."""
    columns = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for name, constraint in connection.introspection.get_constraints(cursor, table).items():
                if constraint["index"] or constraint["unique"] or constraint["primary_key"]:
                    columns[name] = constraint["columns"]
    return columns


def assert_indexed(queryset, expected: dict[str, set[str]]) -> None:
    """No table of the plan is read in full; each table of ``expected`` through an index leading with
    one of its columns."""
    reads = table_reads(queryset)
    plan = queryset.explain()
    assert reads, plan
    full = [table for table, column in reads if column is None]
    assert not full, f"full read of {full}:\n{plan}"
    for table, columns in expected.items():
        used = {column for read_table, column in reads if read_table == table}
        assert used and used <= columns, f"{table} read by {used or 'nothing'}, not {columns}:\n{plan}"


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("filled")]


@pytest.mark.parametrize("name", LOOKUPS)
def test_every_lookup_of_the_flows_uses_an_index(name):
    queryset, expected = LOOKUPS[name]()
    assert_indexed(queryset, expected)


@pytest.mark.parametrize(
    "name", [*CLEANUP_INDEXES, *(f"{label}, a later batch" for label in ("access tokens", "ID tokens"))]
)
def test_every_cleanup_batch_uses_an_index(name):
    batches = cleanup_batches(NOW)
    label = name.removesuffix(", a later batch")
    assert_indexed(batches[name], CLEANUP_INDEXES[label])


def test_the_cleanup_selections_are_the_ones_checked():
    """A selection added to idp.cleanup without an index check here fails this test."""
    assert [label for label, *_ in expired_selections(now=NOW)] == list(CLEANUP_INDEXES)


def test_the_tables_hold_what_the_cleanup_would_find():
    """The plans are read over filled tables: most rows live, a few of each kind due for cleanup."""
    due = {
        label: model._default_manager.filter(condition).count()
        for label, model, condition, _ in expired_selections(now=NOW)
    }
    assert all(0 < count < TOKENS // 10 for count in due.values()), due
    assert AccessToken.objects.count() == IDToken.objects.count() == Grant.objects.count() == TOKENS
    assert RefreshToken.objects.count() > TOKENS * 0.9
