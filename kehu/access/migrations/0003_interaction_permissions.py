"""The engagement permissions (ENG-1) join the default roles that existed before them; roles an admin
created or edited keep what the admin chose except for these additions to the system roles."""

from django.db import migrations

ADDED = {
    "admin": ["interaction.create", "interaction.manage"],
    "sales_manager": ["interaction.create", "interaction.manage"],
    "sales_rep": ["interaction.create"],
    "relationship_manager": ["interaction.create"],
    "service_agent": ["interaction.create"],
}


def add_permissions(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.filter(code__in=ADDED, is_system=True):
        role.permissions = sorted(set(role.permissions or []) | set(ADDED[role.code]))
        role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("access", "0002_default_roles")]
    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
