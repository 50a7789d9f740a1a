"""A PostgreSQL table's rows replaced by a staged copy swapped in (kehu.analytics.pg_staged): the same
rows, indexes, primary key and constraints as before; nothing left behind by a failure; tables the swap
would break refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from kehu.analytics import pg_binary, pg_staged

POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
TABLE = "test_staged_rows"


def test_index_definitions_are_rewritten_for_the_staged_table() -> None:
    name, statement = pg_staged.restaged_index(
        "CREATE UNIQUE INDEX analytics_customerscore_pkey ON public.analytics_customerscore USING btree (customer_id)",
        "analytics_customerscore__next",
    )
    assert name == "analytics_customerscore_pkey__next"
    assert statement == (
        'CREATE UNIQUE INDEX "analytics_customerscore_pkey__next" ON "analytics_customerscore__next"'
        " USING btree (customer_id)"
    )
    name, statement = pg_staged.restaged_index(
        'CREATE INDEX "score at risk" ON ONLY public.scores USING btree (clv) WHERE churn_risk',
        "scores__next",
    )
    assert name == "score at risk__next"
    assert (
        statement == 'CREATE INDEX "score at risk__next" ON "scores__next" USING btree (clv) WHERE churn_risk'
    )
    with pytest.raises(ValueError, match="not understood"):
        pg_staged.restaged_index("ALTER TABLE scores ADD PRIMARY KEY (id)", "scores__next")


def test_staged_names_fit_postgresqls_63_bytes() -> None:
    assert pg_staged.staged_name("a" * 63) == "a" * 57 + "__next"
    assert len(pg_staged.staged_name("a" * 63)) == 63
    assert pg_staged.staged_name("short") == "short__next"


needs_postgres = pytest.mark.skipif(not POSTGRES, reason="the staged write is PostgreSQL's")


@pytest.fixture
def table() -> Iterator[str]:
    """A table like the score table in small: a primary key, a CHECK, a partial index, a default, text."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}__next")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, v integer NOT NULL DEFAULT 0 CHECK (v >= 0),"
            " amount numeric(16,2), label varchar(12) NOT NULL, flag boolean NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX {TABLE}_amount ON {TABLE} (amount) WHERE flag")
        cursor.execute(f"INSERT INTO {TABLE} VALUES (999, 1, 1.00, 'old', false)")
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}__next")


def _values(n: int, *, v: np.ndarray | None = None) -> list[pg_binary.Values]:
    ids = np.arange(1, n + 1, dtype=np.int64)
    none = np.zeros(n, dtype=bool)
    labels = np.array(["重要价值客户" if i % 3 else "" for i in range(n)], dtype=object)
    return [
        pg_binary.Values("id", "bigint", ids, none),
        pg_binary.Values("v", "integer", ids % 7 if v is None else v, none),
        pg_binary.Values("amount", "numeric(16,2)", ids * 101, ids % 5 == 0),  # cents; every fifth NULL
        pg_binary.Values("label", "character varying(12)", labels, none),
        pg_binary.Values("flag", "boolean", (ids % 2).astype(np.int64), none),
    ]


def _rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, v, amount, label, flag FROM {TABLE} ORDER BY id")
        return cursor.fetchall()


def _catalogue() -> tuple[list, list, list]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [TABLE])
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
            " ORDER BY 1",
            [TABLE],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_name = %s ORDER BY ordinal_position",
            [TABLE],
        )
        return indexes, constraints, cursor.fetchall()


