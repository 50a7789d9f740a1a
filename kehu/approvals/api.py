"""Thin REST endpoints over the approval engine's services and selectors (审批, issue 4)."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema, Status

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS

from . import flows, selectors, services
from .schemas import (
    ApprovalDetailOut,
    ApprovalListOut,
    DecideIn,
    DocumentApprovalOut,
    FlowCreateIn,
    FlowListOut,
    FlowOut,
    FlowPatchIn,
    SubmitIn,
    WithdrawIn,
    approval_detail_out,
    approval_out,
    flow_out,
)

router = Router(tags=["approvals"])


class ApprovalFilters(Schema):
    box: str = "pending"
    status: str | None = None
    document_type: str | None = None
    owner: int | None = None
    q: str | None = None
    sort: str = "-submitted_at"
    limit: int | None = None
    offset: int | None = None


@router.get(
    "/approvals",
    response={200: ApprovalListOut, **ERRORS},
    summary="List approval requests (box: pending 待我审批 | submitted 我发起的 | all)",
)
def list_approvals(request: AuthedRequest, filters: Query[ApprovalFilters]) -> Any:
    f = filters.dict()
    box, sort, limit, offset = f.pop("box"), f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.approval_list(
        actor=request.user, box=box, filters=f, sort=sort, limit=limit, offset=offset
    )
    return {"items": [approval_out(r) for r in page.items], "count": page.count}


@router.post(
    "/approvals", response={201: ApprovalDetailOut, **ERRORS}, summary="Submit a document for approval"
)
def submit_approval(request: AuthedRequest, payload: SubmitIn) -> Any:
    req = services.approval_submit(
        document_type=payload.document_type, object_id=payload.object_id, by=request.user
    )
    return Status(201, approval_detail_out(selectors.approval_get(actor=request.user, request_id=req.pk)))


class DocumentQuery(Schema):
    document_type: str
    object_id: int


@router.get(
    "/approvals/document",
    response={200: DocumentApprovalOut, **ERRORS},
    summary="A document's approval status and history",
)
def document_approvals(request: AuthedRequest, query: Query[DocumentQuery]) -> Any:
    history = selectors.approval_history(query.document_type, query.object_id, actor=request.user)
    return {
        "document_type": query.document_type,
        "object_id": query.object_id,
        "status": selectors.approval_status(query.document_type, query.object_id),
        "requests": [approval_detail_out(r) for r in history],
    }


@router.get("/approvals/{request_id}", response={200: ApprovalDetailOut, **ERRORS})
def get_approval(request: AuthedRequest, request_id: int) -> Any:
    return approval_detail_out(selectors.approval_get(actor=request.user, request_id=request_id))


@router.post("/approvals/{request_id}/approve", response={200: ApprovalDetailOut, **ERRORS})
def approve(request: AuthedRequest, request_id: int, payload: DecideIn) -> Any:
    services.approval_approve(
        request_id=request_id, comment=payload.comment, version=payload.version, by=request.user
    )
    return approval_detail_out(selectors.approval_get(actor=request.user, request_id=request_id))


@router.post("/approvals/{request_id}/reject", response={200: ApprovalDetailOut, **ERRORS})
def reject(request: AuthedRequest, request_id: int, payload: DecideIn) -> Any:
    services.approval_reject(
        request_id=request_id, comment=payload.comment, version=payload.version, by=request.user
    )
    return approval_detail_out(selectors.approval_get(actor=request.user, request_id=request_id))


@router.post("/approvals/{request_id}/withdraw", response={200: ApprovalDetailOut, **ERRORS})
def withdraw(request: AuthedRequest, request_id: int, payload: WithdrawIn) -> Any:
    services.approval_withdraw(request_id=request_id, version=payload.version, by=request.user)
    return approval_detail_out(selectors.approval_get(actor=request.user, request_id=request_id))


# --- flows ------------------------------------------------------------------------------------------------


class FlowFilters(Schema):
    document_type: str | None = None
    department: int | None = None
    is_active: bool | None = None
    limit: int | None = None
    offset: int | None = None


@router.get("/approval-flows", response={200: FlowListOut, **ERRORS}, summary="List approval flows")
def list_flows(request: AuthedRequest, filters: Query[FlowFilters]) -> Any:
    f = filters.dict()
    limit, offset = f.pop("limit"), f.pop("offset")
    page = selectors.approval_flow_list(actor=request.user, filters=f, limit=limit, offset=offset)
    return {"items": [flow_out(flow) for flow in page.items], "count": page.count}


def _flow_data(payload: Any) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    if data.get("steps") is not None:
        data["steps"] = [dict(step) for step in data["steps"]]
    return data


@router.post("/approval-flows", response={201: FlowOut, **ERRORS}, summary="Create an approval flow")
def create_flow(request: AuthedRequest, payload: FlowCreateIn) -> Any:
    data = payload.dict()
    data["steps"] = [dict(step) for step in data["steps"]]
    flow = flows.approval_flow_create(data=data, by=request.user)
    return Status(201, flow_out(selectors.approval_flow_get(actor=request.user, flow_id=flow.pk)))


@router.get("/approval-flows/{flow_id}", response={200: FlowOut, **ERRORS})
def get_flow(request: AuthedRequest, flow_id: int) -> Any:
    return flow_out(selectors.approval_flow_get(actor=request.user, flow_id=flow_id))


@router.patch("/approval-flows/{flow_id}", response={200: FlowOut, **ERRORS})
def update_flow(request: AuthedRequest, flow_id: int, payload: FlowPatchIn) -> Any:
    data = _flow_data(payload)
    version = data.pop("version")
    flows.approval_flow_update(flow_id=flow_id, version=version, data=data, by=request.user)
    return flow_out(selectors.approval_flow_get(actor=request.user, flow_id=flow_id))


@router.delete(
    "/approval-flows/{flow_id}", response={204: None, **ERRORS}, summary="Deactivate an approval flow"
)
def deactivate_flow(request: AuthedRequest, flow_id: int) -> Any:
    flows.approval_flow_deactivate(flow_id=flow_id, by=request.user)
    return Status(204, None)
