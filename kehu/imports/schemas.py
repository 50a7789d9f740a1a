"""API shapes of imports (CUS-8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema

from kehu.core.schemas import StrictIn


class ChunkOut(Schema):
    first: int
    last: int
    rows: int
    status: str
    created: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    skipped: int | None = None
    errors: int | None = None


class BatchOut(Schema):
    id: int
    kind: str
    file_name: str
    status: str
    status_label: str
    on_duplicate: str
    total_rows: int
    new_rows: int
    duplicate_rows: int
    error_rows: int
    done_rows: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    blocked_rows: int
    chunks: list[ChunkOut]
    created_by: str
    created_at: datetime
    checked_at: datetime | None
    committed_at: datetime | None
    job_id: int | None


class BatchListOut(Schema):
    items: list[BatchOut]
    count: int


class ProblemOut(Schema):
    row: int
    kind: str
    field: str
    column: str
    code: str
    message: str
    messages: dict[str, str]
    action: str


class ProblemListOut(Schema):
    items: list[ProblemOut]
    count: int


class CommitIn(StrictIn):
    on_duplicate: Literal["skip", "update"] = "skip"


def batch_out(batch: Any) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "kind": batch.kind,
        "file_name": batch.file_name,
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "on_duplicate": batch.on_duplicate,
        **{f: getattr(batch, f) for f in ("total_rows", "new_rows", "duplicate_rows", "error_rows", "done_rows",
                                           "created", "updated", "unchanged", "skipped", "blocked_rows")},
        "chunks": batch.chunks,
        "created_by": batch.created_by.label,
        "created_at": batch.created_at,
        "checked_at": batch.checked_at,
        "committed_at": batch.committed_at,
        "job_id": batch.job_id,
    }  # fmt: skip


def problem_out(p: Any) -> dict[str, Any]:
    return {
        "row": p.row, "kind": p.kind, "field": p.field, "column": p.column, "code": p.code, "message": p.text,
        "messages": {"zh-hans": p.message, "en": p.message_en}, "action": p.action,
    }  # fmt: skip
