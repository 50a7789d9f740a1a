"""Substring search (CUS-6) on PostgreSQL: pg_trgm GIN indexes on the search text.

pg_trgm needs a UTF-8 ctype (not C) to index Chinese characters. SQLite has no
equivalent index; there the search scans the (narrow) search_text column.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customer_search_trgm ON customers_customer USING gin (search_text gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customer_name_norm_trgm ON customers_customer "
        "USING gin (name_normalized gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS contact_search_trgm ON customers_contact USING gin (search_text gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ("customer_search_trgm", "customer_name_norm_trgm", "contact_search_trgm"):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_reference_options")]
    operations = [migrations.RunPython(forwards, backwards)]
