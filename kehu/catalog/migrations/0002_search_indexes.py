"""Catalogue search (SAL-9) on PostgreSQL: a pg_trgm GIN index on the search text (name, pinyin,
initials, code, model), as for customers (customers 0003); SQLite scans the narrow column."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS product_search_trgm ON catalog_product USING gin (search_text gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS product_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_products")]
    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["category", "code"], name="product_category_code"),
        ),
    ]
