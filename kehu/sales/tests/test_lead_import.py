"""Importing leads (SAL-1, CUS-8): `kehu import leads file.csv` checks every row with the lead rules,
skips repeated inquiries, scores what it writes, and names the row and field of every error."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from kehu.imports import services as import_services
from kehu.sales.leads.choices import LeadChannel
from kehu.sales.leads.models import Lead

from .lead_factories import make_lead

pytestmark = pytest.mark.django_db

CSV = (
    "公司名称,联系人,手机号,邮箱,线索来源,询盘内容,负责人\n"
    "苏州恒瑞精密机械有限公司,周建国,13912345678,zhou@hengrui.com,展会,需要配件,\n"
    "杭州云帆软件有限公司,林晓,13757112233,lin@yunfan.cn,官网,软件授权,线索池\n"
    "重复的一行,周建国,13912345678,,展会,同一个人,\n"
)


def test_import_leads_dry_run_then_commit(manager_east: Any, rep_east: Any) -> None:
    make_lead(rep_east, mobile="13757112233", email="lin@yunfan.cn")  # already an open lead
    batch = import_services.import_upload(kind="leads", name="leads.csv", data=CSV.encode(), by=manager_east)
    assert (batch.total_rows, batch.new_rows, batch.duplicate_rows, batch.error_rows) == (3, 1, 2, 0)
    assert Lead.objects.count() == 1
    batch = import_services.import_commit(batch_id=batch.pk, on_duplicate="skip", by=manager_east)
    assert batch.created == 1
    lead = Lead.objects.get(mobile="13912345678")
    assert (
        lead.channel == LeadChannel.IMPORT and lead.owner == manager_east and lead.source.code == "trade_show"
    )


def test_errors_name_row_and_field_and_block_the_chunk(manager_east: Any) -> None:
    bad = "联系人,手机号,邮箱\n钱工,13812345678,qian@\n,13812345679,x@y.cn\n"
    batch = import_services.import_upload(kind="leads", name="bad.csv", data=bad.encode(), by=manager_east)
    problems = {(p.row, p.field) for p in batch.problems.all()}
    assert problems == {(2, "email"), (3, "contact_name")}
    import_services.import_commit(batch_id=batch.pk, on_duplicate="skip", by=manager_east)
    assert not Lead.objects.exists()


def test_kehu_import_leads_command(tmp_path: Any, admin: Any) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")
    out = StringIO()
    call_command("import", "leads", str(path), "--user", "admin", stdout=out)
    assert Lead.objects.count() == 2  # the third row repeats the first


def test_the_leads_template_names_its_columns(manager_east: Any) -> None:
    data, name = import_services.import_template(kind="leads", fmt="csv", by=manager_east)
    header = data.decode("utf-8-sig").splitlines()[0]
    assert name == "kehu-leads-template.csv" and header.startswith("公司名称,联系人*,手机号")
