"""The sales-chain permissions (SAL-1 … SAL-9) join the default roles that existed before them, and the
finance role (财务: invoices, payment records, receivables) is added."""

from django.db import migrations

CHAIN = [
    "lead.view",
    "lead.edit",
    "opportunity.view",
    "opportunity.edit",
    "product.view",
    "quote.view",
    "quote.edit",
    "contract.view",
    "contract.edit",
    "order.view",
    "order.edit",
    "target.view",
]
MANAGEMENT = ["lead.manage", "pipeline.manage", "receivables.view", "target.manage"]
EVERYTHING = [
    *CHAIN,
    *MANAGEMENT,
    "product.manage",
    "invoice.edit",
    "payment.edit",
    "approval.manage",
]
ADDED = {
    "admin": EVERYTHING,
    "sales_manager": [*CHAIN, *MANAGEMENT],
    "sales_rep": CHAIN,
    "relationship_manager": CHAIN,
    "service_agent": ["product.view", "contract.view", "order.view"],
    "marketing": ["lead.view", "lead.edit", "product.view"],
    "auditor": [
        "lead.view",
        "opportunity.view",
        "product.view",
        "quote.view",
        "contract.view",
        "order.view",
        "receivables.view",
        "target.view",
    ],
}
FINANCE = [
    "customer.view",
    "product.view",
    "contract.view",
    "order.view",
    "invoice.edit",
    "payment.edit",
    "receivables.view",
    "target.view",
]


def add_permissions(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.filter(code__in=ADDED, is_system=True):
        role.permissions = sorted(set(role.permissions or []) | set(ADDED[role.code]))
        role.save(update_fields=["permissions"])
    Role.objects.get_or_create(
        code="finance",
        defaults={
            "name": "财务",
            "name_en": "Finance",
            "permissions": sorted(FINANCE),
            "data_scope": "all",
            "is_system": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("access", "0004_pool_permissions")]
    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
