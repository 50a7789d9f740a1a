"""Records of customers merged before merges took them along now belong to the keeper (CUS-5; see
kehu/customers/merging.py). Nothing to undo: moving them back would lose the merges made since."""

from django.db import migrations

from kehu.customers.merging import move_merged_rows


def forwards(apps, schema_editor):
    move_merged_rows(
        apps,
        [
            ("sales.Opportunity", "customer"),
            ("sales.Quote", "customer"),
            ("sales.Lead", "converted_customer"),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0015_funnel_period_indexes"),
        ("sales", "0009_board_totals_covering_index"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
