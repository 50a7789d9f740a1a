"""Records of customers merged before merges took them along now belong to the keeper (CUS-5; see
kehu/customers/merging.py). Nothing to undo: moving them back would lose the merges made since."""

from django.db import migrations

from kehu.customers.merging import move_merged_rows


def forwards(apps, schema_editor):
    move_merged_rows(
        apps,
        [
            ("engagement.Interaction", "customer"),
            ("engagement.Task", "customer"),
            ("engagement.MailThread", "customer"),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0015_funnel_period_indexes"), ("engagement", "0007_task_source")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
