"""The interaction endpoints (ENG-1, INT-2): same services as the pages, errors as {code, message, field}."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.models import Interaction

from .factories import make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(cast: SimpleNamespace) -> Customer:
    return make_customer(cast.rep_east, name="东方精工机械有限公司")


def test_rep_east_records_reads_corrects_and_deletes_an_interaction(
    cast: SimpleNamespace, acme: Customer, api_as: Any
) -> None:
    api = api_as(cast.rep_east)
    wang = make_contact(acme, cast.rep_east, name="王建国")
    created = api.post(
        "/api/v1/interactions",
        {
            "customer": acme.pk,
            "channel": "wechat",
            "direction": "inbound",
            "occurred_at": timezone.now().isoformat(),
            "contact": wang.pk,
            "summary": "王总微信询价",
            "next_step": "发报价",
            "next_follow_up_on": timezone.localdate().isoformat(),
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["channel"], body["channel_label"], body["contact"]["name"]) == ("wechat", "微信", "王建国")
    assert body["created_by"]["id"] == cast.rep_east.pk

    listed = api.get("/api/v1/interactions", {"customer": acme.pk}).json()
    assert listed["count"] == 1 and listed["items"][0]["summary"] == "王总微信询价"
    customer = api.get(f"/api/v1/customers/{acme.pk}").json()
    assert (customer["urgency"], customer["next_follow_up_action"]) == ("urgent", "发报价")
    timeline = api.get(f"/api/v1/customers/{acme.pk}/timeline").json()
    assert timeline[0]["kind"] == "interaction" and timeline[0]["summary"] == "王总微信询价"

    url = f"/api/v1/interactions/{body['id']}"
    patched = api.patch(url, {"version": body["version"], "outcome": "已发报价"})
    assert patched.status_code == 200 and patched.json()["outcome"] == "已发报价"
    stale = api.patch(url, {"version": body["version"], "outcome": "旧版本"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"

    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_bad_input_answers_422_naming_the_field_in_both_languages(
    cast: SimpleNamespace, acme: Customer, api_as: Any
) -> None:
    api = api_as(cast.rep_east, language="en")
    response = api.post(
        "/api/v1/interactions",
        {"customer": acme.pk, "channel": "pigeon", "occurred_at": timezone.now().isoformat(), "summary": "x"},
    )
    assert response.status_code == 422
    error = response.json()
    assert error["field"] == "channel" and "pigeon" in error["messages"]["zh-hans"]
    assert error["message"] == error["messages"]["en"]
    unknown = api.post("/api/v1/interactions", {"customer": acme.pk, "summary": "x", "mood": "happy"})
    assert unknown.status_code == 422
    assert Interaction.objects.count() == 0


def test_the_list_filters_by_channel_direction_date_author_and_text(
    cast: SimpleNamespace, acme: Customer, api_as: Any
) -> None:
    make_interaction(acme, cast.rep_east, channel="visit", summary="上门拜访，参观车间", days_ago=10)
    make_interaction(acme, cast.rep_east, channel="phone", direction="inbound", summary="客户来电催货")
    make_interaction(acme, cast.manager_east, channel="meeting", summary="经理参加评审会")
    api = api_as(cast.manager_east)

    def summaries(**params: Any) -> list[str]:
        response = api.get("/api/v1/interactions", params)
        assert response.status_code == 200, response.content
        return [i["summary"] for i in response.json()["items"]]

    assert summaries(channel="visit") == ["上门拜访，参观车间"]
    assert summaries(direction="inbound") == ["客户来电催货"]
    assert summaries(author=cast.manager_east.pk) == ["经理参加评审会"]
    assert summaries(q="车间") == ["上门拜访，参观车间"]
    since = (timezone.localdate()).isoformat()
    assert set(summaries(date_from=since)) == {"客户来电催货", "经理参加评审会"}
    assert summaries(sort="occurred_at")[0] == "上门拜访，参观车间"
    bad = api.get("/api/v1/interactions", {"date_from": "yesterday"})
    assert bad.status_code == 422 and bad.json()["field"] == "date_from"


def test_other_reps_see_no_interactions_of_customers_they_cannot_see(
    cast: SimpleNamespace, acme: Customer, api_as: Any
) -> None:
    call = make_interaction(acme, cast.rep_east)
    api = api_as(cast.rep_west)
    assert api.get("/api/v1/interactions").json() == {"items": [], "count": 0}
    assert api.get(f"/api/v1/interactions/{call.pk}").status_code == 404
    assert api.patch(f"/api/v1/interactions/{call.pk}", {"version": 1, "summary": "x"}).status_code == 404


def test_files_upload_as_multipart_and_download_only_for_those_who_see_the_customer(
    cast: SimpleNamespace, acme: Customer, api_as: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    call = make_interaction(acme, cast.rep_east)
    api = api_as(cast.rep_east)
    upload = api.client.post(
        f"/api/v1/interactions/{call.pk}/attachments",
        {"file": SimpleUploadedFile("签字版合同.pdf", b"%PDF-1.4 signed", content_type="application/pdf")},
        headers=api._headers(None),
    )
    assert upload.status_code == 201, upload.content
    attachment = upload.json()
    assert attachment["name"] == "签字版合同.pdf" and attachment["size"] == len(b"%PDF-1.4 signed")

    download = api.get(attachment["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 signed"
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert api_as(cast.rep_west).get(attachment["url"]).status_code == 404

    refused = api.client.post(
        f"/api/v1/interactions/{call.pk}/attachments",
        {"file": SimpleUploadedFile("页面.html", b"<script>alert(1)</script>", content_type="text/html")},
        headers=api._headers(None),
    )
    assert refused.status_code == 422 and refused.json()["field"] == "file"
    empty = api.client.post(f"/api/v1/interactions/{call.pk}/attachments", {}, headers=api._headers(None))
    assert empty.status_code == 422 and empty.json()["field"] == "file"

    assert api.delete(f"/api/v1/attachments/{attachment['id']}").status_code == 204
    assert api.get(attachment["url"]).status_code == 404


def test_the_customer_list_filters_and_sorts_by_follow_up_urgency(cast: SimpleNamespace, api_as: Any) -> None:
    from datetime import timedelta

    today = timezone.localdate()
    plans = {"逾期客户": -3, "本周客户": 2, "本月客户": 20, "季度客户": 60, "远期客户": 200}
    for name, days in plans.items():
        customer = make_customer(cast.rep_east, name=f"{name}有限公司")
        make_interaction(customer, cast.rep_east, days_ago=5, next_follow_up_on=today + timedelta(days=days))
    make_customer(cast.rep_east, name="未安排客户有限公司")
    api = api_as(cast.rep_east)

    def names(**params: Any) -> list[str]:
        response = api.get("/api/v1/customers", params)
        assert response.status_code == 200, response.content
        return [c["name"] for c in response.json()["items"]]

    assert names(urgency="overdue") == ["逾期客户有限公司"]
    assert names(urgency="urgent") == ["本周客户有限公司"]
    assert names(urgency="soon") == ["本月客户有限公司"]
    assert names(urgency="not_urgent") == ["季度客户有限公司"]
    assert names(urgency="slow") == ["远期客户有限公司"]
    assert names(urgency="none") == ["未安排客户有限公司"]
    assert names(sort="next_follow_up_on")[:2] == ["逾期客户有限公司", "本周客户有限公司"]
    bad = api.get("/api/v1/customers", {"urgency": "someday"})
    assert bad.status_code == 422 and bad.json()["field"] == "urgency"
