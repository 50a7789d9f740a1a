"""Writes of the approval engine (审批, issue 4; ADR 0012): submit, approve, reject, withdraw — for
contracts (SAL-6), invoices and payment records (SAL-7) and quote discounts (SAL-5).

A request copies its document's description and the applicable flow's steps with their approvers
resolved at submission; each decision is written under a row lock *and* a versioned update of the
request, so two approvers deciding at the same moment never both apply (PostgreSQL waits on the
lock, SQLite refuses the stale version). Every change tells the document its new status through its
type's ``on_status``, notifies whoever must act next, and ends with an audit event.

Permissions: submitting needs what the document type asks (``submit_perm``) and sight of the
document; deciding is granted by the request itself — only a current approver may approve or reject,
only the submitter or the owner may withdraw. Flow configuration is in ``flows.py``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.scope import require
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.core.events import emit
from kehu.notifications.services import notify

from . import registry
from .choices import ApprovalStatus, StepKind, Verdict
from .events import ApprovalChanged
from .models import ApprovalApprover, ApprovalDecision, ApprovalFlow, ApprovalRequest
from .rules import FlowCandidate, clean_comment, pick_flow, step_done, supervisor_of

logger = logging.getLogger("kehu.approvals")

NOTIFY_KIND = "approval"


def _event(by: User | None, verb: str, req: ApprovalRequest, changes: dict[str, Any] | None = None) -> Any:
    return ApprovalChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="approval_request",
        subject_id=req.pk,
        subject_label=f"{registry.document_type_label(req.document_type)} {req.title}"[:200],
        customer_id=req.customer_id,
        changes=changes or {},
    )


def _chain(department: Department | None) -> list[int]:
    """The department's id and its ancestors' ids, nearest first (``path`` is "/root/…/own/")."""
    if department is None:
        return []
    return [int(part) for part in department.path.strip("/").split("/") if part][::-1]


def applicable_flow(*, document_type: str, department: Department | None, amount: Any) -> ApprovalFlow | None:
    """The active flow a document of ``department`` with ``amount`` goes through (``rules.pick_flow``)."""
    candidates = [
        FlowCandidate(id=pk, department_id=dept_id, min_amount=minimum)
        for pk, dept_id, minimum in ApprovalFlow.objects.filter(
            document_type=document_type, is_active=True
        ).values_list("id", "department_id", "min_amount")
    ]
    flow_id = pick_flow(candidates, _chain(department), amount)
    return ApprovalFlow.objects.get(pk=flow_id) if flow_id else None


def supervisor_for(owner: User) -> User | None:
    """The owner's supervisor (负责人的上级): their department's manager, or the nearest ancestor
    department's manager when they manage it themselves; else their direct supervisor."""
    chain = _chain(owner.department)
    managers = dict(Department.objects.filter(pk__in=chain).values_list("id", "manager_id"))
    found = supervisor_of(owner.pk, [managers.get(d) for d in chain], owner.supervisor_id)
    if found is None:
        return None
    return User.objects.filter(pk=found, is_active=True).first()


def _plan(flow: ApprovalFlow, owner: User) -> list[dict[str, Any]]:
    """The flow's steps with their approvers resolved now; a step nobody can decide is refused."""
    plan: list[dict[str, Any]] = []
    for number, step in enumerate(flow.steps.order_by("order"), 1):
        if step.kind == StepKind.SUPERVISOR:
            supervisor = supervisor_for(owner)
            if supervisor is None:
                raise ValidationError(
                    _("无法确定%(owner)s的上级：所在部门及上级部门都没有其他负责人，也没有直属上级"),
                    field="flow",
                    code="no_supervisor",
                    params={"owner": owner.label},
                )
            users = [supervisor.pk]
        else:
            users = sorted(step.users.filter(is_active=True).values_list("id", flat=True))
            if not users:
                raise ValidationError(
                    _("审批流程“%(flow)s”第 %(n)s 步没有可用的审批人"),
                    field="flow",
                    code="no_approver",
                    params={"flow": flow.name, "n": number},
                )
        plan.append({"step": number, "kind": step.kind, "users": users})
    if not plan:
        raise ValidationError(
            _("审批流程“%(flow)s”没有审批步骤"), field="flow", code="no_steps", params={"flow": flow.name}
        )
    return plan


def _latest(document_type: str, object_id: int) -> ApprovalRequest | None:
    return (
        ApprovalRequest.objects.filter(document_type=document_type, object_id=object_id)
        .order_by("-submitted_at", "-id")
        .first()
    )


def _request_url(req: ApprovalRequest) -> str:
    return reverse("approvals:detail", args=[req.pk])


def _notify_step(req: ApprovalRequest) -> None:
    """Tell the approvers of the current step that a document waits for them."""
    for approver in ApprovalApprover.objects.filter(request=req, step=req.current_step).select_related(
        "user"
    ):
        notify(
            recipient=approver.user,
            kind=NOTIFY_KIND,
            key=f"approval:{req.pk}:step:{req.current_step}",
            title=_("待您审批：%(title)s") % {"title": req.title},
            body=_("%(type)s · 提交人 %(by)s")
            % {"type": registry.document_type_label(req.document_type), "by": req.submitted_by.label},
            url=_request_url(req),
        )


