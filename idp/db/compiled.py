"""Statements compiled to SQL once per process instead of once per request: reads and INSERTs.

Compiling a queryset costs more CPU than running it: a token lookup joined to its client and
person spends ~0.5 ms building SQL from the ORM's expression tree and ~0.1 ms at the database.
A ``CompiledQuery`` is written as an ordinary queryset whose parameters are placeholders; it is
compiled on first use for each database alias, and then each call only substitutes the values,
executes the SQL (through Django's cursor, so query logging and ``CaptureQueriesContext`` still
see it) and builds model instances exactly as a queryset would, ``select_related`` included.
``first_by_orm`` runs the same queryset through the ORM, so the two cannot drift apart.

Placeholders are strings (checksums, codes, client IDs) or integers (primary keys): their prepared
database value is the value itself on every backend, so a caller's value can stand in for them. A
value of another type, or a string that cannot be an identifier (``idp.identifiers``: a NUL byte,
a lone surrogate, an overlong string), matches nothing and is never sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from ..identifiers import is_identifier


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    positions: tuple[tuple[int, int], ...]  # (index in params, index of the caller's value)
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list
    converters: dict
    compiler: Any


class _CompiledPerAlias:
    """A statement for ``model`` (or a function returning it), compiled once per database alias."""

    def __init__(self, model: type[Model] | Callable[[], type[Model]]):
        self._model = model
        self._compiled: dict[str, Any] = {}

    @property
    def model(self) -> type[Model]:
        return self._model if isinstance(self._model, type) else self._model()

    def _compiled_for(self, alias: str, *args: Any) -> Any:
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._compile(alias, *args)
        return compiled

    def _compile(self, alias: str, *args: Any) -> Any:
        raise NotImplementedError


class CompiledQuery(_CompiledPerAlias):
    """``build(*placeholders)`` returns the queryset; ``first(*values)`` runs it with real values.

    ``kinds`` are the placeholders' types, in order: ``str`` or ``int`` (``object``: any value the
    ORM converts, for a query only ever run by ``first_by_orm``).
    """

    def __init__(
        self,
        model: type[Model] | Callable[[], type[Model]],
        build: Callable[..., QuerySet],
        kinds: tuple[type, ...] = (str,),
    ):
        super().__init__(model)
        self._build = build
        self._kinds = kinds

    def _compile(self, alias: str) -> _Compiled:
        # An integer mark fits every integer column (-32768 is a SmallIntegerField's least value):
        # Django answers a value out of a column's range with EmptyResultSet, not SQL.
        marks = [
            -(2**15) + i if kind is int else f"\x1fidp-placeholder-{i}\x1f"
            for i, kind in enumerate(self._kinds)
        ]
        queryset = self._build(*marks).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        positions = tuple((i, marks.index(p)) for i, p in enumerate(params) if p in marks)
        if sorted(j for _, j in positions) != list(range(len(marks))):
            raise ValueError("Every placeholder must appear as a parameter of the compiled query.")
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            positions=positions,
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, alias),
            converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
            compiler=compiler,
        )

    def can_match(self, *values: object) -> bool:
        """Whether ``values`` could name a row: one per placeholder, of its kind, strings identifiers.

        A NUL byte, say, would make psycopg refuse the query (a 500) where nothing can match.
        """
        return len(values) == len(self._kinds) and all(
            is_identifier(value) if kind is str else type(value) is int if kind is int else value is not None
            for value, kind in zip(values, self._kinds, strict=True)
        )

    def all(self, *values: str | int) -> list[Model]:
        if not self.can_match(*values):
            return []
        alias = router.db_for_read(self.model)
        compiled = self._compiled_for(alias)
        params = list(compiled.params)
        for index, value_index in compiled.positions:
            params[index] = values[value_index]
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        objects = []
        for row in rows:
            obj = compiled.model.from_db(alias, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def first(self, *values: str | int) -> Model | None:
        found = self.all(*values)
        return found[0] if found else None

    def first_by_orm(self, *values: str | int) -> Model | None:
        """What ``first`` returns, through the ORM: the same queryset, compiled for this call."""
        if not self.can_match(*values):
            return None
        found = list(self._build(*values))
        return found[0] if found else None


class CompiledInsert(_CompiledPerAlias):
    """``obj.save()`` for a new row of ``model``, with the INSERT compiled once per database alias.

    Values are prepared per row exactly as the ORM prepares them (``pre_save`` fills ``auto_now``
    fields, ``get_db_prep_save`` adapts JSON, UUIDs and datetimes), and the primary key comes back
    through ``RETURNING``. Where that fast path would change behaviour (a ``pre_save``/``post_save``
    receiver for the model, an inherited model, a primary key set by the caller, or a database
    without ``RETURNING``) it is plain ``obj.save()``.
    """

    def _compile(self, alias: str, obj: Model) -> tuple[str, list]:
        from django.db.models import sql

        opts = self.model._meta
        fields = [field for field in opts.local_concrete_fields if not field.generated]
        if opts.pk.db_returning:
            fields = [field for field in fields if field is not opts.pk]
        query = sql.InsertQuery(self.model)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = opts.db_returning_fields
        ((statement, _params),) = compiler.as_sql()
        return statement, fields

    def save(self, obj: Model) -> Model:
        from django.db.models.signals import post_save, pre_save

        model = self.model
        alias = router.db_for_write(model, instance=obj)
        connection = connections[alias]
        if (
            not connection.features.can_return_columns_from_insert
            or model._meta.parents
            or obj.pk is not None
            or pre_save.has_listeners(model)
            or post_save.has_listeners(model)
        ):
            obj.save(using=alias)
            return obj
        statement, fields = self._compiled_for(alias, obj)
        params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            returned = cursor.fetchone()
        for field, value in zip(model._meta.db_returning_fields, returned or (), strict=False):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = alias
        return obj
