"""Reads of background jobs; every one starts from ``Job.objects.visible_to(actor)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, paginate

from .choices import JobStatus
from .models import Job, ScheduledRun, WorkerProcess
from .registry import job_kind, periodic_jobs
from .rules import worker_is_gone
from .services import stale_after

JOB_FILTERS = {"status", "kind"}


def job_list(
    *, actor: User, filters: dict[str, Any] | None = None, limit: Any = None, offset: Any = None
) -> Page:
    filters = clean_filters(filters, JOB_FILTERS)
    qs = Job.objects.visible_to(actor).select_related("created_by")
    if "status" in filters:
        if filters["status"] not in JobStatus.values:
            raise ValidationError(_("筛选值“%(v)s”无效"), field="status", params={"v": filters["status"]})
        qs = qs.filter(status=filters["status"])
    if "kind" in filters:
        qs = qs.filter(kind=filters["kind"])
    return paginate(qs.order_by("-created_at", "-id"), limit=limit, offset=offset)


def job_get(*, actor: User, job_id: int) -> Job:
    job = Job.objects.visible_to(actor).select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("后台任务不存在或无权查看"), field="job")
    return job


@dataclass(frozen=True)
class PeriodicRow:
    kind: str
    label: str
    schedule: str
    last_run_at: datetime | None
    last_job: Job | None


def periodic_list(*, actor: User) -> list[PeriodicRow]:
    """The scheduler's jobs with their last run — for who may change settings (others get an empty list)."""
    if not can(actor, Perm.SETTINGS_EDIT):
        return []
    entries = periodic_jobs()
    last = dict(
        ScheduledRun.objects.filter(name__in=[e.kind for e in entries])
        .values("name")
        .annotate(last=Max("id"))
        .values_list("name", "last")
    )
    runs = {r.name: r for r in ScheduledRun.objects.filter(pk__in=last.values()).select_related("job")}
    rows = []
    for entry in entries:
        kind = job_kind(entry.kind)
        if entry.at is not None:
            schedule = str(_("每天 %(t)s")) % {"t": entry.at.strftime("%H:%M")}
        else:
            assert entry.every is not None
            schedule = str(_("每 %(m)s 分钟")) % {"m": int(entry.every.total_seconds() // 60)}
        run = runs.get(entry.kind)
        rows.append(
            PeriodicRow(
                kind=entry.kind, label=str(kind.label) if kind else entry.kind, schedule=schedule,
                last_run_at=run.created_at if run else None, last_job=run.job if run else None,
            )
        )  # fmt: skip
    return rows


def worker_list(*, actor: User) -> list[WorkerProcess]:
    """Workers that are beating now (for who may change settings)."""
    if not can(actor, Perm.SETTINGS_EDIT):
        return []
    now = timezone.now()
    return [
        w
        for w in WorkerProcess.objects.order_by("started_at")
        if not worker_is_gone(w.seen_at, now, stale_after=stale_after())
    ]


def job_file(*, actor: User, job_id: int) -> tuple[Any, str]:
    """The file a finished job produced, as (path, download name) — only for who may see the job."""
    from pathlib import Path

    from django.conf import settings

    job = job_get(actor=actor, job_id=job_id)
    name = (job.result or {}).get("file") if job.status == JobStatus.SUCCEEDED else None
    path = Path(settings.KEHU_JOB_FILES_ROOT) / str(job.pk) / Path(str(name)).name if name else None
    if path is None or not path.is_file():
        raise NotFound(_("这个任务没有可下载的文件"), field="file")
    return path, str(name)
