"""Exporting the customer list to Excel (CUS-8, SEC-4): only what the user may see, masked as the list
shows it, safe to open (no formula runs), audited; refused without the permission."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kehu.audit.models import AuditEvent
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.spreadsheet import safe_cell
from kehu.customers import services

from .factories import make_customer

pytestmark = pytest.mark.django_db


def sheet_rows(data: bytes) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(data))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


@pytest.fixture
def east(cast: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(
        mine=make_customer(cast.rep_east, name="华东精密仪器有限公司", mobile="13812345678"),
        sneaky=make_customer(cast.rep_east, name='=HYPERLINK("http://evil","点我")有限公司'),
        other=make_customer(cast.rep_east2, name="东二贸易有限公司"),
        west=make_customer(cast.rep_west, name="华南物流有限公司"),
    )


def test_the_east_manager_exports_his_departments_customers_masked_and_safe(
    cast: SimpleNamespace, east: SimpleNamespace
) -> None:
    data, count = services.customer_export(by=cast.manager_east, filters={}, sort="name")
    rows = sheet_rows(data)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["客户编号", "客户名称", "客户类型", "手机号"]
    names = {r[1] for r in body}
    assert count == len(body) == 3
    assert "华南物流有限公司" not in names  # rep_west's: outside the east scope
    row = next(r for r in body if r[1] == "华东精密仪器有限公司")
    assert row[3] == "138****5678"
    sneaky = next(r for r in body if "HYPERLINK" in r[1])
    assert sneaky[1].startswith("'=")  # text, never a formula
    event = AuditEvent.objects.get(verb="export")
    assert event.actor == cast.manager_east and event.changes["rows"] == [None, 3]


def test_the_export_follows_the_lists_filters(cast: SimpleNamespace, east: SimpleNamespace) -> None:
    data, count = services.customer_export(by=cast.manager_east, scene="mine", filters={"q": "精密"})
    assert count == 0
    data, count = services.customer_export(by=cast.manager_east, filters={"q": "精密"})
    assert count == 1 and sheet_rows(data)[1][1] == "华东精密仪器有限公司"
    with pytest.raises(ValidationError) as refused:
        services.customer_export(by=cast.manager_east, filters={"colour": "red"})
    assert refused.value.field == "colour"


def test_a_sales_rep_without_the_export_permission_is_refused_and_nothing_is_logged(
    cast: SimpleNamespace, east: SimpleNamespace
) -> None:
    with pytest.raises(PermissionDenied):
        services.customer_export(by=cast.rep_east)
    assert not AuditEvent.objects.filter(verb="export").exists()


def test_too_big_an_export_is_refused_with_the_numbers(
    cast: SimpleNamespace, east: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "EXPORT_MAX_ROWS", 2)
    with pytest.raises(ValidationError) as refused:
        services.customer_export(by=cast.manager_east)
    assert "3" in refused.value.text() and "2" in refused.value.text()


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-1", "@SUM(A1)", "\t=x", "\r=x"])
def test_formula_like_text_becomes_plain_text(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert safe_cell("正常文本") == "正常文本" and safe_cell(12) == 12


def test_the_page_and_the_api_download_the_same_file(
    cast: SimpleNamespace, east: SimpleNamespace, signed_in: Any, api_as: Any
) -> None:
    page = signed_in(cast.manager_east).get(reverse("customers:export"), {"q": "华东"})
    assert page.status_code == 200 and "spreadsheetml" in page["Content-Type"]
    assert "attachment" in page["Content-Disposition"]
    api = api_as(cast.manager_east).get("/api/v1/customers/export", {"q": "华东"})
    assert api.status_code == 200
    assert sheet_rows(page.content)[1:] == sheet_rows(api.content)[1:] == [sheet_rows(page.content)[1]]
    list_page = signed_in(cast.manager_east).get(reverse("customers:list")).content.decode()
    assert 'data-testid="export"' in list_page
    refused = api_as(cast.rep_east).get("/api/v1/customers/export")
    assert refused.status_code == 403


# --- large exports run as background jobs ----------------------------------------------------------------


def test_a_long_list_is_exported_in_the_background_with_progress_and_a_download(
    cast: SimpleNamespace, east: SimpleNamespace, signed_in: Any, monkeypatch: Any
) -> None:
    from kehu.jobs.models import Job

    monkeypatch.setattr("kehu.customers.views.EXPORT_PAGE_INLINE_ROWS", 2)
    client = signed_in(cast.manager_east)
    response = client.get(reverse("customers:export") + "?sort=name")
    job = Job.objects.get(kind="customers.export")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == "succeeded" and job.created_by == cast.manager_east
    assert job.result["rows"] == 3 and (job.progress_done, job.progress_total) == (3, 3)
    assert "job-download" in client.get(f"/jobs/{job.pk}/").content.decode()

    download = client.get(f"/jobs/{job.pk}/file/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    rows = sheet_rows(b"".join(download.streaming_content))
    names = [r[1] for r in rows[1:]]
    assert len(rows) == 4 and "华南物流有限公司" not in names  # the manager's department only
    assert "138****5678" in [r[3] for r in rows[1:]]  # masked as the list shows it
    assert any(str(n).startswith("'=HYPERLINK") for n in names)  # no formula runs
    event = AuditEvent.objects.filter(verb="export").latest("pk")
    assert event.actor == cast.manager_east and event.changes["rows"] == [None, 3]

    assert signed_in(cast.rep_west).get(f"/jobs/{job.pk}/file/").status_code == 404  # not theirs


def test_the_api_starts_a_background_export_and_downloads_it(
    cast: SimpleNamespace, east: SimpleNamespace, api_as: Any
) -> None:
    api = api_as(cast.manager_east)
    started = api.post("/api/v1/customers/export-jobs?owner=" + str(cast.rep_east.pk))
    assert started.status_code == 202
    job = api.get(started.json()["url"]).json()
    assert job["status"] == "succeeded" and job["result"]["rows"] == 2
    file = api.get(f"/api/v1/jobs/{job['id']}/file")
    assert file.status_code == 200
    assert len(sheet_rows(b"".join(file.streaming_content))) == 3
    refused = api_as(cast.rep_east).post("/api/v1/customers/export-jobs")
    assert refused.status_code == 403
    bad = api.post("/api/v1/customers/export-jobs?sort=colour")
    assert bad.status_code in (400, 422) and bad.json()["field"] == "sort"
