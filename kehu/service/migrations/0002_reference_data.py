"""Reference data of customer service (house style 7): the settings row with the working hours, the
default SLA policies — the sources' "接到投诉电话以后，24小时之内" commitment for complaints, quicker
answers for VIP customers and urgent tickets, a default for the rest — and escalation rules that warn
before a complaint's 24 hours run out and escalate when a clock is missed. Administrators edit them."""

from django.db import migrations

POLICIES = [
    # name, kind, value_tier, priority, first response, resolution (minutes), basis, position
    ("投诉：24 小时内响应", "complaint", "", "", 24 * 60, 72 * 60, "calendar", 10),
    ("贵宾客户", "", "vip", "", 60, 8 * 60, "business", 20),
    ("紧急工单", "", "", "urgent", 30, 4 * 60, "calendar", 30),
    ("标准服务", "", "", "", 4 * 60, 24 * 60, "business", 100),
]
RULES = [
    # name, kind, clock, when, minutes, action
    ("投诉响应即将超时提醒", "complaint", "first_response", "before", 120, "notify"),
    ("投诉响应超时升级主管", "complaint", "first_response", "after", 0, "supervisor"),
    ("解决超时升级主管", "", "resolution", "after", 0, "supervisor"),
    ("解决超时 24 小时升级经理", "", "resolution", "after", 24 * 60, "manager"),
]


def load(apps, schema_editor):
    ServiceSettings = apps.get_model("service", "ServiceSettings")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    EscalationRule = apps.get_model("service", "EscalationRule")
    ServiceSettings.objects.get_or_create(
        pk=1, defaults={"work_windows": [["09:00", "12:00"], ["13:00", "18:00"]]}
    )
    for name, kind, tier, priority, first, resolution, basis, position in POLICIES:
        SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind, "value_tier": tier, "priority": priority, "first_response_minutes": first,
                "resolution_minutes": resolution, "basis": basis, "position": position,
            },
        )  # fmt: skip
    for name, kind, clock, when, minutes, action in RULES:
        EscalationRule.objects.get_or_create(
            name=name,
            defaults={"kind": kind, "clock": clock, "when": when, "minutes": minutes, "action": action},
        )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_tickets")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
