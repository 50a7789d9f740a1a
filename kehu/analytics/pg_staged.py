"""Every row of a PostgreSQL table replaced by a table built beside it and swapped in (ADR 0014, "staged").

The analytics refresh rewrites all million score rows each night. Written into the live table, in the
refresh's transaction, that is one ``COPY`` on one connection — one server process, so one core — and
then each index built in turn. Here the rows go into a new table of the same definition instead:

1. :func:`stage` creates ``<table>__next`` (``LIKE`` the table: columns, defaults, ``CHECK`` constraints,
   storage), fills it by :data:`WRITERS` ``COPY`` connections side by side, each with its own slice of
   the rows, then builds its indexes (the primary key's too) at once, one connection each, and analyses
   it. Every step commits: the new table is visible to no query, which all name the live table.
2. :meth:`Staged.swap`, in the caller's transaction, drops the live table, renames the new one and its
   indexes to the live names and makes the unique index the primary key again (a catalogue change, no
   scan). A query waiting for the table meanwhile finds the new one when the transaction commits; if it
   rolls back, the live table is untouched and the new one is dropped (:func:`dropped_on_failure`, or
   else by the next :func:`stage`).

Only tables whose constraints are a primary key and ``CHECK`` constraints, with no trigger, no rule and
no foreign key pointing to or from them, can be staged (:func:`stage` refuses others): anything else
would be lost or broken by the swap. Privileges granted on the live table to other roles are not
carried over.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connection

from . import pg_binary

log = logging.getLogger(__name__)

WRITERS = 2  # COPY connections side by side, one server process each: two for the two cores measured on
SUFFIX = "__next"
MAINTENANCE_WORK_MEM = "256MB"  # each index build sorts a million keys: give it the memory to stay off disk
_NAME = r'("(?:[^"]|"")+"|[^\s"]+)'  # an identifier as PostgreSQL prints it: quoted when it must be
_INDEX_DEF = re.compile(
    rf"^CREATE (UNIQUE )?INDEX {_NAME} ON (ONLY )?((?:{_NAME}\.)?{_NAME}) (USING .*)$", re.DOTALL
)


@dataclass(frozen=True)
class Staged:
    """A filled, indexed, analysed copy of ``table`` named ``staging``, ready to be swapped in."""

    table: str
    staging: str
    primary: tuple[str, str] | None  # the live primary key's constraint name, the staging unique index
    indexes: tuple[tuple[str, str], ...]  # (live name, staging name) of every other index

    def swap(self) -> None:
        """The staged table in the live one's place, in the caller's transaction (Django's connection)."""
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE "{self.table}"')
            cursor.execute(f'ALTER TABLE "{self.staging}" RENAME TO "{self.table}"')
            for live, staged in self.indexes:
                cursor.execute(f'ALTER INDEX "{staged}" RENAME TO "{live}"')
            if self.primary is not None:
                name, index = self.primary
                cursor.execute(
                    f'ALTER TABLE "{self.table}" ADD CONSTRAINT "{name}" PRIMARY KEY USING INDEX "{index}"'
                )


def conninfo() -> str:
    """Django's default connection's parameters as a libpq connection string, for connections of our own."""
    from psycopg.conninfo import make_conninfo

    libpq = {
        k: v
        for k, v in connection.get_connection_params().items()
        if k not in ("cursor_factory", "context", "prepare_threshold") and v is not None
    }
    return make_conninfo(**libpq)


def staged_name(name: str) -> str:
    """The name an object of the live table has on the staged one (at most PostgreSQL's 63 bytes)."""
    return name[: 63 - len(SUFFIX)] + SUFFIX


def _unquoted(identifier: str) -> str:
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def restaged_index(definition: str, staging: str) -> tuple[str, str]:
    """An index's definition (``pg_get_indexdef``) rewritten for the staged table: its name there and the
    statement that builds it."""
    found = _INDEX_DEF.match(definition)
    if found is None:
        raise ValueError(f"an index definition not understood: {definition}")
    unique, name, rest = found.group(1), _unquoted(found.group(2)), found.group(7)
    name = staged_name(name)
    return name, f'CREATE {unique or ""}INDEX "{name}" ON "{staging}" {rest}'


def _refuse_unless_stageable(cursor: Any, table: str) -> None:
    cursor.execute(
        "SELECT conname, contype FROM pg_constraint WHERE (conrelid = %s::regclass AND contype NOT IN ('p', 'c'))"
        " OR confrelid = %s::regclass",
        [table, table],
    )
    if found := cursor.fetchall():
        raise ValueError(f"{table} cannot be staged: constraints {found}")
    cursor.execute(
        "SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal)"
        " + (SELECT count(*) FROM pg_rewrite r JOIN pg_depend d ON d.objid = r.oid"
        "    WHERE d.refobjid = %s::regclass AND r.ev_class <> %s::regclass)",
        [table, table, table],
    )
    if cursor.fetchone()[0]:
        raise ValueError(f"{table} cannot be staged: it has triggers, or views use it")


def stage(
    table: str,
    columns: Sequence[pg_binary.Values],
    writers: int = WRITERS,
    analyze: Sequence[str] | None = None,
) -> Staged:
    """``columns`` written into a new table like ``table`` by ``writers`` connections at once, then its
    indexes built and its statistics gathered (for the ``analyze`` columns only, when given). Django's
    connection must be in autocommit (no transaction open): the other connections must see the new
    table, and each step commits."""
    if connection.in_atomic_block:
        raise RuntimeError("stage() needs autocommit: the writers' connections must see the new table")
    staging = staged_name(table)
    with connection.cursor() as cursor:
        _refuse_unless_stageable(cursor, table)
        cursor.execute(
            "SELECT c.conname, pg_get_indexdef(c.conindid) FROM pg_constraint c"
            " WHERE c.conrelid = %s::regclass AND c.contype = 'p'",
            [table],
        )
        primary_row = cursor.fetchone()
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass"
            " AND NOT i.indisprimary ORDER BY i.indexrelid",
            [table],
        )
        secondary = [str(d) for (d,) in cursor.fetchall()]
        cursor.execute(f'DROP TABLE IF EXISTS "{staging}"')  # a failed or rolled-back refresh's
        cursor.execute(
            f'CREATE TABLE "{staging}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
            " INCLUDING STORAGE INCLUDING COMMENTS)"
        )
    try:
        primary = None
        builds = []
        if primary_row is not None:
            index, statement = restaged_index(str(primary_row[1]), staging)
            primary = (str(primary_row[0]), index)
            builds.append(statement)
        indexes = []
        for definition in secondary:
            name, statement = restaged_index(definition, staging)
            indexes.append((_unquoted(_INDEX_DEF.match(definition).group(2)), name))  # type: ignore[union-attr]
            builds.append(statement)
        uri = conninfo()
        n = int(columns[0].values.shape[0]) if columns else 0
        bounds = [(n * i // writers, n * (i + 1) // writers) for i in range(writers)]
        names = ", ".join(f'"{c.name}"' for c in columns)
        jobs: list[Callable[[], None]] = [
            _copy_job(uri, staging, names, [_slice(c, lo, hi) for c in columns])
            for lo, hi in bounds
            if hi > lo
        ]
        started = time.perf_counter()
        _all_at_once(jobs)
        copied = time.perf_counter()
        _all_at_once([_statements_job(uri, [statement]) for statement in builds])
        indexed = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(analyze_statement(staging, analyze))
        log.info(
            "staged %s: %d rows copied by %d connections in %.2f s, %d indexes built in %.2f s, analysed in %.2f s",
            table, n, len(jobs), copied - started, len(builds), indexed - copied, time.perf_counter() - indexed,
        )  # fmt: skip
    except BaseException:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{staging}"')
        raise
    return Staged(table=table, staging=staging, primary=primary, indexes=tuple(indexes))


def analyze_statement(table: str, columns: Sequence[str] | None = None) -> str:
    """``ANALYZE`` of the table, or of only the named columns (the others then have no statistics)."""
    named = " (" + ", ".join(f'"{c}"' for c in columns) + ")" if columns else ""
    return f'ANALYZE "{table}"{named}'


@contextlib.contextmanager
def dropped_on_failure(staged: Staged | None) -> Iterator[None]:
    """The staged copy dropped when the block fails — entered outside the block's transaction, so after it
    has rolled back — rather than left, the size of the table, for the next :func:`stage` to drop."""
    try:
        yield
    except BaseException:
        if staged is not None:
            with contextlib.suppress(Exception), connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE IF EXISTS "{staged.staging}"')
        raise


def _slice(col: pg_binary.Values, lo: int, hi: int) -> pg_binary.Values:
    return pg_binary.Values(col.name, col.pg_type, col.values[lo:hi], col.null[lo:hi], col.labels)


def _copy_job(uri: str, table: str, names: str, columns: list[pg_binary.Values]) -> Callable[[], None]:
    def run() -> None:
        import psycopg

        with psycopg.connect(uri, autocommit=True) as con, con.cursor() as cur:
            pg_binary.copy_rows(cur, f'COPY "{table}" ({names}) FROM STDIN (FORMAT BINARY)', columns)

    return run


def _statements_job(uri: str, statements: list[str]) -> Callable[[], None]:
    def run() -> None:
        import psycopg

        with psycopg.connect(uri, autocommit=True) as con:
            con.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            for statement in statements:
                con.execute(statement)  # type: ignore[arg-type]

    return run


def _all_at_once(jobs: list[Callable[[], None]]) -> None:
    """Every job in a thread of its own; the first failure raised once all have ended."""
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="pg-staged") as pool:
        futures = [pool.submit(job) for job in jobs]
    for future in futures:
        future.result()
