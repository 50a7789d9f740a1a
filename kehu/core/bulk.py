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
    return lambda value: field.get_db_prep_save(value, connection)


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (new rows of ``model``) and set their primary keys."""
    if not objs:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    converters = [(f.attname, _converter(f)) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, MAX_PARAMETERS // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            part = objs[start : start + per_statement]
            params: list[Any] = []
            for obj in part:
                for attname, convert in converters:
                    value = getattr(obj, attname)
                    params.append(value if convert is None or value is None else convert(value))
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([one] * len(part))} "
                f"RETURNING {quote(meta.pk.column)}",
                params,
            )
            for obj, (pk,) in zip(part, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
