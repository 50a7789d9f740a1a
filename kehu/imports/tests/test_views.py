"""The import pages (CUS-8) over the same services as the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.customers.models import Customer
from kehu.imports.models import ImportBatch

from .files import xlsx

pytestmark = pytest.mark.django_db


def test_upload_shows_the_dry_run_then_commit_writes(signed_in: Any, manager_east: Any) -> None:
    client = signed_in(manager_east)
    page = client.get("/imports/")
    assert page.status_code == 200 and "还没有导入过文件" in page.content.decode()
    data = xlsx(["客户名称", "手机号"], [["页面公司", "13800138030"], ["页面坏号", "99"]])
    response = client.post("/imports/", {"kind": "customers", "file": SimpleUploadedFile("p.xlsx", data)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    detail = client.get(f"/imports/{batch.pk}/?problems=error").content.decode()
    assert "手机号" in detail and "import-commit" in detail and Customer.objects.count() == 0

    client.post(f"/imports/{batch.pk}/commit/", {"on_duplicate": "skip"})
    batch.refresh_from_db()
    assert batch.status == "done" and batch.blocked_rows == 2 and Customer.objects.count() == 0
    assert "有错误，整批未写入" in client.get(f"/imports/{batch.pk}/").content.decode()


def test_a_file_with_unknown_columns_shows_the_error_on_the_upload_page(
    signed_in: Any, manager_east: Any
) -> None:
    client = signed_in(manager_east)
    response = client.post("/imports/", {"kind": "customers",
                                         "file": SimpleUploadedFile("p.xlsx", xlsx(["公司"], [["甲"]]))})  # fmt: skip
    assert response.status_code == 422 and "无法识别的列：公司" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_a_rep_without_the_permission_gets_403_and_nothing_changes(signed_in: Any, rep_east: Any) -> None:
    client = signed_in(rep_east)
    assert client.get("/imports/").status_code == 403
    data = xlsx(["客户名称"], [["代表公司"]])
    response = client.post("/imports/", {"kind": "customers", "file": SimpleUploadedFile("p.xlsx", data)})
    assert response.status_code == 403 and ImportBatch.objects.count() == 0 and Customer.objects.count() == 0
    assert client.get("/imports/templates/customers/").status_code == 403


def test_template_download_page(signed_in: Any, manager_east: Any) -> None:
    client = signed_in(manager_east)
    response = client.get("/imports/templates/contacts/")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert "attachment" in response["Content-Disposition"]
