"""The import permission (CUS-8) joins the default administrator and sales manager roles."""

from django.db import migrations

ADDED = {"admin": ["data.import"], "sales_manager": ["data.import"]}


def add_permission(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.filter(code__in=ADDED, is_system=True):
        role.permissions = sorted(set(role.permissions or []) | set(ADDED[role.code]))
        role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("imports", "0001_import_batches"), ("access", "0004_pool_permissions")]
    operations = [migrations.RunPython(add_permission, migrations.RunPython.noop)]
