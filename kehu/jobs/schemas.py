"""API schemas of background jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from pydantic import BaseModel

from .models import Job
from .selectors import PeriodicRow


class JobOut(BaseModel):
    id: int
    kind: str
    title: str
    status: str
    status_label: str
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    progress_done: int
    progress_total: int | None
    percent: int | None
    message: str
    result: Any = None
    error: str
    url: str


class JobListOut(BaseModel):
    items: list[JobOut]
    count: int


class PeriodicOut(BaseModel):
    kind: str
    label: str
    schedule: str
    last_run_at: datetime | None
    last_job: int | None


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment else None


def job_out(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk, "kind": job.kind, "title": job.title, "status": job.status,
        "status_label": str(job.get_status_display()), "created_by": job.created_by_id,
        "created_at": _local(job.created_at), "started_at": _local(job.started_at),
        "finished_at": _local(job.finished_at), "attempts": job.attempts, "progress_done": job.progress_done,
        "progress_total": job.progress_total, "percent": job.percent, "message": job.message,
        "result": job.result, "error": job.error, "url": reverse("jobs:detail", args=[job.pk]),
    }  # fmt: skip


def periodic_out(row: PeriodicRow) -> dict[str, Any]:
    return {
        "kind": row.kind, "label": row.label, "schedule": row.schedule, "last_run_at": _local(row.last_run_at),
        "last_job": row.last_job.pk if row.last_job else None,
    }  # fmt: skip
