"""Every customer's purchase summary, kept between refreshes (ADR 0014, addendum "purchase summaries";
``purchase_summary``). Derived data: the table starts empty, and the first refresh fills it.

On PostgreSQL the records column is stored uncompressed (``STORAGE EXTERNAL``): a row is 13 MB of packed
integers, read and written whole every night, and compressing it would cost more than the bytes it saves.
And the table is ``UNLOGGED``: the hundred megabytes written each night skip the write-ahead log (the
write took 0.44–0.47 s instead of 1.0 s). A crash empties an unlogged table, and an empty one means
"nothing kept": the next refresh sums every purchase day again. (Standbys do not receive it either; the
refresh runs on the primary.)
"""

from django.db import migrations, models

TABLE = "analytics_purchasesummary"


def _uncompressed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN records SET STORAGE EXTERNAL")
        schema_editor.execute(f"ALTER TABLE {TABLE} SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0010_purchase_deltas"),
    ]

    operations = [
        migrations.CreateModel(
            name="PurchaseSummary",
            fields=[
                ("part", models.PositiveIntegerField(primary_key=True, serialize=False, verbose_name="分段")),
                ("as_of_day", models.IntegerField(verbose_name="截至日")),
                ("window_days", models.PositiveIntegerField(verbose_name="生命周期窗口（天）")),
                ("customers", models.PositiveIntegerField(verbose_name="客户数")),
                ("records", models.BinaryField(verbose_name="购买概况")),
            ],
            options={
                "verbose_name": "客户购买概况",
                "verbose_name_plural": "客户购买概况",
            },
        ),
        migrations.RunPython(_uncompressed, migrations.RunPython.noop),
    ]
