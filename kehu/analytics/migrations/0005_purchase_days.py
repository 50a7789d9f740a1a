"""The per-customer purchase days (ADR 0014) and the triggers on the orders table that mark them stale.

A change to an order that could change a customer's purchases — a new or deleted order, a changed
customer, date, amount, cost, or a move into or out of 已取消 — inserts the customer into
``analytics_purchasedaysstale`` in the same transaction as the change, whoever makes it (the pages, an
import, raw SQL). PostgreSQL does it once per statement from the statement's transition tables (a bulk
import of ten thousand orders inserts each customer once); SQLite, which has row triggers only, once per
row. The migration leaves one stale row without a customer: the first refresh builds every row.
"""

from django.db import migrations, models

ORDERS = "orders_order"
STALE = "analytics_purchasedaysstale"
# The columns whose change can change a customer's purchase days; the status only across 已取消.
CHANGED = (
    "OLD.customer_id IS NOT NEW.customer_id OR OLD.order_date IS NOT NEW.order_date"
    " OR OLD.total_amount IS NOT NEW.total_amount OR OLD.cost_amount IS NOT NEW.cost_amount"
    " OR (OLD.status = 'cancelled') IS NOT (NEW.status = 'cancelled')"
)
SQLITE = [
    f"""CREATE TRIGGER analytics_stale_on_order_insert AFTER INSERT ON {ORDERS}
        BEGIN INSERT INTO {STALE} (customer_id) VALUES (NEW.customer_id); END;""",
    f"""CREATE TRIGGER analytics_stale_on_order_update AFTER UPDATE ON {ORDERS} WHEN {CHANGED}
        BEGIN
          INSERT INTO {STALE} (customer_id) VALUES (OLD.customer_id);
          INSERT INTO {STALE} (customer_id) SELECT NEW.customer_id WHERE NEW.customer_id IS NOT OLD.customer_id;
        END;""",
    f"""CREATE TRIGGER analytics_stale_on_order_delete AFTER DELETE ON {ORDERS}
        BEGIN INSERT INTO {STALE} (customer_id) VALUES (OLD.customer_id); END;""",
]
PG_CHANGED = CHANGED.replace("OLD.", "o.").replace("NEW.", "n.").replace(" IS NOT ", " IS DISTINCT FROM ")
POSTGRES = [
    f"""CREATE FUNCTION analytics_stale_inserted() RETURNS trigger AS $$
        BEGIN INSERT INTO {STALE} (customer_id) SELECT DISTINCT customer_id FROM new_rows; RETURN NULL; END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE FUNCTION analytics_stale_deleted() RETURNS trigger AS $$
        BEGIN INSERT INTO {STALE} (customer_id) SELECT DISTINCT customer_id FROM old_rows; RETURN NULL; END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE FUNCTION analytics_stale_updated() RETURNS trigger AS $$
        BEGIN
          INSERT INTO {STALE} (customer_id)
          SELECT o.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {PG_CHANGED}
          UNION
          SELECT n.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {PG_CHANGED};
          RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER analytics_stale_on_order_insert AFTER INSERT ON {ORDERS}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_stale_inserted();""",
    f"""CREATE TRIGGER analytics_stale_on_order_update AFTER UPDATE ON {ORDERS}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_stale_updated();""",
    f"""CREATE TRIGGER analytics_stale_on_order_delete AFTER DELETE ON {ORDERS}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_stale_deleted();""",
    # Records of a few kilobytes are not compressed: the refresh reads every row, and decompressing costs
    # more than the bytes saved.
    "ALTER TABLE analytics_purchasedays ALTER COLUMN records SET STORAGE EXTERNAL",
]
TRIGGERS = (
    "analytics_stale_on_order_insert",
    "analytics_stale_on_order_update",
    "analytics_stale_on_order_delete",
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []:
        schema_editor.execute(sql)
    schema_editor.execute(f"INSERT INTO {STALE} (customer_id) VALUES (NULL)")  # build every row


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name in TRIGGERS:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {name}" + (f" ON {ORDERS}" if vendor == "postgresql" else "")
        )
    if vendor == "postgresql":
        for name in ("analytics_stale_inserted", "analytics_stale_deleted", "analytics_stale_updated"):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_watch_list_index_on_customers_at_risk"),
        ("orders", "0005_invoice_void"),
    ]

    operations = [
        migrations.CreateModel(
            name="PurchaseDays",
            fields=[
                (
                    "customer_id",
                    models.BigIntegerField(primary_key=True, serialize=False, verbose_name="客户"),
                ),
                ("days", models.PositiveIntegerField(verbose_name="购买天数")),
                ("records", models.BinaryField(verbose_name="按日汇总的购买")),
            ],
            options={
                "verbose_name": "客户按日购买汇总",
                "verbose_name_plural": "客户按日购买汇总",
            },
        ),
        migrations.CreateModel(
            name="PurchaseDaysStale",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("customer_id", models.BigIntegerField(null=True, verbose_name="客户")),
            ],
            options={
                "verbose_name": "待更新的购买汇总",
                "verbose_name_plural": "待更新的购买汇总",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
