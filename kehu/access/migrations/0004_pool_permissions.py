"""The public-pool permissions (CUS-7) join the default roles that existed before them."""

from django.db import migrations

ADDED = {
    "admin": ["pool.claim", "pool.manage"],
    "sales_manager": ["pool.claim", "pool.manage"],
    "sales_rep": ["pool.claim"],
    "relationship_manager": ["pool.claim"],
}


def add_permissions(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.filter(code__in=ADDED, is_system=True):
        role.permissions = sorted(set(role.permissions or []) | set(ADDED[role.code]))
        role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("access", "0003_interaction_permissions")]
    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
