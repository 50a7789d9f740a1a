"""The approval engine's services, told as stories about the cast (issue 4, 审批)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from kehu.approvals import flows, services
from kehu.approvals.choices import ApprovalStatus
from kehu.approvals.models import (
    ApprovalApprover,
    ApprovalDecision,
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStep,
)
from kehu.approvals.selectors import pending_count
from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.notifications.models import Notification

from .conftest import STATUS_CALLS, TEST_TYPE, all_of, any_of, doc_status, make_deal, make_flow, supervisor

pytestmark = pytest.mark.django_db
ENGINE_TABLES = (ApprovalRequest, ApprovalDecision, ApprovalApprover, AuditEvent, Notification)


def submit(deal: Any, by: Any) -> ApprovalRequest:
    return services.approval_submit(document_type=TEST_TYPE, object_id=deal.pk, by=by)


def notified(user: Any) -> list[str]:
    return list(Notification.objects.filter(recipient=user, kind="approval").values_list("title", flat=True))


# --- submission -------------------------------------------------------------------------------------------


def test_without_a_flow_a_document_is_approved_at_once_and_that_is_recorded(org: SimpleNamespace) -> None:
    deal = make_deal(org.rep_east)
    req = submit(deal, org.rep_east)
    assert req.status == ApprovalStatus.APPROVED and req.decided_at is not None and req.plan == []
    assert doc_status(deal) == ApprovalStatus.APPROVED
    assert AuditEvent.objects.filter(
        subject_type="approval_request", subject_id=req.pk, verb="submit"
    ).exists()


def test_a_document_that_needs_no_approval_skips_the_flow(org: SimpleNamespace) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east, description="样品单，免审")
    assert submit(deal, org.rep_east).status == ApprovalStatus.APPROVED


def test_the_owners_supervisor_approves_a_reps_document(org: SimpleNamespace) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east, amount="8800")
    req = submit(deal, org.rep_east)
    assert req.status == ApprovalStatus.PENDING and req.current_step == 1
    assert req.plan == [{"step": 1, "kind": "supervisor", "users": [org.manager_east.pk]}]
    assert doc_status(deal) == ApprovalStatus.PENDING
    assert req.title == "测试单据 华东大单" and str(req.amount) == "8800.00" and req.owner == org.rep_east
    assert pending_count(actor=org.manager_east) == 1
    assert notified(org.manager_east) == ["待您审批：测试单据 华东大单"]

    services.approval_approve(request_id=req.pk, comment="同意，注意回款", by=org.manager_east)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.APPROVED and req.current_step == 0 and req.decided_at
    assert doc_status(deal) == ApprovalStatus.APPROVED
    assert STATUS_CALLS[-1] == (deal.pk, "approved", org.manager_east.pk)
    assert pending_count(actor=org.manager_east) == 0
    assert notified(org.rep_east) == ["审批通过：测试单据 华东大单"]
    decision = ApprovalDecision.objects.get(request=req)
    assert (decision.user, decision.verdict, decision.comment) == (
        org.manager_east,
        "approve",
        "同意，注意回款",
    )
    assert AuditEvent.objects.filter(
        subject_id=req.pk, subject_type="approval_request", verb="approve"
    ).exists()


def test_a_manager_owning_the_document_is_approved_by_the_parent_departments_manager(
    org: SimpleNamespace,
) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.manager_east)
    req = submit(deal, org.manager_east)
    assert req.plan[0]["users"] == [org.rm.pk]  # 销售部's manager, above 华东


def test_without_department_managers_the_direct_supervisor_decides(cast: SimpleNamespace) -> None:
    make_flow(cast.admin, supervisor())
    req = submit(make_deal(cast.rep_east), cast.rep_east)
    assert req.plan[0]["users"] == [cast.manager_east.pk]  # rep_east's 直属上级


def test_nobody_above_the_owner_refuses_the_submission_and_writes_nothing(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    make_flow(cast.admin, supervisor())
    deal = make_deal(cast.rep_west)  # no department manager anywhere, no direct supervisor
    with nothing_changes(*ENGINE_TABLES), pytest.raises(ValidationError) as err:
        submit(deal, cast.rep_west)
    assert err.value.field == "flow" and err.value.code == "no_supervisor"
    assert doc_status(deal) == ApprovalStatus.DRAFT


def test_a_document_under_review_or_approved_cannot_be_submitted_again(
    org: SimpleNamespace, nothing_changes: Any
) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east)
    req = submit(deal, org.rep_east)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(Conflict) as err:
        submit(deal, org.rep_east)
    assert err.value.code == "already_pending"
    services.approval_approve(request_id=req.pk, by=org.manager_east)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(Conflict) as err:
        submit(deal, org.rep_east)
    assert err.value.code == "already_approved"


def test_someone_who_cannot_see_the_document_cannot_submit_it(
    org: SimpleNamespace, nothing_changes: Any
) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(NotFound):
        submit(deal, org.rep_west)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(ValidationError) as err:
        services.approval_submit(document_type="no_such_type", object_id=deal.pk, by=org.rep_east)
    assert err.value.field == "document_type"


# --- flows by department and amount -------------------------------------------------------------------------


def test_a_department_flow_covers_its_sub_departments_unless_they_have_their_own(
    org: SimpleNamespace,
) -> None:
    make_flow(org.admin, any_of(org.admin), name="公司流程")
    make_flow(org.admin, any_of(org.rm), department=org.sales, name="销售部流程")
    assert submit(make_deal(org.rep_east), org.rep_east).flow_name == "销售部流程"
    assert submit(make_deal(org.rep_west), org.rep_west).flow_name == "销售部流程"
    make_flow(org.admin, supervisor(), department=org.east, name="华东流程")
    assert submit(make_deal(org.rep_east, name="又一单"), org.rep_east).flow_name == "华东流程"
    assert submit(make_deal(org.rep_west, name="华南单"), org.rep_west).flow_name == "销售部流程"


def test_a_minimum_amount_limits_a_flow_to_large_documents(org: SimpleNamespace) -> None:
    make_flow(org.admin, supervisor(), name="日常")
    make_flow(org.admin, supervisor(), any_of(org.admin), min_amount="100000", name="大额")
    small = submit(make_deal(org.rep_east, amount="99999.99"), org.rep_east)
    large = submit(make_deal(org.rep_east, amount="100000", name="大单"), org.rep_east)
    assert small.flow_name == "日常" and small.step_count == 1
    assert large.flow_name == "大额" and large.step_count == 2


def test_a_deactivated_flow_no_longer_applies(org: SimpleNamespace) -> None:
    flow = make_flow(org.admin, supervisor())
    flows.approval_flow_deactivate(flow_id=flow.pk, by=org.admin)
    assert submit(make_deal(org.rep_east), org.rep_east).status == ApprovalStatus.APPROVED


# --- step kinds ---------------------------------------------------------------------------------------------


def test_any_one_of_the_named_users_decides_the_step(org: SimpleNamespace, nothing_changes: Any) -> None:
    make_flow(org.admin, any_of(org.rm, org.manager_east), supervisor())
    req = submit(make_deal(org.rep_east), org.rep_east)
    assert pending_count(actor=org.rm) == 1 and pending_count(actor=org.manager_east) == 1
    services.approval_approve(request_id=req.pk, by=org.rm)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.PENDING and req.current_step == 2
    # The other named user of step 1 need not decide any more; as the supervisor they now decide step 2.
    assert list(
        ApprovalApprover.objects.filter(request=req, is_current=True).values_list("step", "user_id")
    ) == [(2, org.manager_east.pk)]
    assert pending_count(actor=org.rm) == 0
    services.approval_approve(request_id=req.pk, by=org.manager_east)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.APPROVED


def test_a_named_user_who_was_beaten_to_it_is_told_so(org: SimpleNamespace, nothing_changes: Any) -> None:
    make_flow(org.admin, any_of(org.rm, org.manager_east), any_of(org.admin))
    req = submit(make_deal(org.rep_east), org.rep_east)
    services.approval_approve(request_id=req.pk, by=org.rm)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(Conflict) as err:
        services.approval_approve(request_id=req.pk, by=org.manager_east)
    assert err.value.code == "already_decided"


def test_all_of_the_named_users_must_approve(org: SimpleNamespace) -> None:
    make_flow(org.admin, all_of(org.rm, org.manager_east, org.admin))
    deal = make_deal(org.rep_east)
    req = submit(deal, org.rep_east)
    services.approval_approve(request_id=req.pk, by=org.manager_east)
    services.approval_approve(request_id=req.pk, by=org.rm)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.PENDING and req.current_step == 1
    assert doc_status(deal) == ApprovalStatus.PENDING
    assert pending_count(actor=org.rm) == 0 and pending_count(actor=org.admin) == 1
    services.approval_approve(request_id=req.pk, comment="三人会签完成", by=org.admin)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.APPROVED and doc_status(deal) == ApprovalStatus.APPROVED
    assert ApprovalDecision.objects.filter(request=req).count() == 3


def test_the_next_steps_approvers_are_notified_when_a_step_is_done(org: SimpleNamespace) -> None:
    make_flow(org.admin, supervisor(), all_of(org.rm, org.admin))
    req = submit(make_deal(org.rep_east, name="分步单"), org.rep_east)
    assert notified(org.rm) == [] and notified(org.admin) == []
    services.approval_approve(request_id=req.pk, by=org.manager_east)
    assert notified(org.rm) == ["待您审批：测试单据 分步单"] and notified(org.admin) == [
        "待您审批：测试单据 分步单"
    ]


def test_editing_a_flow_leaves_running_requests_on_their_plan(org: SimpleNamespace) -> None:
    flow = make_flow(org.admin, supervisor())
    req = submit(make_deal(org.rep_east), org.rep_east)
    flows.approval_flow_update(
        flow_id=flow.pk,
        version=flow.version,
        data={"steps": [any_of(org.admin), any_of(org.rm)]},
        by=org.admin,
    )
    assert [s.kind for s in ApprovalStep.objects.filter(flow=flow)] == ["any_of", "any_of"]
    services.approval_approve(request_id=req.pk, by=org.manager_east)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.APPROVED


# --- reject, withdraw, refusals -----------------------------------------------------------------------------


def test_rejecting_needs_a_comment_and_then_ends_the_request(
    org: SimpleNamespace, nothing_changes: Any
) -> None:
    make_flow(org.admin, supervisor(), any_of(org.admin))
    deal = make_deal(org.rep_east, name="折扣单")
    req = submit(deal, org.rep_east)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(ValidationError) as err:
        services.approval_reject(request_id=req.pk, comment="   ", by=org.manager_east)
    assert err.value.field == "comment"
    services.approval_reject(request_id=req.pk, comment="折扣太大，请重新报价", by=org.manager_east)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.REJECTED and req.current_step == 0
    assert doc_status(deal) == ApprovalStatus.REJECTED
    assert notified(org.rep_east) == ["审批驳回：测试单据 折扣单"]
    assert not ApprovalApprover.objects.filter(request=req, is_current=True).exists()
    # A rejected document may be corrected and submitted again: a new request.
    again = submit(deal, org.rep_east)
    assert again.pk != req.pk and again.status == ApprovalStatus.PENDING
    assert doc_status(deal) == ApprovalStatus.PENDING


def test_the_submitter_withdraws_a_pending_request_but_an_approver_may_not(
    org: SimpleNamespace, nothing_changes: Any
) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east)
    req = submit(deal, org.rep_east)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(PermissionDenied):
        services.approval_withdraw(request_id=req.pk, by=org.manager_east)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(NotFound):
        services.approval_withdraw(request_id=req.pk, by=org.rep_east2)
    services.approval_withdraw(request_id=req.pk, by=org.rep_east)
    req.refresh_from_db()
    assert req.status == ApprovalStatus.WITHDRAWN and doc_status(deal) == ApprovalStatus.WITHDRAWN
    assert pending_count(actor=org.manager_east) == 0
    # The supervisor who was waiting hears it is withdrawn (besides the 待您审批 notice of the submission).
    from kehu.notifications.models import Notification

    told = Notification.objects.get(
        recipient=org.manager_east, key=f"approval:{req.pk}:withdrawn:{org.manager_east.pk}"
    )
    assert "撤回" in told.title and not Notification.objects.filter(
        key__contains="withdrawn", recipient=org.rep_east
    )
    with nothing_changes(*ENGINE_TABLES), pytest.raises(Conflict) as err:
        services.approval_approve(request_id=req.pk, by=org.manager_east)
    assert err.value.code == "not_pending"


def test_someone_who_is_not_a_current_approver_is_refused_and_nothing_changes(
    org: SimpleNamespace, nothing_changes: Any
) -> None:
    make_flow(org.admin, supervisor(), any_of(org.rm))
    deal = make_deal(org.rep_east)
    req = submit(deal, org.rep_east)
    with nothing_changes(*ENGINE_TABLES):
        # The admin sees every request (approval.manage) but is no approver of it.
        with pytest.raises(PermissionDenied) as err:
            services.approval_approve(request_id=req.pk, by=org.admin)
        assert err.value.code == "not_approver"
        # rm decides step 2, not step 1.
        with pytest.raises(PermissionDenied):
            services.approval_reject(request_id=req.pk, comment="不行", by=org.rm)
        # The submitter may not approve their own request; a colleague cannot even see it.
        with pytest.raises(PermissionDenied):
            services.approval_approve(request_id=req.pk, by=org.rep_east)
        with pytest.raises(NotFound):
            services.approval_approve(request_id=req.pk, by=org.rep_west)
    assert doc_status(deal) == ApprovalStatus.PENDING


def test_a_decision_on_a_stale_version_is_refused(org: SimpleNamespace, nothing_changes: Any) -> None:
    make_flow(org.admin, all_of(org.rm, org.manager_east))
    req = submit(make_deal(org.rep_east), org.rep_east)
    seen = req.version  # both approvers opened the page at this version
    services.approval_approve(request_id=req.pk, version=seen, by=org.rm)
    with nothing_changes(*ENGINE_TABLES), pytest.raises(Conflict) as err:
        services.approval_approve(request_id=req.pk, version=seen, by=org.manager_east)
    assert err.value.code == "stale_version"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite: versioned write above)"
)
def test_two_approvers_deciding_at_the_same_moment_do_not_both_apply(org: SimpleNamespace) -> None:
    make_flow(org.admin, any_of(org.rm, org.manager_east), any_of(org.admin))
    req = submit(make_deal(org.rep_east), org.rep_east)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user: Any) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.approval_approve(request_id=req.pk, by=user)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (org.rm, org.manager_east)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_decided", "ok"]
    req.refresh_from_db()
    assert req.current_step == 2 and ApprovalDecision.objects.filter(request=req).count() == 1


# --- flow configuration -------------------------------------------------------------------------------------


def test_only_approval_managers_configure_flows(org: SimpleNamespace, nothing_changes: Any) -> None:
    flow = make_flow(org.admin, supervisor())
    with nothing_changes(ApprovalFlow, ApprovalStep, AuditEvent):
        with pytest.raises(PermissionDenied):
            make_flow(org.manager_east, supervisor())
        with pytest.raises(PermissionDenied):
            flows.approval_flow_update(
                flow_id=flow.pk, version=flow.version, data={"name": "x"}, by=org.rep_east
            )
        with pytest.raises(PermissionDenied):
            flows.approval_flow_deactivate(flow_id=flow.pk, by=org.manager_east)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"document_type": "nope"}, "document_type"),
        ({"name": " "}, "name"),
        ({"steps": []}, "steps"),
        ({"steps": [{"kind": "any_of", "users": []}]}, "steps"),
        ({"steps": [{"kind": "boss"}]}, "steps"),
        ({"steps": [{"kind": "all_of", "users": [999999]}]}, "steps"),
        ({"min_amount": "-1"}, "min_amount"),
        ({"min_amount": "abc"}, "min_amount"),
        ({"department": 999999}, "department"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_flow_input_names_the_field_and_writes_nothing(
    org: SimpleNamespace, nothing_changes: Any, data: dict[str, Any], field: str
) -> None:
    base = {"document_type": TEST_TYPE, "name": "流程", "steps": [supervisor()]}
    with nothing_changes(ApprovalFlow, ApprovalStep, AuditEvent), pytest.raises(ValidationError) as err:
        flows.approval_flow_create(data={**base, **data}, by=org.admin)
    assert err.value.field == field


def test_flow_changes_are_audited_and_a_stale_version_is_refused(
    org: SimpleNamespace, nothing_changes: Any
) -> None:
    flow = make_flow(org.admin, supervisor(), name="合同审批")
    flows.approval_flow_update(
        flow_id=flow.pk,
        version=flow.version,
        data={"name": "合同审批（新）", "min_amount": "5000"},
        by=org.admin,
    )
    event = AuditEvent.objects.filter(subject_type="approval_flow", subject_id=flow.pk, verb="update").get()
    assert event.changes["name"] == ["合同审批", "合同审批（新）"]
    with nothing_changes(ApprovalFlow, ApprovalStep, AuditEvent), pytest.raises(Conflict):
        flows.approval_flow_update(flow_id=flow.pk, version=1, data={"name": "旧"}, by=org.admin)
