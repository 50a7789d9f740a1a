"""The import API (CUS-8): upload → dry run → problems → commit, as an integration would call it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kehu.access import services as access_services
from kehu.audit.models import AuditEvent
from kehu.customers.models import Customer
from kehu.imports.models import ImportBatch

from .files import csv_bytes, xlsx

pytestmark = pytest.mark.django_db


def _client(user: Any) -> tuple[Client, dict[str, str]]:
    _token, secret = access_services.token_create(user=user, name="t", by=user)
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _upload(client: Client, headers: dict[str, str], kind: str, name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/api/v1/imports", {"kind": kind, "file": SimpleUploadedFile(name, data)}, **headers)


def test_upload_dry_run_problems_and_commit(manager_east: Any) -> None:
    client, headers = _client(manager_east)
    data = xlsx(["客户名称", "手机号"], [["接口公司", "13800138020"], ["坏号码公司", "123"]])

    response = _upload(client, headers, "customers", "api.xlsx", data)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["total_rows"], body["new_rows"], body["error_rows"]) == ("checked", 2, 1, 1)
    assert Customer.objects.count() == 0
    problems = client.get(f"/api/v1/imports/{body['id']}/problems?kind=error", **headers).json()
    assert problems["count"] == 1
    item = problems["items"][0]
    assert (item["row"], item["field"], item["column"]) == (3, "mobile", "手机号")
    assert item["messages"]["zh-hans"] and item["messages"]["en"]

    done = client.post(f"/api/v1/imports/{body['id']}/commit", {"on_duplicate": "skip"},
                       content_type="application/json", **headers)  # fmt: skip
    assert done.status_code == 200
    assert done.json()["chunks"][0]["status"] == "blocked" and Customer.objects.count() == 0
    again = client.post(f"/api/v1/imports/{body['id']}/commit", {"on_duplicate": "skip"},
                        content_type="application/json", **headers)  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "batch_state"


def test_a_bad_file_is_refused_naming_the_file_field(manager_east: Any) -> None:
    client, headers = _client(manager_east)
    before = (ImportBatch.objects.count(), AuditEvent.objects.count())
    response = _upload(client, headers, "customers", "notes.txt", b"hello")
    assert response.status_code == 422 and response.json()["field"] == "file"
    response = _upload(client, headers, "customers", "x.csv", csv_bytes(["名字"], [["甲"]]))
    assert response.status_code == 422 and response.json()["field"] == "file"
    response = _upload(client, headers, "orders", "x.csv", csv_bytes(["客户名称"], [["甲"]]))
    assert response.status_code == 422 and response.json()["field"] == "kind"
    commit = client.post("/api/v1/imports/1/commit", {"on_duplicate": "merge"}, content_type="application/json",
                         **headers)  # fmt: skip
    assert commit.status_code == 422 and commit.json()["field"] == "on_duplicate"
    assert (ImportBatch.objects.count(), AuditEvent.objects.count()) == before


def test_templates_download(manager_east: Any) -> None:
    client, headers = _client(manager_east)
    xlsx_response = client.get("/api/v1/imports/templates/interactions", **headers)
    csv_response = client.get("/api/v1/imports/templates/customers?format=csv", **headers)
    assert xlsx_response.status_code == 200 and xlsx_response.content[:2] == b"PK"
    assert csv_response.status_code == 200 and "客户名称*" in csv_response.content.decode("utf-8-sig")


def test_another_users_batch_is_not_found(manager_east: Any, admin: Any, cast: Any) -> None:
    from kehu.access.services import user_create

    client, headers = _client(manager_east)
    body = _upload(client, headers, "customers", "a.csv", csv_bytes(["客户名称"], [["别人的批次"]])).json()
    other = user_create(username="manager_x", password="Kehu-cast-passw0rd!", role_codes=["sales_manager"],
                        department=cast.west, by=None)  # fmt: skip
    other_client, other_headers = _client(other)
    assert other_client.get(f"/api/v1/imports/{body['id']}", **other_headers).status_code == 404
    commit = other_client.post(f"/api/v1/imports/{body['id']}/commit", {"on_duplicate": "skip"},
                               content_type="application/json", **other_headers)  # fmt: skip
    assert commit.status_code == 404 and Customer.objects.count() == 0
    # The administrator (全部 scope) sees it, but only its importer may commit it.
    admin_client, admin_headers = _client(admin)
    assert admin_client.get(f"/api/v1/imports/{body['id']}", **admin_headers).status_code == 200
    commit = admin_client.post(f"/api/v1/imports/{body['id']}/commit", {"on_duplicate": "skip"},
                               content_type="application/json", **admin_headers)  # fmt: skip
    assert commit.status_code == 409 and Customer.objects.count() == 0


def test_english_messages_under_en(manager_east: Any) -> None:
    client, headers = _client(manager_east)
    body = _upload(client, headers, "customers", "a.xlsx", xlsx(["Name", "Mobile"], [["EN Co", "1"]])).json()
    problems = client.get(
        f"/api/v1/imports/{body['id']}/problems", HTTP_ACCEPT_LANGUAGE="en", **headers
    ).json()
    assert problems["items"][0]["message"] == problems["items"][0]["messages"]["en"]
