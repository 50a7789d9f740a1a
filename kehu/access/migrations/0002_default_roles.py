"""Default roles (architecture.md): admin, sales manager, sales rep, service agent, marketing,
relationship manager, auditor. Admins may edit them afterwards; re-running only adds missing ones."""

from django.db import migrations


def load_roles(apps, schema_editor):
    from kehu.access.perms import DEFAULT_ROLES

    Role = apps.get_model("access", "Role")
    for code, (name, name_en, perms, scope) in DEFAULT_ROLES.items():
        Role.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "permissions": sorted(str(p) for p in perms),
                "data_scope": str(scope),
                "is_system": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunPython(load_roles, migrations.RunPython.noop)]
