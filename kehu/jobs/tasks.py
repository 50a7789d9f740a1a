"""The one task the queue carries. Every job goes through it, so the queue backend never needs to know
our handlers (and the RQ and database backends run the very same code)."""

from __future__ import annotations

from django_tasks import task


@task()
def execute_job(job_id: int) -> str:
    from .services import job_execute

    return job_execute(job_id=job_id)


# ---------------------------------------------------------------- the jobs layer's own job

from datetime import time  # noqa: E402
from typing import Any  # noqa: E402

from django.utils.translation import gettext_lazy as _  # noqa: E402

from .models import Job  # noqa: E402
from .registry import job_handler, periodic  # noqa: E402


@job_handler("jobs.selftest", label=_("后台任务自检"))
def selftest_job(job: Job, *, steps: int = 10, step_seconds: float = 0.2) -> dict[str, Any]:
    """Counts to ``steps`` slowly, reporting progress: shows an administrator that workers take jobs,
    report progress and finish them. Writes nothing else, so running it again is harmless."""
    import time

    from .services import current_worker_id, job_progress

    for step in range(1, steps + 1):
        time.sleep(step_seconds)
        job_progress(job, done=step, total=steps, message=f"{step}/{steps}")
    return {"steps": steps, "worker": current_worker_id()}


@job_handler("jobs.prune", label=_("清理旧的后台任务"))
def prune_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Daily: finished jobs older than KEHU_JOB_KEEP_DAYS go, with their files. Idempotent."""
    from .services import jobs_prune

    return jobs_prune()


periodic("jobs.prune", at=time(4, 30))
