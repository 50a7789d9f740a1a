"""The orders table's triggers record what changed in a customer's purchases, not only who (ADR 0014,
addendum "purchase deltas").

Until now a change to an order inserted its customer into ``analytics_purchasedaysstale``, and the
refresh read that customer's every order again (scattered over the table: an index probe and a page per
order). Now the triggers insert into ``analytics_purchasedelta`` the change itself, per customer and day:
an order that starts to count (new, or moved in, or no longer cancelled) +1 with its amount and cost in
cents, one that stops counting −1 with its old ones; a change of amount, cost, date or customer is both.
The refresh adds them to the purchase-day rows. The same columns as before decide whether an update
counts; the status only across 已取消. PostgreSQL sums a statement's rows per customer and day from its
transition tables; SQLite, which has row triggers only, inserts one row per order changed.

Stale rows already there are still honoured (``purchases.sync`` builds their customers' rows from their
orders), and merges still mark customers stale (migration 0006). Going back drops the deltas' triggers,
restores the old ones and marks every row to be built again.
"""

import importlib

from django.db import migrations, models

ORDERS = "orders_order"
DELTA = "analytics_purchasedelta"
STALE = "analytics_purchasedaysstale"
COLUMNS = "customer_id, day, orders, costed, amount, costed_amount, cost"
OLD = importlib.import_module("kehu.analytics.migrations.0005_purchase_days")  # the stale rows' triggers
CHANGED = OLD.CHANGED


def _cents(expression: str, kind: str) -> str:
    return f"CAST(ROUND({expression} * 100) AS {kind})"


def _delta(row: str, sign: str, vendor: str) -> list[str]:
    """The delta of one order's row (``NEW``/``OLD`` on SQLite, an alias on PostgreSQL) with ``sign`` ("" or
    "-"): the expressions of ``COLUMNS`` in their order."""
    if vendor == "postgresql":
        day, kind, flag = f"({row}.order_date - DATE '1970-01-01')", "BIGINT", "::integer"
    else:
        day, kind, flag = f"CAST(julianday({row}.order_date) - 2440587.5 AS INTEGER)", "INTEGER", ""
    amount = _cents(f"{row}.total_amount", kind)
    return [
        f"{row}.customer_id",
        day,
        f"{sign}1",
        f"{sign}({row}.cost_amount IS NOT NULL){flag}",
        f"{sign}{amount}",
        f"{sign}(CASE WHEN {row}.cost_amount IS NULL THEN 0 ELSE {amount} END)",
        f"{sign}COALESCE({_cents(f'{row}.cost_amount', kind)}, 0)",
    ]


def _sqlite_values(row: str, sign: str) -> str:
    return ", ".join(_delta(row, sign, "sqlite"))


SQLITE = [
    f"""CREATE TRIGGER analytics_delta_on_order_insert AFTER INSERT ON {ORDERS} WHEN NEW.status <> 'cancelled'
        BEGIN INSERT INTO {DELTA} ({COLUMNS}) SELECT {_sqlite_values("NEW", "")}; END;""",
    f"""CREATE TRIGGER analytics_delta_on_order_update AFTER UPDATE ON {ORDERS} WHEN {CHANGED}
        BEGIN
          INSERT INTO {DELTA} ({COLUMNS}) SELECT {_sqlite_values("OLD", "-")} WHERE OLD.status <> 'cancelled';
          INSERT INTO {DELTA} ({COLUMNS}) SELECT {_sqlite_values("NEW", "")} WHERE NEW.status <> 'cancelled';
        END;""",
    f"""CREATE TRIGGER analytics_delta_on_order_delete AFTER DELETE ON {ORDERS} WHEN OLD.status <> 'cancelled'
        BEGIN INSERT INTO {DELTA} ({COLUMNS}) SELECT {_sqlite_values("OLD", "-")}; END;""",
]


def _pg_terms(row: str, sign: str) -> str:
    """One order's delta as the columns ``c, d, o, k, a, ka, co`` of a SELECT over rows aliased ``row``."""
    names = ("c", "d", "o", "k", "a", "ka", "co")
    return ", ".join(f"{e} AS {n}" for e, n in zip(_delta(row, sign, "postgresql"), names, strict=True))


