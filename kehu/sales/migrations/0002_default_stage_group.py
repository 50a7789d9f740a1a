"""The default stage group (SAL-3): the relationship-building process, with the cumulative win rate of
each stage, and the three end states. Departments may get their own groups later."""

from django.db import migrations

STAGES = [
    # order, name, English, kind, probability, past the proposal
    (10, "初步接触", "Initial contact", "open", 10, False),
    (20, "需求确认", "Needs confirmed", "open", 25, False),
    (30, "方案/报价", "Proposal / quote", "open", 50, True),
    (40, "谈判", "Negotiation", "open", 75, True),
    (90, "赢单", "Won", "won", 100, True),
    (91, "输单", "Lost", "lost", 0, False),
    (92, "无效", "Invalid", "invalid", 0, False),
]


def load(apps, schema_editor):
    StageGroup = apps.get_model("sales", "StageGroup")
    Stage = apps.get_model("sales", "Stage")
    if StageGroup.objects.filter(is_default=True).exists():
        return
    group = StageGroup.objects.create(name="标准销售流程", name_en="Standard sales process", is_default=True)
    for order, name, name_en, kind, probability, past_proposal in STAGES:
        Stage.objects.create(
            group=group,
            order=order,
            name=name,
            name_en=name_en,
            kind=kind,
            probability=probability,
            past_proposal=past_proposal,
        )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_pipeline")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
