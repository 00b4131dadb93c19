"""Small database helpers for the hot path, portable across PostgreSQL and SQLite.

:func:`in_condition` — a membership test that is one array parameter on PostgreSQL.

:func:`insert_or_skip` — ``INSERT ... ON CONFLICT (...) DO NOTHING RETURNING id`` for one row: a
duplicate is found without an exception, so no savepoint is needed to survive it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.db import connection, models
from django.utils import timezone


def in_condition(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """``column = ANY(%s)`` with one array on PostgreSQL (one constant statement text whatever the
    count, so its plan and the statement counters stay stable), ``column IN (%s, …)`` elsewhere.
    Returns the SQL condition and its parameters; ``values`` must not be empty."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def insert_or_skip(model: type[models.Model], values: dict[str, Any], *, unique: list[str]) -> models.Model | None:
    """Insert one row unless a row with the same ``unique`` columns exists. Returns the saved instance or None.

    ``values`` maps field names to Python values; fields not given take their model default
    (``auto_now``/``auto_now_add`` included). The caller is inside the transaction it wants.
    """
    instance = model(**values)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in values]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            field.pre_save(instance, add=True)
    columns, params = [], []
    for field in fields:
        columns.append(connection.ops.quote_name(field.column))
        params.append(field.get_db_prep_save(getattr(instance, field.attname), connection))
    table = connection.ops.quote_name(model._meta.db_table)
    conflict = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in unique)
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
           f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {pk}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if not row:
        return None
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return instance


_SIMPLE_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BigIntegerField,
                  models.SmallIntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
                  models.BooleanField, models.ForeignKey, models.DateTimeField)


@lru_cache(maxsize=256)
def _preparer(field: models.Field, vendor: str) -> Callable[[Any], Any]:
    """How one field's Python value becomes a query parameter, decided once per field.

    Plain columns go as they are (psycopg adapts them); JSON is wrapped for jsonb; anything else
    (custom fields such as the encrypted ones, SQLite's date text) takes the field's own
    ``get_db_prep_save``. The same result as Django's path, without its per-value overhead.
    """
    if vendor == "postgresql":
        if isinstance(field, models.JSONField):
            adapt, encoder = connection.ops.adapt_json_value, field.encoder
            return lambda value: None if value is None else adapt(value, encoder)
        if type(field) in _SIMPLE_FIELDS:
            return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


@lru_cache(maxsize=256)
def _relations(model: type[models.Model], names: tuple[str, ...] | None) -> tuple[models.Field, ...]:
    """The foreign keys among ``model``'s concrete fields (those named, when ``names`` is given)."""
    return tuple(f for f in model._meta.concrete_fields
                 if f.is_relation and (names is None or f.name in names))


def _related_ids_take(instance: models.Model, relations: tuple[models.Field, ...]) -> None:
    """Fill each foreign key id from its related instance saved since (an earlier bulk insert).

    What Django's ``Model._prepare_related_fields_for_save`` does, over the foreign keys alone:
    Django's walks every field and compares it with the saved ones (quadratic with ``fields``),
    which was a fifth of a timer batch's CPU. An unsaved related instance is refused as Django does.
    """
    for field in relations:
        if not field.is_cached(instance):
            continue
        related = field.get_cached_value(instance)
        if related is None:
            continue
        if related.pk is None:
            raise ValueError(f"save() prohibited to prevent data loss due to unsaved related object '{field.name}'.")
        target = getattr(related, field.target_field.attname)
        if getattr(instance, field.attname) in field.empty_values:
            setattr(instance, field.attname, target)
        elif target != getattr(instance, field.attname):
            field.delete_cached_value(instance)  # the id was changed by hand: the cached object is stale


_ARRAY_TYPES = {"jsonb": "jsonb[]", "timestamp with time zone": "timestamptz[]"}


def array_placeholder() -> str:
    """``%b`` (binary) for the column arrays when the server binds parameters, else ``%s``.

    psycopg's text format escapes every array element with a regular expression: for a batch of
    50 events that was a tenth of the inbound worker's CPU. The binary format copies the values
    as they are (measured: 1.0 → 0.2 ms for five 50-element columns). Client-side binding
    (``FLUXO_DB_SERVER_SIDE_BINDING=0``, for an old PgBouncer) cannot send binary, so it keeps text.
    """
    return "%b" if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") else "%s"


def _array_casts(fields: list[models.Field]) -> list[str]:
    """The PostgreSQL array type of each field's column, for ``unnest(%s::type[], …)``."""
    casts = []
    for field in fields:
        db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
        base = (db_type or "text").split("(")[0].strip() if "varchar" in (db_type or "") else (db_type or "text")
        casts.append(_ARRAY_TYPES.get(base, f"{base}[]"))
    return casts


