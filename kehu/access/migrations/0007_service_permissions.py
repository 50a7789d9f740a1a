"""The customer-service permissions (SVC-1 … SVC-5) join the default roles that existed before them, and
the 客服主管 role (service manager) is added: agents work tickets, sellers see and register their
customers' tickets, supervisors reassign and configure, auditors read."""

from django.db import migrations

ADDED = {
    "admin": ["ticket.view", "ticket.edit", "ticket.manage", "service.settings"],
    "sales_manager": ["ticket.view", "ticket.edit"],
    "sales_rep": ["ticket.view", "ticket.edit"],
    "relationship_manager": ["ticket.view", "ticket.edit"],
    "service_agent": ["ticket.view", "ticket.edit"],
    "auditor": ["ticket.view"],
}


def add_permissions(apps, schema_editor):
    from kehu.access.perms import DEFAULT_ROLES

    Role = apps.get_model("access", "Role")
    for role in Role.objects.filter(code__in=ADDED, is_system=True):
        role.permissions = sorted(set(role.permissions or []) | set(ADDED[role.code]))
        role.save(update_fields=["permissions"])
    name, name_en, perms, scope = DEFAULT_ROLES["service_manager"]
    Role.objects.get_or_create(
        code="service_manager",
        defaults={
            "name": name,
            "name_en": name_en,
            "permissions": sorted(str(p) for p in perms),
            "data_scope": str(scope),
            "is_system": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("access", "0006_analytics_permissions")]
    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
