"""The analytics permissions (ANA-1 … ANA-8) join the default roles that existed before them: viewing for
everyone who sells or reports, the settings and the on-demand refresh for administrators."""

from django.db import migrations

ADDED = {
    "admin": ["analytics.view", "analytics.manage"],
    "sales_manager": ["analytics.view"],
    "sales_rep": ["analytics.view"],
    "relationship_manager": ["analytics.view"],
    "marketing": ["analytics.view"],
    "auditor": ["analytics.view"],
}


def add_permissions(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.filter(code__in=ADDED, is_system=True):
        role.permissions = sorted(set(role.permissions or []) | set(ADDED[role.code]))
        role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("access", "0005_sales_chain_permissions")]
    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
