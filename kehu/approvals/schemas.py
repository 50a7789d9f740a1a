"""API schemas of the approval engine: strict input, outputs built from the models by *_out functions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from . import registry
from .models import ApprovalFlow, ApprovalRequest
from .selectors import approval_steps


class SubmitIn(StrictIn):
    document_type: str
    object_id: int


class DecideIn(StrictIn):
    comment: str = ""
    version: int | None = None


class WithdrawIn(StrictIn):
    version: int | None = None


class StepIn(StrictIn):
    kind: str
    users: list[int] = []


class FlowCreateIn(StrictIn):
    document_type: str
    name: str
    department: int | None = None
    min_amount: Decimal | None = None
    is_active: bool = True
    steps: list[StepIn]


class FlowPatchIn(StrictIn):
    version: int
    document_type: str | None = None
    name: str | None = None
    department: int | None = None
    min_amount: Decimal | None = None
    is_active: bool | None = None
    steps: list[StepIn] | None = None


class UserRefOut(BaseModel):
    id: int
    name: str


class DecisionOut(BaseModel):
    user: UserRefOut
    verdict: str
    comment: str
    at: datetime


class StepOut(BaseModel):
    step: int
    kind: str
    kind_label: str
    state: str
    approvers: list[UserRefOut]
    decisions: list[DecisionOut]


class ApprovalOut(BaseModel):
    id: int
    document_type: str
    document_type_label: str
    object_id: int
    title: str
    amount: Decimal | None
    currency: str
    customer_id: int | None
    document_url: str
    url: str
    owner: UserRefOut
    department: str | None
    flow: str
    status: str
    status_label: str
    current_step: int
    step_count: int
    submitted_by: UserRefOut
    submitted_at: datetime
    decided_at: datetime | None
    version: int


class ApprovalDetailOut(ApprovalOut):
    steps: list[StepOut]


class ApprovalListOut(BaseModel):
    items: list[ApprovalOut]
    count: int


class DocumentApprovalOut(BaseModel):
    document_type: str
    object_id: int
    status: str
    requests: list[ApprovalDetailOut]


class FlowStepOut(BaseModel):
    order: int
    kind: str
    kind_label: str
    users: list[UserRefOut]


class FlowOut(BaseModel):
    id: int
    document_type: str
    document_type_label: str
    department: dict[str, Any] | None
    name: str
    min_amount: Decimal | None
    is_active: bool
    steps: list[FlowStepOut]
    version: int


class FlowListOut(BaseModel):
    items: list[FlowOut]
    count: int


def user_ref(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": user.label}


def approval_out(req: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": req.pk,
        "document_type": req.document_type,
        "document_type_label": registry.document_type_label(req.document_type),
        "object_id": req.object_id,
        "title": req.title,
        "amount": req.amount,
        "currency": req.currency,
        "customer_id": req.customer_id,
        "document_url": req.url,
        "url": reverse("approvals:detail", args=[req.pk]),
        "owner": user_ref(req.owner),
        "department": req.department.name if req.department_id and req.department else None,
        "flow": req.flow_name,
        "status": req.status,
        "status_label": req.get_status_display(),
        "current_step": req.current_step,
        "step_count": req.step_count,
        "submitted_by": user_ref(req.submitted_by),
        "submitted_at": req.submitted_at,
        "decided_at": req.decided_at,
        "version": req.version,
    }


def approval_detail_out(req: ApprovalRequest) -> dict[str, Any]:
    steps = [
        {
            "step": s.number,
            "kind": s.kind,
            "kind_label": s.kind_label,
            "state": s.state,
            "approvers": [user_ref(u) for u in s.approvers],
            "decisions": [
                {"user": user_ref(d.user), "verdict": d.verdict, "comment": d.comment, "at": d.at}
                for d in s.decisions
            ],
        }
        for s in approval_steps(req)
    ]
    return {**approval_out(req), "steps": steps}


def flow_out(flow: ApprovalFlow) -> dict[str, Any]:
    return {
        "id": flow.pk,
        "document_type": flow.document_type,
        "document_type_label": registry.document_type_label(flow.document_type),
        "department": {"id": flow.department.pk, "name": flow.department.name}
        if flow.department_id and flow.department
        else None,
        "name": flow.name,
        "min_amount": flow.min_amount,
        "is_active": flow.is_active,
        "steps": [
            {
                "order": s.order,
                "kind": s.kind,
                "kind_label": s.get_kind_display(),
                "users": [user_ref(u) for u in s.users.all()],
            }
            for s in flow.steps.all()
        ],
        "version": flow.version,
    }
