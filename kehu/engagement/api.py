"""Thin REST endpoints over the engagement services and selectors (ENG-1, INT-2)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS
from kehu.core.web import download_response

from . import revisits, selectors, services
from .dashboard import dashboard
from .schemas import (
    AttachmentOut,
    DashboardOut,
    InteractionCreateIn,
    InteractionListOut,
    InteractionOut,
    InteractionPatchIn,
    RevisitPlanIn,
    RevisitPlanOut,
    RevisitPlanPatchIn,
    RevisitRunOut,
    TaskCancelIn,
    TaskCompleteIn,
    TaskCreateIn,
    TaskListOut,
    TaskOut,
    TaskPatchIn,
    TaskReopenIn,
    WorkItemHandleIn,
    WorkSectionOut,
    attachment_out,
    dashboard_out,
    interaction_out,
    revisit_plan_out,
    task_out,
)
from .worklist import work_list

router = Router(tags=["engagement"])


class InteractionFilters(Schema):
    customer: int | None = None
    channel: str | None = None
    direction: str | None = None
    author: int | None = None
    date_from: str | None = None
    date_to: str | None = None
    q: str | None = None
    sort: str = "-occurred_at"
    limit: int | None = None
    offset: int | None = None


@router.get("/interactions", response={200: InteractionListOut, **ERRORS}, summary="List interactions")
def list_interactions(request: AuthedRequest, filters: Query[InteractionFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.interaction_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [interaction_out(i) for i in page.items], "count": page.count}


@router.post("/interactions", response={201: InteractionOut, **ERRORS}, summary="Record an interaction")
def create_interaction(request: AuthedRequest, payload: InteractionCreateIn) -> Any:
    data = payload.dict(exclude_unset=True)
    customer_id = data.pop("customer")
    interaction = services.interaction_create(customer_id=customer_id, data=data, by=request.user)
    return Status(
        201, interaction_out(selectors.interaction_get(actor=request.user, interaction_id=interaction.pk))
    )


@router.get("/interactions/{interaction_id}", response={200: InteractionOut, **ERRORS})
def get_interaction(request: AuthedRequest, interaction_id: int) -> Any:
    return interaction_out(selectors.interaction_get(actor=request.user, interaction_id=interaction_id))


@router.patch("/interactions/{interaction_id}", response={200: InteractionOut, **ERRORS})
def update_interaction(request: AuthedRequest, interaction_id: int, payload: InteractionPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.interaction_update(interaction_id=interaction_id, version=version, data=data, by=request.user)
    return interaction_out(selectors.interaction_get(actor=request.user, interaction_id=interaction_id))


@router.delete("/interactions/{interaction_id}", response={204: None, **ERRORS})
def delete_interaction(request: AuthedRequest, interaction_id: int) -> Any:
    services.interaction_delete(interaction_id=interaction_id, by=request.user)
    return Status(204, None)


@router.post(
    "/interactions/{interaction_id}/attachments",
    response={201: AttachmentOut, **ERRORS},
    summary="Attach a file (multipart field `file`)",
)
def add_attachment(
    request: AuthedRequest,
    interaction_id: int,
    file: UploadedFile | None = File(None),  # noqa: B008 (ninja)
) -> Any:
    # No file: the service still decides (permission first, then "choose a file" naming the field).
    attachment = services.attachment_add(
        interaction_id=interaction_id,
        name=(file.name or "") if file else "",
        data=file.read() if file else b"",
        by=request.user,
    )
    return Status(201, attachment_out(attachment))


@router.get("/attachments/{attachment_id}", response={200: None, **ERRORS}, url_name="download_attachment")
def download_attachment(request: AuthedRequest, attachment_id: int) -> Any:
    a = selectors.attachment_get(actor=request.user, attachment_id=attachment_id)
    return download_response(a.file, name=a.name, content_type=a.content_type)


@router.delete("/attachments/{attachment_id}", response={204: None, **ERRORS})
def delete_attachment(request: AuthedRequest, attachment_id: int) -> Any:
    services.attachment_remove(attachment_id=attachment_id, by=request.user)
    return Status(204, None)


# --- P&A tasks (ENG-3) ------------------------------------------------------------------------------


class TaskFilters(Schema):
    scene: str = "mine"
    status: str | None = None
    overdue: bool | None = None
    customer: int | None = None
    owner: int | None = None
    due_from: str | None = None
    due_to: str | None = None
    q: str | None = None
    sort: str = "due_on"
    limit: int | None = None
    offset: int | None = None


@router.get("/tasks", response={200: TaskListOut, **ERRORS}, summary="List P&A tasks")
def list_tasks(request: AuthedRequest, filters: Query[TaskFilters]) -> Any:
    f = filters.dict()
    scene, sort, limit, offset = f.pop("scene"), f.pop("sort"), f.pop("limit"), f.pop("offset")
    if f.get("overdue") is False:
        f["overdue"] = None
    page = selectors.task_list(
        actor=request.user, scene=scene, filters=f, sort=sort, limit=limit, offset=offset
    )
    return {"items": [task_out(t) for t in page.items], "count": page.count}


@router.post("/tasks", response={201: TaskOut, **ERRORS}, summary="Create a P&A task")
def create_task(request: AuthedRequest, payload: TaskCreateIn) -> Any:
    task = services.task_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, task_out(selectors.task_get(actor=request.user, task_id=task.pk)))


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS})
def get_task(request: AuthedRequest, task_id: int) -> Any:
    return task_out(selectors.task_get(actor=request.user, task_id=task_id))


@router.patch("/tasks/{task_id}", response={200: TaskOut, **ERRORS})
def update_task(request: AuthedRequest, task_id: int, payload: TaskPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.task_update(task_id=task_id, version=version, data=data, by=request.user)
    return task_out(selectors.task_get(actor=request.user, task_id=task_id))


@router.post(
    "/tasks/{task_id}/complete", response={200: TaskOut, **ERRORS}, summary="Mark done, with the result"
)
def complete_task(request: AuthedRequest, task_id: int, payload: TaskCompleteIn) -> Any:
    services.task_complete(task_id=task_id, version=payload.version, result=payload.result, by=request.user)
    return task_out(selectors.task_get(actor=request.user, task_id=task_id))


@router.post(
    "/tasks/{task_id}/cancel", response={200: TaskOut, **ERRORS}, summary="Call off, with the reason"
)
def cancel_task(request: AuthedRequest, task_id: int, payload: TaskCancelIn) -> Any:
    services.task_cancel(task_id=task_id, version=payload.version, reason=payload.reason, by=request.user)
    return task_out(selectors.task_get(actor=request.user, task_id=task_id))


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, **ERRORS})
def reopen_task(request: AuthedRequest, task_id: int, payload: TaskReopenIn) -> Any:
    services.task_reopen(task_id=task_id, version=payload.version, by=request.user)
    return task_out(selectors.task_get(actor=request.user, task_id=task_id))


@router.delete("/tasks/{task_id}", response={204: None, **ERRORS})
def delete_task(request: AuthedRequest, task_id: int) -> Any:
    services.task_delete(task_id=task_id, by=request.user)
    return Status(204, None)


# --- the 待办 work list -----------------------------------------------------------------------------


@router.get("/worklist", response={200: list[WorkSectionOut], **ERRORS}, summary="Today's work list (待办)")
def get_worklist(request: AuthedRequest) -> Any:
    return [asdict(section) for section in work_list(actor=request.user)]


@router.post(
    "/worklist/handled", response={204: None, **ERRORS}, summary="Mark a work-list item handled today"
)
def handle_work_item(request: AuthedRequest, payload: WorkItemHandleIn) -> Any:
    services.work_item_handle(kind=payload.kind, object_id=payload.object_id, by=request.user)
    return Status(204, None)


# --- the home dashboard (ANA-8) -------------------------------------------------------------------


@router.get(
    "/dashboard",
    response={200: DashboardOut, **ERRORS},
    summary="Home dashboard: new customers/contacts/interactions, urgency, 遗忘提醒, interactions chart",
    description="`scope`: mine (本人, default) / team (本人及下属) / dept (部门) / all (全部) — only those the "
    "user's roles allow (else 403, field `scope`); `period`: today / week / month (default) / quarter / "
    "year / custom with `from` and `to` (YYYY-MM-DD), Asia/Shanghai.",
)
def get_dashboard(
    request: AuthedRequest,
    scope: str | None = None,
    period: str | None = None,
    date_from: str | None = Query(None, alias="from"),  # type: ignore[type-arg]
    date_to: str | None = Query(None, alias="to"),  # type: ignore[type-arg]
) -> Any:
    return dashboard_out(
        dashboard(actor=request.user, scope=scope, period=period, date_from=date_from, date_to=date_to)
    )


# --- regular revisits (ENG-4) ---------------------------------------------------------------------------


@router.get("/revisit-plans", response={200: list[RevisitPlanOut], **ERRORS}, summary="Regular revisit plans")
def list_revisit_plans(request: AuthedRequest) -> Any:
    return [revisit_plan_out(p) for p in revisits.revisit_plan_list(actor=request.user)]


@router.post("/revisit-plans", response={201: RevisitPlanOut, **ERRORS}, summary="Create a revisit plan")
def create_revisit_plan(request: AuthedRequest, payload: RevisitPlanIn) -> Any:
    plan = revisits.revisit_plan_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, revisit_plan_out(plan))


# Fixed paths first: /revisit-plans/{plan_id} would take "run" otherwise.
@router.post(
    "/revisit-plans/run", response={200: RevisitRunOut, **ERRORS}, summary="Create the due revisit tasks now"
)
def run_revisit_plans(request: AuthedRequest) -> Any:
    return {"created": revisits.revisit_generate(by=request.user).created}


@router.patch(
    "/revisit-plans/{plan_id}", response={200: RevisitPlanOut, **ERRORS}, summary="Change a revisit plan"
)
def update_revisit_plan(request: AuthedRequest, plan_id: int, payload: RevisitPlanPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return revisit_plan_out(
        revisits.revisit_plan_update(plan_id=plan_id, version=version, data=data, by=request.user)
    )
