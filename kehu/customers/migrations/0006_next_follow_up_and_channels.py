"""ENG-1/ENG-2: the customer's next follow-up (date and action) and the admin-editable list of
interaction channels (电话, 邮件, 在线客服, 微信, 拜访, 会议, 传真, 客户活动, 信函)."""

from django.conf import settings
from django.db import migrations, models


def load_channels(apps, schema_editor):
    from kehu.customers.choices import DEFAULT_CHANNELS

    Option = apps.get_model("customers", "Option")
    for order, (code, label, label_en) in enumerate(DEFAULT_CHANNELS):
        Option.objects.get_or_create(
            kind="channel", code=code, defaults={"label": label, "label_en": label_en, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_search_text_with_contacts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="next_follow_up_action",
            field=models.CharField(blank=True, max_length=200, verbose_name="下次跟进事项"),
        ),
        migrations.AddField(
            model_name="customer",
            name="next_follow_up_on",
            field=models.DateField(blank=True, null=True, verbose_name="下次跟进日期"),
        ),
        migrations.AlterField(
            model_name="option",
            name="kind",
            field=models.CharField(
                choices=[("industry", "行业"), ("source", "客户来源"), ("channel", "沟通渠道")],
                max_length=20,
                verbose_name="类别",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True), ("merged_into__isnull", True)),
                fields=["owner", "next_follow_up_on"],
                name="customer_live_follow_up",
            ),
        ),
        migrations.RunPython(load_channels, migrations.RunPython.noop),
    ]
