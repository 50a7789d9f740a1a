"""Who sees which approval requests, the boxes, a document's history and status, the 待办 section."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from kehu.approvals import selectors, services
from kehu.approvals.choices import ApprovalStatus
from kehu.core.errors import NotFound, PermissionDenied, ValidationError
from kehu.engagement.worklist import work_list

from .conftest import TEST_TYPE, any_of, make_deal, make_flow, supervisor

pytestmark = pytest.mark.django_db


def submit(deal: Any, by: Any) -> Any:
    return services.approval_submit(document_type=TEST_TYPE, object_id=deal.pk, by=by)


def titles(page: Any) -> list[str]:
    return [r.title for r in page.items]


@pytest.fixture
def requests(org: SimpleNamespace) -> SimpleNamespace:
    make_flow(org.admin, supervisor(), any_of(org.marketing))
    east = submit(make_deal(org.rep_east, name="华东单", amount="500"), org.rep_east)
    west = submit(make_deal(org.rep_west, name="华南单", amount="900"), org.rep_west)
    return SimpleNamespace(east=east, west=west)


def test_the_boxes_of_an_approver_and_a_submitter(org: SimpleNamespace, requests: SimpleNamespace) -> None:
    assert titles(selectors.approval_list(actor=org.manager_east, box="pending")) == ["测试单据 华东单"]
    assert titles(selectors.approval_list(actor=org.rm, box="pending")) == [
        "测试单据 华南单"
    ]  # 销售部's manager
    assert titles(selectors.approval_list(actor=org.rep_east, box="pending")) == []
    assert titles(selectors.approval_list(actor=org.rep_east, box="submitted")) == ["测试单据 华东单"]
    # The second step's approver has nothing pending until the first step is done.
    assert selectors.approval_list(actor=org.marketing, box="pending").count == 0
    services.approval_approve(request_id=requests.east.pk, by=org.manager_east)
    assert titles(selectors.approval_list(actor=org.marketing, box="pending")) == ["测试单据 华东单"]
    assert selectors.approval_list(actor=org.manager_east, box="pending").count == 0


def test_who_sees_a_request(org: SimpleNamespace, requests: SimpleNamespace) -> None:
    def visible(actor: Any) -> set[str]:
        return set(titles(selectors.approval_list(actor=actor, box="all")))

    assert visible(org.admin) == {"测试单据 华东单", "测试单据 华南单"}  # approval.manage
    assert visible(org.manager_east) == {"测试单据 华东单"}  # approver, and the owner is in scope
    assert visible(org.rep_east) == {"测试单据 华东单"}  # submitter
    assert visible(org.rep_east2) == set()
    assert visible(org.rep_west) == {"测试单据 华南单"}
    assert visible(org.auditor) == {"测试单据 华东单", "测试单据 华南单"}  # the 全部 data scope
    assert visible(org.marketing) == {"测试单据 华东单", "测试单据 华南单"}  # a (later) approver of both
    with pytest.raises(NotFound):
        selectors.approval_get(actor=org.rep_west, request_id=requests.east.pk)


def test_filters_sorting_and_bad_input(org: SimpleNamespace, requests: SimpleNamespace) -> None:
    page = selectors.approval_list(actor=org.admin, box="all", sort="-amount")
    assert titles(page) == ["测试单据 华南单", "测试单据 华东单"]
    page = selectors.approval_list(actor=org.admin, box="all", filters={"q": "华南"})
    assert titles(page) == ["测试单据 华南单"]
    page = selectors.approval_list(actor=org.admin, box="all", filters={"owner": org.rep_east.pk})
    assert titles(page) == ["测试单据 华东单"]
    assert selectors.approval_list(actor=org.admin, box="all", filters={"status": "approved"}).count == 0
    for kwargs, field in (
        ({"box": "mine"}, "box"),
        ({"sort": "owner"}, "sort"),
        ({"filters": {"status": "lost"}}, "status"),
        ({"filters": {"colour": "red"}}, "colour"),
        ({"filters": {"document_type": "nope"}}, "document_type"),
    ):
        with pytest.raises(ValidationError) as err:
            selectors.approval_list(actor=org.admin, **kwargs)
        assert err.value.field == field


def test_a_documents_history_and_status(org: SimpleNamespace) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east)
    assert selectors.approval_status(TEST_TYPE, deal.pk) == ApprovalStatus.DRAFT
    first = submit(deal, org.rep_east)
    services.approval_reject(request_id=first.pk, comment="金额不对", by=org.manager_east)
    second = submit(deal, org.rep_east)
    assert selectors.approval_status(TEST_TYPE, deal.pk) == ApprovalStatus.PENDING
    history = selectors.approval_history(TEST_TYPE, deal.pk, actor=org.manager_east)
    assert [r.pk for r in history] == [second.pk, first.pk]
    assert [d.comment for d in history[1].decisions.all()] == ["金额不对"]
    # The history follows the document's visibility.
    with pytest.raises(NotFound):
        selectors.approval_history(TEST_TYPE, deal.pk, actor=org.rep_west)


def test_the_steps_of_a_request_say_who_decided_what(org: SimpleNamespace, requests: SimpleNamespace) -> None:
    services.approval_approve(request_id=requests.east.pk, comment="可以", by=org.manager_east)
    req = selectors.approval_get(actor=org.rep_east, request_id=requests.east.pk)
    steps = selectors.approval_steps(req)
    assert [(s.number, s.kind, s.state) for s in steps] == [
        (1, "supervisor", "approved"),
        (2, "any_of", "current"),
    ]
    assert [d.comment for d in steps[0].decisions] == ["可以"] and steps[1].approvers == [org.marketing]
    assert selectors.can_decide(req, org.marketing) and not selectors.can_decide(req, org.manager_east)
    assert selectors.can_withdraw(req, org.rep_east) and not selectors.can_withdraw(req, org.marketing)


def test_pending_approvals_appear_in_the_work_list(org: SimpleNamespace, requests: SimpleNamespace) -> None:
    sections = {s.kind: s for s in work_list(actor=org.manager_east)}
    mine = sections["approval_pending"]
    assert mine.count == 1 and [i.title for i in mine.items] == ["测试单据 华东单"]
    assert mine.items[0].url == f"/approvals/{requests.east.pk}/" and not mine.items[0].handleable
    assert sections["approval_pending"].label == "待我审批"
    assert {s.kind: s.count for s in work_list(actor=org.rep_east)}["approval_pending"] == 0


def test_flows_are_read_by_approval_managers_only(org: SimpleNamespace) -> None:
    flow = make_flow(org.admin, supervisor(), department=org.east)
    assert [f.pk for f in selectors.approval_flow_list(actor=org.admin).items] == [flow.pk]
    assert selectors.approval_flow_list(actor=org.admin, filters={"department": org.west.pk}).count == 0
    with pytest.raises(PermissionDenied):
        selectors.approval_flow_list(actor=org.manager_east)
    with pytest.raises(PermissionDenied):
        selectors.approval_flow_get(actor=org.rep_east, flow_id=flow.pk)
