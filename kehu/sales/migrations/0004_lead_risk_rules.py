"""Reference data of the fraudulent-inquiry check (SAL-2): one row per rule with its default points and
parameters, and the review threshold; plus the pg_trgm index for searching leads on PostgreSQL."""

from django.db import migrations


def load(apps, schema_editor):
    from kehu.sales.leads.rules import DEFAULT_RULES, DEFAULT_THRESHOLD

    RiskRule = apps.get_model("sales", "RiskRule")
    RiskSettings = apps.get_model("sales", "RiskSettings")
    for kind, (points, params) in DEFAULT_RULES.items():
        RiskRule.objects.get_or_create(kind=kind, defaults={"points": points, "params": params})
    if not RiskSettings.objects.exists():
        RiskSettings.objects.create(threshold=DEFAULT_THRESHOLD)


def search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS lead_search_trgm ON sales_lead USING gin (search_text gin_trgm_ops)"
    )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS lead_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_leads")]
    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(search_index, drop_search_index),
    ]
