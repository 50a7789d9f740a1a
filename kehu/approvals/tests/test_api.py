"""The approvals REST API: thin over the same services (submit, approve, reject, withdraw, flows)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from kehu.approvals.models import ApprovalDecision, ApprovalFlow, ApprovalRequest, ApprovalStep

from .conftest import TEST_TYPE, doc_status, make_deal, make_flow, supervisor

pytestmark = pytest.mark.django_db


def test_submit_approve_and_read_back_through_the_api(org: SimpleNamespace, api_as: Any) -> None:
    make_flow(org.admin, supervisor(), {"kind": "all_of", "users": [org.rm.pk, org.admin.pk]})
    deal = make_deal(org.rep_east, amount="12345.60")
    rep, manager = api_as(org.rep_east), api_as(org.manager_east)

    created = rep.post("/api/v1/approvals", {"document_type": TEST_TYPE, "object_id": deal.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending" and body["amount"] == "12345.60" and body["current_step"] == 1
    assert [s["kind"] for s in body["steps"]] == ["supervisor", "all_of"]
    assert body["steps"][0]["approvers"] == [{"id": org.manager_east.pk, "name": "王经理"}]
    rid = body["id"]

    pending = manager.get("/api/v1/approvals", {"box": "pending"}).json()
    assert pending["count"] == 1 and pending["items"][0]["id"] == rid
    approved = manager.post(
        f"/api/v1/approvals/{rid}/approve", {"comment": "同意", "version": body["version"]}
    )
    assert approved.status_code == 200 and approved.json()["current_step"] == 2
    assert approved.json()["steps"][0]["decisions"][0]["comment"] == "同意"

    doc = rep.get("/api/v1/approvals/document", {"document_type": TEST_TYPE, "object_id": deal.pk}).json()
    assert doc["status"] == "pending" and [r["id"] for r in doc["requests"]] == [rid]
    assert rep.get(f"/api/v1/approvals/{rid}").json()["steps"][0]["state"] == "approved"
    assert api_as(org.rep_west).get(f"/api/v1/approvals/{rid}").status_code == 404


def test_refusals_come_back_as_errors_and_change_nothing(org: SimpleNamespace, api_as: Any) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east)
    rep = api_as(org.rep_east)
    rid = rep.post("/api/v1/approvals", {"document_type": TEST_TYPE, "object_id": deal.pk}).json()["id"]
    before = list(ApprovalRequest.objects.values_list("status", "version"))

    no_comment = api_as(org.manager_east).post(f"/api/v1/approvals/{rid}/reject", {"comment": ""})
    assert no_comment.status_code == 422 and no_comment.json()["field"] == "comment"
    not_approver = api_as(org.admin).post(f"/api/v1/approvals/{rid}/approve", {})
    assert not_approver.status_code == 403 and not_approver.json()["code"] == "not_approver"
    stale = api_as(org.manager_east).post(f"/api/v1/approvals/{rid}/approve", {"version": 99})
    assert stale.status_code == 409
    twice = rep.post("/api/v1/approvals", {"document_type": TEST_TYPE, "object_id": deal.pk})
    assert twice.status_code == 409 and twice.json()["code"] == "already_pending"
    unknown = rep.post("/api/v1/approvals", {"document_type": TEST_TYPE, "object_id": deal.pk, "x": 1})
    assert unknown.status_code == 422 and unknown.json()["field"] == "x"
    bad_box = rep.get("/api/v1/approvals", {"box": "everything"})
    assert bad_box.status_code == 422 and bad_box.json()["field"] == "box"
    assert list(ApprovalRequest.objects.values_list("status", "version")) == before
    assert ApprovalDecision.objects.count() == 0

    rejected = api_as(org.manager_east).post(f"/api/v1/approvals/{rid}/reject", {"comment": "价格偏低"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert doc_status(deal) == "rejected"


def test_the_submitter_withdraws_through_the_api(org: SimpleNamespace, api_as: Any) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east)
    rep = api_as(org.rep_east)
    rid = rep.post("/api/v1/approvals", {"document_type": TEST_TYPE, "object_id": deal.pk}).json()["id"]
    assert api_as(org.manager_east).post(f"/api/v1/approvals/{rid}/withdraw", {}).status_code == 403
    done = rep.post(f"/api/v1/approvals/{rid}/withdraw", {})
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    assert rep.get("/api/v1/approvals", {"box": "submitted", "status": "withdrawn"}).json()["count"] == 1


def test_flows_crud(org: SimpleNamespace, api_as: Any) -> None:
    admin = api_as(org.admin)
    created = admin.post(
        "/api/v1/approval-flows",
        {
            "document_type": TEST_TYPE,
            "name": "华东大额",
            "department": org.east.pk,
            "min_amount": "50000",
            "steps": [{"kind": "supervisor"}, {"kind": "any_of", "users": [org.rm.pk]}],
        },
    )
    assert created.status_code == 201, created.content
    flow = created.json()
    assert (
        flow["department"] == {"id": org.east.pk, "name": "华东销售部"} and flow["min_amount"] == "50000.00"
    )
    assert [s["kind"] for s in flow["steps"]] == ["supervisor", "any_of"]
    fid = flow["id"]

    listed = admin.get("/api/v1/approval-flows", {"document_type": TEST_TYPE}).json()
    assert listed["count"] == 1
    patched = admin.patch(
        f"/api/v1/approval-flows/{fid}",
        {
            "version": flow["version"],
            "name": "华东大额合同",
            "steps": [{"kind": "all_of", "users": [org.rm.pk, org.admin.pk]}],
        },
    )
    assert patched.status_code == 200 and patched.json()["name"] == "华东大额合同"
    assert [u["id"] for u in patched.json()["steps"][0]["users"]] == sorted([org.rm.pk, org.admin.pk])
    stale = admin.patch(f"/api/v1/approval-flows/{fid}", {"version": flow["version"], "name": "旧"})
    assert stale.status_code == 409
    bad = admin.post("/api/v1/approval-flows", {"document_type": TEST_TYPE, "name": "x", "steps": []})
    assert bad.status_code == 422 and bad.json()["field"] == "steps"

    manager = api_as(org.manager_east)
    assert manager.get("/api/v1/approval-flows").status_code == 403
    assert manager.delete(f"/api/v1/approval-flows/{fid}").status_code == 403
    assert ApprovalFlow.objects.get(pk=fid).is_active
    assert admin.delete(f"/api/v1/approval-flows/{fid}").status_code == 204
    assert not ApprovalFlow.objects.get(pk=fid).is_active
    assert ApprovalStep.objects.filter(flow_id=fid).count() == 1