def _pg_summed(selects: str) -> str:
    """Deltas of many orders summed per customer and day; days whose changes cancel out are left out."""
    return (
        f"INSERT INTO {DELTA} ({COLUMNS})"
        f" SELECT c, d, sum(o), sum(k), sum(a), sum(ka), sum(co) FROM ({selects}) AS x GROUP BY c, d"
        " HAVING sum(o) <> 0 OR sum(k) <> 0 OR sum(a) <> 0 OR sum(ka) <> 0 OR sum(co) <> 0;"
    )


PG_CHANGED = CHANGED.replace("OLD.", "o.").replace("NEW.", "n.").replace(" IS NOT ", " IS DISTINCT FROM ")
PG_JOINED = f"old_rows o JOIN new_rows n ON n.id = o.id WHERE ({PG_CHANGED})"
POSTGRES = [
    f"""CREATE FUNCTION analytics_delta_inserted() RETURNS trigger AS $$
        BEGIN {_pg_summed(f"SELECT {_pg_terms('n', '')} FROM new_rows n WHERE n.status <> 'cancelled'")}
        RETURN NULL; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE FUNCTION analytics_delta_deleted() RETURNS trigger AS $$
        BEGIN {_pg_summed(f"SELECT {_pg_terms('o', '-')} FROM old_rows o WHERE o.status <> 'cancelled'")}
        RETURN NULL; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE FUNCTION analytics_delta_updated() RETURNS trigger AS $$
        BEGIN {
        _pg_summed(
            f"SELECT {_pg_terms('o', '-')} FROM {PG_JOINED} AND o.status <> 'cancelled'"
            f" UNION ALL SELECT {_pg_terms('n', '')} FROM {PG_JOINED} AND n.status <> 'cancelled'"
        )
    }
        RETURN NULL; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER analytics_delta_on_order_insert AFTER INSERT ON {ORDERS}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_delta_inserted();""",
    f"""CREATE TRIGGER analytics_delta_on_order_update AFTER UPDATE ON {ORDERS}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_delta_updated();""",
    f"""CREATE TRIGGER analytics_delta_on_order_delete AFTER DELETE ON {ORDERS}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_delta_deleted();""",
]
TRIGGERS = (
    "analytics_delta_on_order_insert",
    "analytics_delta_on_order_update",
    "analytics_delta_on_order_delete",
)
FUNCTIONS = ("analytics_delta_inserted", "analytics_delta_deleted", "analytics_delta_updated")
OLD_FUNCTIONS = ("analytics_stale_inserted", "analytics_stale_deleted", "analytics_stale_updated")


def _drop(schema_editor, triggers, functions):
    vendor = schema_editor.connection.vendor
    for name in triggers:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {name}" + (f" ON {ORDERS}" if vendor == "postgresql" else "")
        )
    if vendor == "postgresql":
        for name in functions:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _drop(schema_editor, OLD.TRIGGERS, OLD_FUNCTIONS)
    for sql in SQLITE if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _drop(schema_editor, TRIGGERS, FUNCTIONS)
    old = OLD.SQLITE if vendor == "sqlite" else OLD.POSTGRES if vendor == "postgresql" else []
    for sql in old:
        if not sql.startswith("ALTER TABLE"):  # the storage setting stayed
            schema_editor.execute(sql)
    schema_editor.execute(f"INSERT INTO {STALE} (customer_id) VALUES (NULL)")  # the deltas are dropped


class Migration(migrations.Migration):
    dependencies = [("analytics", "0009_relationship_periods_per_ledger")]

    operations = [
        migrations.CreateModel(
            name="PurchaseDelta",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("customer_id", models.BigIntegerField(verbose_name="客户")),
                ("day", models.IntegerField(verbose_name="日")),
                ("orders", models.IntegerField(verbose_name="订单数")),
                ("costed", models.IntegerField(verbose_name="已知成本的订单数")),
                ("amount", models.BigIntegerField(verbose_name="金额（分）")),
                ("costed_amount", models.BigIntegerField(verbose_name="已知成本订单的金额（分）")),
                ("cost", models.BigIntegerField(verbose_name="成本（分）")),
            ],
            options={"verbose_name": "购买变动", "verbose_name_plural": "购买变动"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
