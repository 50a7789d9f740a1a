"""Purchase days follow customer merges (查重): a merged customer's orders count for its keeper.

A trigger on the customers table marks both customers of a merge (and the customer a merge is undone
from) stale, so that the next refresh writes the keeper's purchase days again with the merged
customer's orders. PostgreSQL and SQLite alike fire it per row, only when ``merged_into_id`` changes
(the customers table takes many other updates). Every row is built again once, by customer keeper.
"""

from django.db import migrations

CUSTOMERS = "customers_customer"
STALE = "analytics_purchasedaysstale"
SQLITE = [
    f"""CREATE TRIGGER analytics_stale_on_customer_merge AFTER UPDATE OF merged_into_id ON {CUSTOMERS}
        WHEN OLD.merged_into_id IS NOT NEW.merged_into_id
        BEGIN
          INSERT INTO {STALE} (customer_id) VALUES (OLD.id);
          INSERT INTO {STALE} (customer_id) SELECT NEW.merged_into_id WHERE NEW.merged_into_id IS NOT NULL;
          INSERT INTO {STALE} (customer_id) SELECT OLD.merged_into_id WHERE OLD.merged_into_id IS NOT NULL;
        END;""",
]
POSTGRES = [
    f"""CREATE FUNCTION analytics_stale_merged() RETURNS trigger AS $$
        BEGIN
          INSERT INTO {STALE} (customer_id)
          SELECT c FROM (VALUES (OLD.id), (NEW.merged_into_id), (OLD.merged_into_id)) AS v (c) WHERE c IS NOT NULL;
          RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER analytics_stale_on_customer_merge AFTER UPDATE OF merged_into_id ON {CUSTOMERS}
        FOR EACH ROW WHEN (OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id)
        EXECUTE FUNCTION analytics_stale_merged();""",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []:
        schema_editor.execute(sql)
    schema_editor.execute(f"INSERT INTO {STALE} (customer_id) VALUES (NULL)")  # build every row again


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    on = f" ON {CUSTOMERS}" if vendor == "postgresql" else ""
    schema_editor.execute(f"DROP TRIGGER IF EXISTS analytics_stale_on_customer_merge{on}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS analytics_stale_merged()")


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_purchase_days"),
        ("customers", "0015_funnel_period_indexes"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
