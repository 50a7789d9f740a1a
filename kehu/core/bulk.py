"""Inserting many rows at once, for imports (CUS-8): what ``bulk_create`` does, without its per-value cost.

``QuerySet.bulk_create`` compiles every value of every row through the field's full save path, which
for a 50-column customer costs more than the database's own work. Here each column's conversion is
chosen once per call — none for text, numbers, booleans and keys; the database's adapter for dates,
times, decimals and JSON — and the rows go in as multi-row ``INSERT … RETURNING id`` statements (SQLite
≥ 3.35 and PostgreSQL), so the objects get their primary keys like ``bulk_create`` gives them.

Only for plain new rows: no signals, no ``save()`` (Kehu puts no logic in either), defaults must already
be on the objects (they are, from the model's constructor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

# SQLite allows 32,766 parameters per statement; PostgreSQL 65,535.
MAX_PARAMETERS = 30_000


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    plain = (
        models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey,
        models.BigIntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
    )  # fmt: skip
    if isinstance(field, plain) and not isinstance(field, models.GenericIPAddressField):
        return None
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    # Dates and times repeat within a call (every row's created_at is the same moment): convert once.
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = converted = field.get_db_prep_save(value, connection)
            return converted

    return convert


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (new rows of ``model``) and set their primary keys."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    pks = _insert(model, fields, [[getattr(obj, f.attname) for f in fields] for obj in objs])
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_values(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """INSERT rows given as ``{attname: value}`` — the columns left out take the field's default, taken
    once for all rows — and return their primary keys in order. For many rows of a wide model this
    skips constructing a model instance per row."""
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    return _insert(model, fields, [[row[n] if n in row else defaults[n] for n in names] for row in rows])


def _insert(model: type[models.Model], fields: list[Any], rows: list[list[Any]]) -> list[int]:
    converters = [_converter(f) for f in fields]
    rows = [
        [value if convert is None or value is None else convert(value) for value, convert in zip(row, converters, strict=True)]
        for row in rows
    ]  # fmt: skip
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(str(model._meta.pk.column))  # type: ignore[union-attr]
    columns = ", ".join(quote(str(f.column)) for f in fields)
    pks: list[int] = []
    if connection.vendor == "postgresql":
        # One array per column (as Django's own bulk_create does there): a statement has one placeholder
        # per column, not per value — the driver parses the placeholders of every long statement anew in
        # Python. Sent through the driver's own cursor, which binds on the server (same connection,
        # same transaction).
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) RETURNING {pk}"
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            for start in range(0, len(rows), 5000):
                cursor.execute(
                    sql, [list(column) for column in zip(*rows[start : start + 5000], strict=True)]
                )
                pks.extend(value for (value,) in cursor.fetchall())
        return pks
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, MAX_PARAMETERS // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(part))} RETURNING {pk}",
                [value for row in part for value in row],
            )
            pks.extend(value for (value,) in cursor.fetchall())
    return pks


def update_rows(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """UPDATE ``fields`` of ``objs`` by primary key: one prepared statement run for every row, where
    ``bulk_update`` builds a ``CASE WHEN id = …`` per field and row."""
    if not objs or not fields:
        return
    meta = model._meta
    chosen: list[Any] = [meta.get_field(name) for name in fields]
    converters = [(f.attname, _converter(f)) for f in chosen]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in chosen)
    rows = []
    for obj in objs:
        row = []
        for attname, convert in converters:
            value = getattr(obj, attname)
            row.append(value if convert is None or value is None else convert(value))
        row.append(obj.pk)
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(str(meta.pk.column))} = %s", rows
        )
