"""Fill ``phone_key`` (rules.phone_key of ``phone``, SVC-3) for the customers and contacts already stored.

Walks each table by primary-key ranges, so every batch is an index range read however many rows there
are (no OFFSET, no id list of the whole table in memory), and writes only the rows that have a key, in
one ``bulk_update`` (one UPDATE … CASE per batch) — the same on SQLite and PostgreSQL.
"""

from django.db import migrations
from django.db.models import Max, Min

from kehu.customers.rules import phone_key

ID_RANGE = 5000  # ids per read
UPDATE_BATCH = 1000  # rows per UPDATE statement (SQLite allows 32,766 parameters; a row takes 3)


def _backfill(model) -> None:
    bounds = model.objects.aggregate(first=Min("id"), last=Max("id"))
    if bounds["first"] is None:
        return
    for start in range(bounds["first"], bounds["last"] + 1, ID_RANGE):
        rows = (
            model.objects.filter(id__gte=start, id__lt=start + ID_RANGE)
            .exclude(phone="")
            .order_by()
            .values_list("id", "phone")
        )
        changed = [model(id=pk, phone_key=key) for pk, phone in rows if (key := phone_key(phone))]
        if changed:
            model.objects.bulk_update(changed, ["phone_key"], batch_size=UPDATE_BATCH)


def backfill(apps, schema_editor):
    _backfill(apps.get_model("customers", "Customer"))
    _backfill(apps.get_model("customers", "Contact"))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0013_phone_keys"),
    ]

    operations = [
        # The new column was "" everywhere, so going back needs nothing.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