def insert_rows(model: type[models.Model], instances: list[models.Model]) -> None:
    """Insert ``instances`` with one statement and set their ids: a lean ``bulk_create`` for the hot path.

    Field values are prepared as Django would (``pre_save`` for ``auto_now_add``, JSON for jsonb,
    custom fields through their own ``get_db_prep_save``), and foreign keys are taken from related
    instances inserted earlier (the unit of work inserts parents first). On PostgreSQL the rows go
    as one array per column (``INSERT … SELECT * FROM unnest(…)``): a query of constant text,
    whatever the number of rows, that the driver converts once; elsewhere as ``VALUES`` rows.
    """
    if not instances:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    vendor = connection.vendor
    preparers = [_preparer(f, vendor) for f in fields]
    rows: list[list[Any]] = []
    relations = _relations(model, None)
    for instance in instances:
        _related_ids_take(instance, relations)
        rows.append([prepare(field.pre_save(instance, add=True)) for field, prepare in zip(fields, preparers,
                                                                                          strict=True)])
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    pk = connection.ops.quote_name(meta.pk.column)
    if vendor == "postgresql" and len(instances) > 1:
        casts, mark = _array_casts(fields), array_placeholder()
        names = [f"c{i}" for i in range(len(fields))]
        sql = (f"INSERT INTO {table} ({columns}) SELECT {', '.join(names)} FROM unnest("
               f"{', '.join(f'{mark}::{c}' for c in casts)}) WITH ORDINALITY AS u({', '.join(names)}, n) ORDER BY n "
               f"RETURNING {pk}")
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(instances))} RETURNING {pk}"
        params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for instance, new_id in zip(instances, ids, strict=True):
        instance.pk = new_id
        instance._state.adding, instance._state.db = False, connection.alias


def insert_rows_or_skip(model: type[models.Model], instances: list[models.Model], *, unique: str) -> list[models.Model]:
    """Insert ``instances`` with one statement, skipping those whose ``unique`` column value exists (or
    repeats an earlier instance of the list). Returns the inserted ones, their ids set. PostgreSQL only
    (``INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING RETURNING``); the caller falls back to
    :func:`insert_or_skip` elsewhere. Values are prepared as :func:`insert_rows` prepares them.
    """
    if not instances:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    preparers = [_preparer(f, connection.vendor) for f in fields]
    rows = []
    relations = _relations(model, None)
    for instance in instances:
        _related_ids_take(instance, relations)
        rows.append([prepare(field.pre_save(instance, add=True)) for field, prepare in zip(fields, preparers,
                                                                                          strict=True)])
    quote = connection.ops.quote_name
    key = meta.get_field(unique)
    casts, mark = _array_casts(fields), array_placeholder()
    names = [f"c{i}" for i in range(len(fields))]
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
           f"SELECT {', '.join(names)} FROM unnest({', '.join(f'{mark}::{c}' for c in casts)}) WITH ORDINALITY "
           f"AS u({', '.join(names)}, n) ORDER BY n ON CONFLICT ({quote(key.column)}) DO NOTHING "
           f"RETURNING {quote(meta.pk.column)}, {quote(key.column)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        ids = dict((value, pk) for pk, value in cursor.fetchall())
    inserted = []
    for instance in instances:
        pk = ids.pop(getattr(instance, key.attname), None)  # the first instance of a value is the inserted one
        if pk is not None:
            instance.pk = pk
            instance._state.adding, instance._state.db = False, connection.alias
            inserted.append(instance)
    return inserted


def update_row(instance: models.Model, fields: list[str]) -> None:
    """``UPDATE … SET … WHERE id = …`` for one instance's fields (``auto_now`` fields refreshed)."""
    meta = instance._meta
    targets = [meta.get_field(name) for name in fields]
    _related_ids_take(instance, _relations(type(instance), tuple(fields)))
    targets += [f for f in meta.concrete_fields if getattr(f, "auto_now", False) and f not in targets]
    sets, params = [], []
    for field in targets:
        value = field.pre_save(instance, add=False)
        sets.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    params.append(instance.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {', '.join(sets)} "
                       f"WHERE {connection.ops.quote_name(meta.pk.column)} = %s", params)


def update_rows(model: type[models.Model], instances: list[models.Model], names: list[str]) -> None:
    """Save the fields ``names`` of several rows of one table with one statement: a lean ``bulk_update``.

    On PostgreSQL ``UPDATE … FROM unnest(ids, values…)``: one array per column, a query of
    constant text, instead of Django's ``CASE WHEN id = … THEN …`` per row and field, whose SQL
    compilation costs milliseconds per row. ``auto_now`` fields are refreshed as ``save()`` would;
    values are prepared by :func:`_preparer`, as for inserts. Elsewhere Django's ``bulk_update``.
    """
    if not instances:
        return
    meta = model._meta
    targets = [meta.get_field(name) for name in names]
    now = None
    for field in targets:
        if getattr(field, "auto_now", False):
            now = now or timezone.now()
            for instance in instances:
                setattr(instance, field.attname, now)
    if connection.vendor != "postgresql":
        model.objects.bulk_update(instances, names, batch_size=500)
        return
    preparers = [_preparer(f, connection.vendor) for f in targets]
    relations = _relations(model, tuple(names))
    for instance in instances:
        _related_ids_take(instance, relations)
    pk = meta.pk
    columns = [pk, *targets]
    casts, mark = _array_casts(columns), array_placeholder()
    params = [[instance.pk for instance in instances]]
    for field, prepare in zip(targets, preparers, strict=True):
        params.append([prepare(getattr(instance, field.attname)) for instance in instances])
    quote = connection.ops.quote_name
    names_sql = [f"c{i}" for i in range(len(columns))]
    sets = ", ".join(f"{quote(field.column)} = u.c{i + 1}" for i, field in enumerate(targets))
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM unnest({', '.join(f'{mark}::{c}' for c in casts)}) "
           f"AS u({', '.join(names_sql)}) WHERE t.{quote(pk.column)} = u.c0")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
