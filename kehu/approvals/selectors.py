"""Reads of the approval engine, always starting from ``ApprovalRequest.objects.visible_to``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require, view_scopes
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, filter_id, paginate

from . import registry
from .choices import ApprovalStatus, StepKind, Verdict
from .models import ApprovalApprover, ApprovalDecision, ApprovalFlow, ApprovalRequest

BOXES: dict[str, Any] = {"pending": _("待我审批"), "submitted": _("我发起的"), "all": _("全部")}
APPROVAL_FILTERS = frozenset({"status", "document_type", "owner", "q"})
SORTS = {
    "submitted_at": ("submitted_at", "id"),
    "-submitted_at": ("-submitted_at", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "status": ("status", "-submitted_at", "-id"),
    "-status": ("-status", "-submitted_at", "-id"),
}


def _pending_on(actor: User) -> Any:
    return ApprovalApprover.objects.filter(request=OuterRef("pk"), user=actor, is_current=True)


def sees_all_box(actor: User) -> bool:
    """The 全部 tab is for those who see more than their own: flow managers and managers whose data
    scope reaches beyond themselves (a rep's 全部 would only repeat 我发起的)."""
    return can(actor, Perm.APPROVAL_MANAGE) or len(view_scopes(actor)) > 1


def approval_list(
    *,
    actor: User,
    box: str = "pending",
    filters: dict[str, Any] | None = None,
    sort: str = "-submitted_at",
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """Approval requests of one box: 待我审批 (waiting for the actor's decision now), 我发起的 (submitted by
    the actor) or 全部 (every request the actor may see), filtered by status, document type, owner or a
    title search."""
    if box not in BOXES:
        raise ValidationError(
            _("列表“%(box)s”无效（可选：pending, submitted, all）"), field="box", params={"box": box}
        )
    if sort not in SORTS:
        raise ValidationError(_("排序字段无效：%(s)s"), field="sort", params={"s": sort})
    f = clean_filters(filters, APPROVAL_FILTERS)
    qs = ApprovalRequest.objects.visible_to(actor)
    if box == "pending":
        qs = qs.filter(Exists(_pending_on(actor)))
    elif box == "submitted":
        qs = qs.filter(submitted_by=actor)
    if "status" in f:
        if f["status"] not in ApprovalStatus.values:
            raise ValidationError(_("状态无效：%(s)s"), field="status", params={"s": f["status"]})
        qs = qs.filter(status=f["status"])
    if "document_type" in f:
        qs = qs.filter(document_type=registry.document_type(str(f["document_type"])).key)
    if "owner" in f:
        qs = qs.filter(owner_id=filter_id(f, "owner"))
    if "q" in f:
        qs = qs.filter(title__icontains=str(f["q"]).strip())
    qs = qs.select_related("owner", "submitted_by", "department").order_by(*SORTS[sort])
    return paginate(qs, limit=limit, offset=offset)


def pending_count(*, actor: User) -> int:
    """How many requests wait for the actor's decision (the nav badge): one partial-index range."""
    if not getattr(actor, "is_authenticated", False):
        return 0
    return ApprovalApprover.objects.filter(user=actor, is_current=True).count()


def approval_get(*, actor: User, request_id: int) -> ApprovalRequest:
    """One request the actor may see; otherwise ``NotFound`` (never says it exists)."""
    found = (
        ApprovalRequest.objects.visible_to(actor)
        .select_related("owner", "submitted_by", "department", "flow")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound(_("审批申请不存在或您无权查看"), field="request_id", code="approval_not_found")
    return found


@dataclass(frozen=True)
class StepView:
    """One step of a request as the detail page and the API show it."""

    number: int
    kind: str
    kind_label: str
    approvers: list[User]
    decisions: list[ApprovalDecision]
    state: str  # "waiting" | "current" | "approved" | "rejected" | "skipped"


def approval_steps(req: ApprovalRequest) -> list[StepView]:
    """The request's steps with their approvers and who decided what, when and why."""
    users = {u.pk: u for u in User.objects.filter(pk__in={uid for s in req.plan for uid in s["users"]})}
    decisions: dict[int, list[ApprovalDecision]] = {}
    for d in ApprovalDecision.objects.filter(request=req).select_related("user").order_by("at", "id"):
        decisions.setdefault(d.step, []).append(d)
    out = []
    for spec in req.plan:
        number = spec["step"]
        mine = decisions.get(number, [])
        if any(d.verdict == Verdict.REJECT for d in mine):
            state = "rejected"
        elif req.is_pending and number == req.current_step:
            state = "current"
        elif req.is_pending and number > req.current_step:
            state = "waiting"
        elif mine:
            state = "approved"
        else:
            state = "skipped"
        out.append(
            StepView(
                number=number,
                kind=spec["kind"],
                kind_label=str(StepKind(spec["kind"]).label),
                approvers=[users[uid] for uid in spec["users"] if uid in users],
                decisions=mine,
                state=state,
            )
        )
    return out


def can_decide(req: ApprovalRequest, actor: User) -> bool:
    """Whether the actor is an approver of the step under review who has not decided it yet."""
    return (
        req.is_pending
        and ApprovalApprover.objects.filter(
            request=req, step=req.current_step, user=actor, is_current=True
        ).exists()
    )


def can_withdraw(req: ApprovalRequest, actor: User) -> bool:
    return req.is_pending and actor.pk in (req.submitted_by_id, req.owner_id)


def approval_history(document_type: str, object_id: int, *, actor: User) -> list[ApprovalRequest]:
    """Every request of one document, newest first, for someone who may see the document (its type's
    ``load`` decides, so the history follows the document's own visibility)."""
    registry.document_type(document_type).load(actor, object_id)
    return list(
        ApprovalRequest.objects.filter(document_type=document_type, object_id=object_id)
        .select_related("submitted_by")
        .prefetch_related("decisions__user")
        .order_by("-submitted_at", "-id")
    )


def approval_status(document_type: str, object_id: int) -> str:
    """The document's approval status: its latest request's, 未提交 when it was never submitted."""
    latest = (
        ApprovalRequest.objects.filter(document_type=document_type, object_id=object_id)
        .order_by("-submitted_at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return latest or ApprovalStatus.DRAFT.value


def worklist_section(actor: User, today: Any, shown: int) -> tuple[int, list[dict[str, Any]]]:
    """The 待我审批 section of the home page's 待办 (registered with engagement's work list): how many
    requests wait for the actor, and the oldest ``shown`` of them."""
    count = pending_count(actor=actor)
    if not count:
        return 0, []
    rows = (
        ApprovalRequest.objects.visible_to(actor)
        .filter(Exists(_pending_on(actor)))
        .select_related("submitted_by")
        .order_by("submitted_at", "id")[:shown]
    )
    return count, [
        {
            "object_id": r.pk,
            "title": r.title,
            "detail": f"{registry.document_type_label(r.document_type)} · {r.submitted_by.label}",
            "url": reverse("approvals:detail", args=[r.pk]),
            "when": timezone.localtime(r.submitted_at).date(),
        }
        for r in rows
    ]


# --- flows ----------------------------------------------------------------------------------------------

FLOW_FILTERS = frozenset({"document_type", "department", "is_active"})


def approval_flow_list(
    *, actor: User, filters: dict[str, Any] | None = None, limit: Any = None, offset: Any = None
) -> Page:
    """The configured flows (``approval.manage``), by document type and department."""
    require(actor, Perm.APPROVAL_MANAGE)
    f = clean_filters(filters, FLOW_FILTERS)
    qs = ApprovalFlow.objects.select_related("department").prefetch_related("steps__users")
    if "document_type" in f:
        qs = qs.filter(document_type=str(f["document_type"]))
    if "department" in f:
        qs = qs.filter(department_id=filter_id(f, "department"))
    if "is_active" in f:
        qs = qs.filter(is_active=str(f["is_active"]).lower() in ("1", "true", "yes"))
    return paginate(
        qs.order_by("document_type", "department__path", "min_amount", "id"), limit=limit, offset=offset
    )


def approval_flow_get(*, actor: User, flow_id: int) -> ApprovalFlow:
    require(actor, Perm.APPROVAL_MANAGE)
    flow = (
        ApprovalFlow.objects.select_related("department")
        .prefetch_related("steps__users")
        .filter(pk=flow_id)
        .first()
    )
    if flow is None:
        raise NotFound(_("审批流程不存在"), field="flow_id", code="flow_not_found")
    return flow


def approver_choices(*, actor: User) -> list[User]:
    """Users a flow's named steps may name (the users picker): the active users, by department."""
    require(actor, Perm.APPROVAL_MANAGE)
    return list(
        User.objects.filter(is_active=True)
        .select_related("department")
        .order_by("department__path", "id")[:2000]
    )