def _notify_outcome(req: ApprovalRequest) -> None:
    """Tell the submitter how their request ended."""
    notify(
        recipient=req.submitted_by,
        kind=NOTIFY_KIND,
        key=f"approval:{req.pk}:{req.status}",
        title=_("审批%(status)s：%(title)s") % {"status": req.get_status_display(), "title": req.title},
        url=_request_url(req),
    )


def _notify_withdrawn(req: ApprovalRequest, approvers: list[User], by: User) -> None:
    """Tell the approvers who were waiting on the request that it no longer needs them."""
    for user in approvers:
        if user.pk == by.pk:
            continue
        notify(
            recipient=user,
            kind=NOTIFY_KIND,
            key=f"approval:{req.pk}:withdrawn:{user.pk}",
            title=_("审批已撤回，无需处理：%(title)s") % {"title": req.title},
            body=_("%(by)s 撤回了提交") % {"by": by.label},
            url=_request_url(req),
        )


def _tell_document(req: ApprovalRequest, by: User | None) -> None:
    """Hand the request's status to its document (``on_status``). The document is loaded as its
    submitter, or its owner: the approver deciding may well be outside the document's data scope."""
    doc_type = registry.document_type(req.document_type)
    for reader in (req.submitted_by, req.owner):
        try:
            doc = doc_type.load(reader, req.object_id)
        except NotFound:
            continue
        doc_type.on_status(doc, req.status, by)
        return
    # The document was deleted since submission: the request still ends, there is nothing to tell.
    logger.warning("approval request %s: document %s/%s is gone", req.pk, req.document_type, req.object_id)


@transaction.atomic
def approval_submit(*, document_type: str, object_id: int, by: User) -> ApprovalRequest:
    """Submit a document for approval (未提交/驳回/撤回 → 审批中). The flow of the document's department
    (or the nearest ancestor's, or company-wide) whose amount threshold it reaches applies; with no
    flow, or when the type says this document needs none, the request is approved at once — and
    recorded all the same. The approvers of step 1 are notified."""
    doc_type = registry.document_type(document_type)
    if doc_type.submit_perm is not None:
        require(by, doc_type.submit_perm)
    doc = doc_type.load(by, object_id)
    latest = _latest(document_type, object_id)
    if latest is not None and latest.status == ApprovalStatus.PENDING:
        raise Conflict(_("该单据已在审批中，不能重复提交"), code="already_pending")
    if latest is not None and latest.status == ApprovalStatus.APPROVED:
        raise Conflict(_("该单据已通过审批，不能再次提交"), code="already_approved")
    subject = registry.subject_of(doc_type, doc)
    flow = (
        applicable_flow(document_type=document_type, department=subject.department, amount=subject.amount)
        if doc_type.needs_approval(doc)
        else None
    )
    plan = _plan(flow, subject.owner) if flow is not None else []
    now = timezone.now()
    try:
        with transaction.atomic():
            req = ApprovalRequest.objects.create(
                document_type=document_type,
                object_id=object_id,
                flow=flow,
                flow_name=flow.name if flow else "",
                title=subject.title[:200],
                amount=subject.amount,
                currency=(subject.currency or "CNY")[:3],
                customer_id=subject.customer_id,
                url=subject.url[:300],
                owner=subject.owner,
                department=subject.department,
                status=ApprovalStatus.PENDING if plan else ApprovalStatus.APPROVED,
                plan=plan,
                current_step=1 if plan else 0,
                submitted_by=by,
                submitted_at=now,
                decided_at=None if plan else now,
            )
    except IntegrityError:
        # Another submission of the same document won the race (one pending request per document).
        raise Conflict(_("该单据已在审批中，不能重复提交"), code="already_pending") from None
    ApprovalApprover.objects.bulk_create(
        ApprovalApprover(request=req, step=step["step"], user_id=uid, is_current=step["step"] == 1)
        for step in plan
        for uid in step["users"]
    )
    doc_type.on_status(doc, req.status, by)
    if plan:
        _notify_step(req)
    before = latest.status if latest is not None else ApprovalStatus.DRAFT
    emit(
        _event(
            by,
            "submit",
            req,
            {"status": [str(before), req.status], "flow": [None, req.flow_name or None]},
        )
    )
    return req


def _locked(request_id: int, by: User) -> ApprovalRequest:
    """The request, row-locked, if ``by`` may see it; a request no longer under review is a conflict."""
    req = (
        ApprovalRequest.objects.visible_to(by)
        .select_for_update(of=("self",))
        .select_related("submitted_by", "owner")
        .filter(pk=request_id)
        .first()
    )
    if req is None:
        raise NotFound(_("审批申请不存在或您无权查看"), field="request_id", code="approval_not_found")
    if req.status != ApprovalStatus.PENDING:
        raise Conflict(
            _("该审批已结束（%(status)s），不能再处理"),
            code="not_pending",
            params={"status": req.get_status_display()},
        )
    return req


