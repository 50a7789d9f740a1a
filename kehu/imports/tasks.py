"""Background jobs of imports (CUS-8): large files are checked and written by ``kehu worker``.

Both handlers are idempotent, as the jobs layer requires: a dry run run again gives the same answer,
and a commit run again after its worker died continues after its last written chunk (whatever was
written before is found as an unchanged duplicate, never written twice).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler
from kehu.jobs.services import job_progress

from .services import import_check, import_commit


def _progress(job: Job) -> Any:
    return lambda done, total, message: job_progress(job, done=done, total=total or None, message=message)


def _summary(batch: Any) -> dict[str, Any]:
    return {
        "batch_id": batch.pk, "rows": batch.total_rows, "new": batch.new_rows, "duplicates": batch.duplicate_rows,
        "errors": batch.error_rows, "created": batch.created, "updated": batch.updated,
        "unchanged": batch.unchanged, "skipped": batch.skipped, "blocked_rows": batch.blocked_rows,
    }  # fmt: skip


@job_handler("imports.check", label=_("导入：检查文件"))
def import_check_job(job: Job, *, batch_id: int) -> dict[str, Any]:
    assert job.created_by is not None
    return _summary(import_check(batch_id=batch_id, by=job.created_by, progress=_progress(job)))


@job_handler("imports.commit", label=_("导入：写入数据"))
def import_commit_job(job: Job, *, batch_id: int) -> dict[str, Any]:
    assert job.created_by is not None
    batch = import_commit(batch_id=batch_id, on_duplicate="skip", by=job.created_by, progress=_progress(job),
                          resume=True)  # fmt: skip
    return _summary(batch)
