"""The audit log over the API, for auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Query, Router, Schema

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ErrorOut

from .selectors import audit_list

router = Router(tags=["audit"])


class AuditFilters(Schema):
    actor: int | None = None
    verb: str | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    customer_id: int | None = None
    date_from: str | None = None
    date_to: str | None = None
    limit: int | None = None
    offset: int | None = None


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    verb: str
    subject_type: str
    subject_id: int | None
    subject_label: str
    customer_id: int | None
    changes: dict[str, Any]
    ip: str | None


class AuditListOut(Schema):
    items: list[AuditEventOut]
    count: int


@router.get("/audit", response={200: AuditListOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def list_audit(request: AuthedRequest, filters: Query[AuditFilters]) -> Any:
    f = filters.dict()
    limit, offset = f.pop("limit"), f.pop("offset")
    page = audit_list(actor=request.user, filters=f, limit=limit, offset=offset)
    return {"items": page.items, "count": page.count}
