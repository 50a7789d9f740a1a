"""API schemas of engagement (ENG-1): strict input, outputs built from dicts by the *_out functions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from .models import Interaction, InteractionAttachment, Task


class InteractionFields(StrictIn):
    channel: str | None = None
    direction: str | None = None
    occurred_at: datetime | None = None
    contact: int | None = None
    summary: str | None = None
    outcome: str | None = None
    next_step: str | None = None
    next_follow_up_on: date | None = None


class InteractionCreateIn(InteractionFields):
    customer: int


class InteractionPatchIn(InteractionFields):
    version: int


class AttachmentOut(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    url: str
    uploaded_at: datetime


class InteractionOut(BaseModel):
    id: int
    customer: dict[str, Any]
    contact: dict[str, Any] | None
    channel: str
    channel_label: str
    direction: str
    occurred_at: datetime
    summary: str
    outcome: str
    next_step: str
    next_follow_up_on: date | None
    created_by: dict[str, Any]
    attachments: list[AttachmentOut]
    created_at: datetime
    updated_at: datetime
    version: int


class InteractionListOut(BaseModel):
    items: list[InteractionOut]
    count: int


def attachment_out(a: InteractionAttachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "content_type": a.content_type,
        "size": a.size,
        "url": reverse("api:download_attachment", args=[a.pk]),
        "uploaded_at": a.uploaded_at,
    }


def interaction_out(i: Interaction) -> dict[str, Any]:
    return {
        "id": i.pk,
        "customer": {"id": i.customer_id, "code": i.customer.code, "name": i.customer.name},
        "contact": {"id": i.contact_id, "name": i.contact.name} if i.contact_id and i.contact else None,
        "channel": i.channel.code,
        "channel_label": i.channel.display,
        "direction": i.direction,
        "occurred_at": timezone.localtime(i.occurred_at),
        "summary": i.summary,
        "outcome": i.outcome,
        "next_step": i.next_step,
        "next_follow_up_on": i.next_follow_up_on,
        "created_by": {"id": i.created_by_id, "name": i.created_by.label},
        "attachments": [attachment_out(a) for a in i.attachments.all()],
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "version": i.version,
    }


class TaskFields(StrictIn):
    title: str | None = None
    description: str | None = None
    customer: int | None = None
    owner: int | None = None
    due_on: date | None = None


class TaskCreateIn(TaskFields):
    title: str
    due_on: date


class TaskPatchIn(TaskFields):
    version: int


class TaskCompleteIn(StrictIn):
    version: int
    result: str


class TaskCancelIn(StrictIn):
    version: int
    reason: str


class TaskReopenIn(StrictIn):
    version: int


class TaskOut(BaseModel):
    id: int
    title: str
    description: str
    customer: dict[str, Any] | None
    owner: dict[str, Any]
    due_on: date
    status: str
    overdue: bool
    result: str
    done_at: datetime | None
    created_by: dict[str, Any]
    created_at: datetime
    version: int


class TaskListOut(BaseModel):
    items: list[TaskOut]
    count: int


def task_out(t: Task) -> dict[str, Any]:
    return {
        "id": t.pk,
        "title": t.title,
        "description": t.description,
        "customer": {"id": t.customer_id, "code": t.customer.code, "name": t.customer.name}
        if t.customer_id and t.customer
        else None,
        "owner": {"id": t.owner_id, "name": t.owner.label},
        "due_on": t.due_on,
        "status": t.status,
        "overdue": t.is_overdue,
        "result": t.result,
        "done_at": t.done_at,
        "created_by": {"id": t.created_by_id, "name": t.created_by.label},
        "created_at": t.created_at,
        "version": t.version,
    }


class WorkItemOut(BaseModel):
    kind: str
    object_id: int
    title: str
    detail: str
    url: str
    when: date | None
    note: str = ""
    handleable: bool = True


class WorkSectionOut(BaseModel):
    kind: str
    label: str
    count: int
    items: list[WorkItemOut]


class DashboardScopeOut(BaseModel):
    code: str
    label: str


class DashboardBucketOut(BaseModel):
    code: str
    label: str
    count: int


class DashboardIdleOut(BaseModel):
    days: int
    count: int


class DashboardSeriesOut(BaseModel):
    name: str
    data: list[int]


class DashboardChartOut(BaseModel):
    x: list[str]
    series: list[DashboardSeriesOut]


class DashboardOut(BaseModel):
    scope: str
    scopes: list[DashboardScopeOut]
    period: str
    date_from: date
    date_to: date
    new_customers: int
    new_contacts: int
    new_interactions: int
    urgency: list[DashboardBucketOut]
    idle: list[DashboardIdleOut]
    interactions_chart: DashboardChartOut


def dashboard_out(d: Any) -> dict[str, Any]:
    return {
        "scope": d.scope,
        "scopes": d.scopes,
        "period": d.range.period,
        "date_from": d.range.start,
        "date_to": d.range.end,
        "new_customers": d.counts["customers"],
        "new_contacts": d.counts["contacts"],
        "new_interactions": d.counts["interactions"],
        "urgency": d.urgency,
        "idle": d.idle,
        "interactions_chart": d.chart,
    }


class WorkItemHandleIn(StrictIn):
    kind: str
    object_id: int


class RevisitPlanIn(StrictIn):
    name: str | None = None
    trigger: str | None = None
    is_active: bool | None = None
    status: str | None = None
    value_tier: str | None = None
    deal_status: str | None = None
    every_days: int | None = None
    due_in_days: int | None = None
    task_title: str | None = None


class RevisitPlanPatchIn(RevisitPlanIn):
    version: int


class RevisitPlanOut(BaseModel):
    id: int
    name: str
    is_active: bool
    status: str
    value_tier: str
    deal_status: str
    trigger: str
    every_days: int | None
    due_in_days: int
    task_title: str
    version: int


class RevisitRunOut(BaseModel):
    created: int


def revisit_plan_out(p: Any) -> dict[str, Any]:
    return {k: getattr(p, k) for k in (
        "name", "is_active", "status", "value_tier", "deal_status", "trigger", "every_days", "due_in_days",
        "task_title", "version")} | {"id": p.pk}  # fmt: skip
