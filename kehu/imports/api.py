"""Thin REST endpoints over the import services and selectors (CUS-8)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS
from kehu.core.web import xlsx_response

from . import selectors, services
from .schemas import BatchListOut, BatchOut, CommitIn, ProblemListOut, batch_out, problem_out

router = Router(tags=["imports"])


class ListQuery(Schema):
    limit: int | None = None
    offset: int | None = None


class ProblemQuery(Schema):
    kind: str | None = None
    limit: int | None = None
    offset: int | None = None


class TemplateQuery(Schema):
    format: str = "xlsx"


@router.get("/imports", response={200: BatchListOut, **ERRORS}, summary="My import batches")
def list_batches(request: AuthedRequest, query: Query[ListQuery]) -> Any:
    page = selectors.batch_list(actor=request.user, limit=query.limit, offset=query.offset)
    return {"items": [batch_out(b) for b in page.items], "count": page.count}


@router.post(
    "/imports",
    response={201: BatchOut, **ERRORS},
    summary="Upload a file (multipart: `kind`, `file`) and run its dry run",
)
def upload(
    request: AuthedRequest,
    kind: Form[str] = "",  # type: ignore[assignment]
    file: UploadedFile | None = File(None),  # noqa: B008 (ninja)
) -> Any:
    # No file: the service still decides (permission first, then "choose a file" naming the field).
    batch = services.import_upload(
        kind=kind, name=(file.name or "") if file else "", data=file.read() if file else b"", by=request.user
    )
    return Status(201, batch_out(selectors.batch_get(actor=request.user, batch_id=batch.pk)))


@router.get(
    "/imports/templates/{kind}", response={200: None, **ERRORS}, summary="Template (.xlsx or ?format=csv)"
)
def template(request: AuthedRequest, kind: str, query: Query[TemplateQuery]) -> Any:
    data, name = services.import_template(kind=kind, fmt=query.format, by=request.user)
    if name.endswith(".csv"):
        response = HttpResponse(data, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return xlsx_response(data, filename=name)


@router.get("/imports/{batch_id}", response={200: BatchOut, **ERRORS})
def get_batch(request: AuthedRequest, batch_id: int) -> Any:
    return batch_out(selectors.batch_get(actor=request.user, batch_id=batch_id))


@router.get(
    "/imports/{batch_id}/problems",
    response={200: ProblemListOut, **ERRORS},
    summary="Rows with errors or duplicates",
)
def problems(request: AuthedRequest, batch_id: int, query: Query[ProblemQuery]) -> Any:
    page = selectors.problem_list(
        actor=request.user, batch_id=batch_id, kind=query.kind, limit=query.limit, offset=query.offset
    )
    return {"items": [problem_out(p) for p in page.items], "count": page.count}


@router.post(
    "/imports/{batch_id}/commit", response={200: BatchOut, **ERRORS}, summary="Write the checked file"
)
def commit(request: AuthedRequest, batch_id: int, payload: CommitIn) -> Any:
    batch = services.import_commit_request(
        batch_id=batch_id, on_duplicate=payload.on_duplicate, by=request.user
    )
    return batch_out(selectors.batch_get(actor=request.user, batch_id=batch.pk))
