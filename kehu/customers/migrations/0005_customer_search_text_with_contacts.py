"""A customer's search text also holds its live contacts' keys (rules.customer_search_text), so one
substring test per customer finds it by a contact too; it is no longer cut at 600 characters."""

from django.db import migrations, models

BATCH = 2000


def append_contact_keys(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    with_contacts = (
        Contact.objects.filter(deleted_at__isnull=True)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    ids = sorted(set(with_contacts))
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        texts: dict[int, list[str]] = {}
        contacts = Contact.objects.filter(customer_id__in=batch, deleted_at__isnull=True).order_by("id")
        for customer_id, text in contacts.values_list("customer_id", "search_text"):
            if text:
                texts.setdefault(customer_id, []).append(text)
        customers = list(Customer.objects.filter(pk__in=batch).only("id", "search_text"))
        for customer in customers:
            customer.search_text = " ".join([customer.search_text, *texts.get(customer.pk, [])]).strip()
        Customer.objects.bulk_update(customers, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_live_row_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(append_contact_keys, migrations.RunPython.noop),
    ]