def _exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return bool(cursor.fetchone()[0])


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("n", "writers"), [(1_000, 2), (1_001, 3), (1, 2), (0, 2)])
def test_the_swapped_table_holds_the_new_rows_with_the_same_definition(
    table: str, n: int, writers: int
) -> None:
    before = _catalogue()
    staged = pg_staged.stage(table, _values(n), writers=writers)
    assert _rows() == [(999, 1, 1, "old", False)]  # nothing visible before the swap
    with transaction.atomic():
        staged.swap()
    rows = _rows()
    assert len(rows) == n
    assert [r[0] for r in rows] == list(range(1, n + 1))
    for id_, v, amount, label, flag in rows:
        assert v == id_ % 7 and flag == bool(id_ % 2) and label == ("重要价值客户" if (id_ - 1) % 3 else "")
        assert amount == (None if id_ % 5 == 0 else Decimal(id_ * 101).scaleb(-2))
    assert _catalogue() == before  # indexes, primary key, CHECK, defaults: as they were
    assert not _exists(f"{TABLE}__next")
    with connection.cursor() as cursor:
        if n:  # the primary key still refuses a duplicate
            with pytest.raises(DatabaseError, match="duplicate key"), transaction.atomic():
                cursor.execute(f"INSERT INTO {TABLE} (id, label, flag) VALUES (1, 'x', true)")
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [TABLE])
        assert cursor.fetchone()[0] == n  # analysed (a table never analysed reports -1)


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_swap_leaves_the_live_table_and_the_next_stage_starts_afresh(table: str) -> None:
    staged = pg_staged.stage(table, _values(10))
    with transaction.atomic():
        staged.swap()
        assert len(_rows()) == 10
        transaction.set_rollback(True)
    assert _rows() == [(999, 1, 1, "old", False)]
    assert _exists(f"{TABLE}__next")  # left over, as after a refresh that failed after staging
    staged = pg_staged.stage(table, _values(20))
    with transaction.atomic():
        staged.swap()
    assert len(_rows()) == 20 and not _exists(f"{TABLE}__next")


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_copy_drops_the_staged_table_and_changes_nothing(table: str) -> None:
    before = _catalogue()
    bad = np.arange(10, dtype=np.int64) - 5  # negative values break the CHECK in one writer's slice
    with pytest.raises(psycopg.errors.CheckViolation, match="test_staged_rows_v_check"):
        pg_staged.stage(table, _values(10, v=bad), writers=2)
    assert not _exists(f"{TABLE}__next")
    assert _rows() == [(999, 1, 1, "old", False)] and _catalogue() == before


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    ("create", "undo", "refusal"),
    [
        ([f"CREATE VIEW {TABLE}_view AS SELECT id FROM {TABLE}"], [f"DROP VIEW {TABLE}_view"], "views use it"),
        ([f"CREATE TABLE {TABLE}_child (id bigint REFERENCES {TABLE} (id))"], [f"DROP TABLE {TABLE}_child"],
         "constraints"),
        ([f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_label UNIQUE (label)"], [], "constraints"),
        ([f"CREATE FUNCTION {TABLE}_same() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
          f"CREATE TRIGGER {TABLE}_same BEFORE INSERT ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {TABLE}_same()"],
         [f"DROP TRIGGER {TABLE}_same ON {TABLE}", f"DROP FUNCTION {TABLE}_same()"], "triggers"),
    ],
)  # fmt: skip
def test_tables_the_swap_would_break_are_refused(
    table: str, create: list[str], undo: list[str], refusal: str
) -> None:
    with connection.cursor() as cursor:
        for statement in create:
            cursor.execute(statement)
    try:
        with pytest.raises(ValueError, match=refusal):
            pg_staged.stage(table, _values(3))
        assert not _exists(f"{TABLE}__next")
    finally:
        with connection.cursor() as cursor:
            for statement in undo:
                cursor.execute(statement)


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_staging_inside_a_transaction_is_refused(table: str) -> None:
    with transaction.atomic(), pytest.raises(RuntimeError, match="autocommit"):
        pg_staged.stage(table, _values(3))


@pytest.mark.django_db
def test_every_score_column_the_lists_filter_sort_or_join_on_gets_statistics(cast: SimpleNamespace) -> None:
    """The refresh analyses only QUERIED_SCORE_COLUMNS on PostgreSQL: the lists' SQL — every filter, every
    sort — names no other column of the score table."""
    from kehu.analytics.models import QUERIED_SCORE_COLUMNS, CustomerScore, LifecycleChoice, RFMClassChoice
    from kehu.analytics.selectors import LIST_SORTS, score_filter_q, scored_customers
    from kehu.customers.models import Customer

    table = CustomerScore._meta.db_table
    named = re.compile(rf'"{table}"\."(\w+)"')
    every_filter = {"rfm_class": RFMClassChoice.values[0], "lifecycle": LifecycleChoice.values[0], "churn": "1", "owner": str(cast.rep_east.pk),
                    "warned_from": "2026-01-01", "warned_to": "2026-12-31"}  # fmt: skip
    sql = [
        str(scored_customers(actor=cast.admin, filters=every_filter, sort=sort).values("pk").query)
        for sort in LIST_SORTS
    ]
    shared = {"clv_min": "1", "clv_max": "9", "p_alive_max": "0.5", **every_filter}
    sql.append(str(Customer.objects.filter(score_filter_q(shared)).values("pk").query))
    used = {column for statement in sql for column in named.findall(statement)}
    assert {"rfm_class", "lifecycle_stage", "churn_risk", "churn_since", "clv", "p_alive"} <= used
    assert used <= set(QUERIED_SCORE_COLUMNS)
    assert pg_staged.analyze_statement("t", ["a", "b"]) == 'ANALYZE "t" ("a", "b")'
    assert pg_staged.analyze_statement("t") == 'ANALYZE "t"'
