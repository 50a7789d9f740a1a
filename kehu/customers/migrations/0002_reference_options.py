"""Default industry and source lists (CUS-2, CUS-4); admins edit them afterwards."""

from django.db import migrations


def load(apps, schema_editor):
    from kehu.customers.choices import DEFAULT_INDUSTRIES, DEFAULT_SOURCES

    Option = apps.get_model("customers", "Option")
    for kind, rows in (("industry", DEFAULT_INDUSTRIES), ("source", DEFAULT_SOURCES)):
        for order, (code, label, label_en) in enumerate(rows):
            Option.objects.get_or_create(
                kind=kind, code=code, defaults={"label": label, "label_en": label_en, "sort_order": order}
            )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