def _claim(req: ApprovalRequest, version: int | None, fields: list[str]) -> None:
    """Write the request's new state only if nobody decided in between (``version``; SEC-6)."""
    req.save_versioned(expected_version=version if version is not None else req.version, fields=fields)


def _current_approver(req: ApprovalRequest, by: User) -> None:
    """Only an approver of the step under review who has not decided it yet may decide."""
    if ApprovalApprover.objects.filter(request=req, step=req.current_step, user=by, is_current=True).exists():
        return
    # An approver of this or an earlier step came too late (someone else, or they themselves, decided);
    # one of a later step merely has to wait for their turn.
    if ApprovalApprover.objects.filter(request=req, user=by, step__lte=req.current_step).exists():
        raise Conflict(_("这一步已经处理过了（您或其他审批人），请刷新后查看"), code="already_decided")
    raise PermissionDenied(_("您不是当前步骤的审批人"), code="not_approver")


def _finish(req: ApprovalRequest, status: str) -> None:
    req.status = status
    req.current_step = 0
    req.decided_at = timezone.now()
    ApprovalApprover.objects.filter(request=req, is_current=True).update(is_current=False)


@transaction.atomic
def approval_approve(
    *, request_id: int, comment: str = "", by: User, version: int | None = None
) -> ApprovalRequest:
    """同意 the step under review. A 任一人 or supervisor step is done with this approval, a 所有人 step
    once every named approver agreed; then the next step's approvers are notified, or — after the
    last step — the request is 通过, the document told and the submitter notified."""
    req = _locked(request_id, by)
    _current_approver(req, by)
    step = req.current_step
    before = {"status": req.status, "current_step": step}
    approved = set(
        ApprovalDecision.objects.filter(request=req, step=step, verdict=Verdict.APPROVE).values_list(
            "user_id", flat=True
        )
    ) | {by.pk}
    spec = req.plan[step - 1]
    advanced = step_done(spec["kind"], spec["users"], approved)
    last = advanced and step == len(req.plan)
    if last:
        _finish(req, ApprovalStatus.APPROVED)
    elif advanced:
        req.current_step = step + 1
    _claim(req, version, ["status", "current_step", "decided_at"])
    ApprovalDecision.objects.create(
        request=req, step=step, user=by, verdict=Verdict.APPROVE, comment=clean_comment(comment)
    )
    ApprovalApprover.objects.filter(request=req, step=step, user=by).update(is_current=False)
    if last:
        _tell_document(req, by)
        _notify_outcome(req)
    elif advanced:
        # The others of a 任一人 step need not decide any more; the next step's approvers now must.
        ApprovalApprover.objects.filter(request=req, step=step).update(is_current=False)
        ApprovalApprover.objects.filter(request=req, step=req.current_step).update(is_current=True)
        _notify_step(req)
    emit(
        _event(
            by,
            "approve",
            req,
            {
                "status": [before["status"], req.status],
                "current_step": [before["current_step"], req.current_step],
                "step": [None, step],
                "comment": [None, clean_comment(comment) or None],
            },
        )
    )
    return req


@transaction.atomic
def approval_reject(
    *, request_id: int, comment: str, by: User, version: int | None = None
) -> ApprovalRequest:
    """驳回 at the step under review: the request ends 驳回 at once (the comment says why and is
    required), the document is told — it is editable again — and the submitter notified."""
    req = _locked(request_id, by)
    _current_approver(req, by)
    text = clean_comment(comment)
    if not text:
        raise ValidationError(_("驳回时请填写审批意见"), field="comment", code="comment_required")
    step = req.current_step
    _finish(req, ApprovalStatus.REJECTED)
    _claim(req, version, ["status", "current_step", "decided_at"])
    ApprovalDecision.objects.create(request=req, step=step, user=by, verdict=Verdict.REJECT, comment=text)
    _tell_document(req, by)
    _notify_outcome(req)
    emit(
        _event(
            by,
            "reject",
            req,
            {
                "status": [ApprovalStatus.PENDING.value, req.status],
                "step": [None, step],
                "comment": [None, text],
            },
        )
    )
    return req


@transaction.atomic
def approval_withdraw(*, request_id: int, by: User, version: int | None = None) -> ApprovalRequest:
    """撤回 a request still under review: only its submitter or the document's owner may; the document
    is editable again and may be submitted anew."""
    req = _locked(request_id, by)
    if by.pk not in (req.submitted_by_id, req.owner_id):
        raise PermissionDenied(_("只有提交人或单据负责人可以撤回审批"), code="not_submitter")
    waiting = [
        a.user for a in ApprovalApprover.objects.filter(request=req, is_current=True).select_related("user")
    ]
    _finish(req, ApprovalStatus.WITHDRAWN)
    _claim(req, version, ["status", "current_step", "decided_at"])
    _tell_document(req, by)
    _notify_withdrawn(req, waiting, by)
    emit(_event(by, "withdraw", req, {"status": [ApprovalStatus.PENDING.value, req.status]}))
    return req
