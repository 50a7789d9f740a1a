"""Starting, running, reporting and recovering background jobs (issue 3, "Background jobs").

The flow: a domain service calls :func:`job_start` → a :class:`Job` row and one queued task
``execute_job(job_id)`` → a worker claims the job (one conditional UPDATE, so a duplicate delivery does
nothing) → the registered handler runs and reports :func:`job_progress` → the job ends succeeded or failed.
A worker that dies leaves its job "running" with a worker that no longer beats; :func:`jobs_recover`
(every worker runs it now and then) queues such jobs again, up to the kind's ``max_attempts``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import KehuError, NotFound, ValidationError

from .choices import JobStatus
from .models import Job, ScheduledRun, WorkerProcess
from .registry import job_kind
from .rules import worker_is_gone

logger = logging.getLogger("kehu.jobs")

# Set by ``kehu worker`` to its own id; jobs run by the immediate backend (tests, one-off commands) say
# "inline" and are never "recovered".
INLINE = "inline"
_worker_id = INLINE


def set_worker_id(worker_id: str) -> None:
    global _worker_id
    _worker_id = worker_id


def current_worker_id() -> str:
    return _worker_id


def heartbeat_seconds() -> float:
    return float(getattr(settings, "KEHU_WORKER_HEARTBEAT_SECONDS", 5))


def stale_after() -> timedelta:
    # Three missed beats (and at least a few seconds): a busy database must not look like a dead worker.
    return timedelta(seconds=max(3 * heartbeat_seconds(), 3.0))


# ---------------------------------------------------------------- start


def _enqueue(job_id: int) -> None:
    from django_tasks.backends.immediate import ImmediateBackend
    from django_tasks_db import DatabaseBackend

    from .tasks import execute_job

    backend = execute_job.get_backend()
    if isinstance(backend, DatabaseBackend | ImmediateBackend):
        # The database queue shares our transaction: a rollback drops the job and its queue row together.
        # (The immediate backend of the tests runs the job right here.)
        execute_job.enqueue(job_id)
    else:
        # Redis is outside the transaction: tell it only once the job row is committed.
        transaction.on_commit(lambda: execute_job.enqueue(job_id))


def job_start(*, kind: str, params: dict[str, Any] | None = None, title: Any = None, by: User | None) -> Job:
    """Queue a job of a registered ``kind``. Callers are services that already checked ``by``'s rights;
    ``by`` None means the system (the scheduler)."""
    handler = job_kind(kind)
    if handler is None:
        raise ValidationError(_("未知的后台任务类型“%(kind)s”"), field="kind", params={"kind": kind})
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, title=str(title or handler.label)[:200], params=params or {}, created_by=by
        )
        _enqueue(job.pk)
    return job


# ---------------------------------------------------------------- files


def job_file_path(job: Job, filename: str) -> Any:
    """Where a job keeps the file it produces (an export): one folder per job under
    KEHU_JOB_FILES_ROOT, outside the web root; served only through ``jobs:file`` to who may see the job."""
    from pathlib import Path

    folder = Path(settings.KEHU_JOB_FILES_ROOT) / str(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / Path(filename).name


# ---------------------------------------------------------------- run


def job_progress(job: Job, *, done: int, total: int | None = None, message: Any = None) -> None:
    """Report how far a job got. Cheap to call per row: it writes at most twice a second."""
    now = time.monotonic()
    last = getattr(job, "_progress_written", 0.0)
    job.progress_done = done
    if total is not None:
        job.progress_total = total
    if message is not None:
        job.message = str(message)[:300]
    finished = job.progress_total is not None and done >= job.progress_total
    if not finished and now - last < 0.5:
        return
    job._progress_written = now  # type: ignore[attr-defined]
    Job.objects.filter(pk=job.pk).update(
        progress_done=job.progress_done, progress_total=job.progress_total, message=job.message
    )


def _finish(job: Job, worker_id: str, **values: Any) -> None:
    # Only if the job is still ours: a job recovered and re-run elsewhere must not be overwritten.
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker_id=worker_id).update(
        finished_at=timezone.now(), **values
    )


def job_execute(*, job_id: int, worker_id: str | None = None) -> str:
    """Run one queued job (the task body). Returns the status it ended with, or "skipped" when the job is
    not queued (done already, or another worker has it — a duplicate delivery changes nothing)."""
    worker_id = worker_id or current_worker_id()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, worker_id=worker_id, started_at=timezone.now(),
        attempts=F("attempts") + 1, error="",
    )  # fmt: skip
    if not claimed:
        return "skipped"
    job = Job.objects.select_related("created_by").get(pk=job_id)
    kind = job_kind(job.kind)
    if kind is None:
        _finish(job, worker_id, status=JobStatus.FAILED, error=f"unknown job kind {job.kind!r}")
        return JobStatus.FAILED
    if job.attempts > kind.max_attempts:
        _finish(
            job, worker_id, status=JobStatus.FAILED,
            error=f"放弃：已尝试 {kind.max_attempts} 次，执行进程均中断 / gave up after {kind.max_attempts} "
            "attempts whose worker stopped",
        )  # fmt: skip
        return JobStatus.FAILED
    try:
        result = kind.run(job, **job.params)
    except KehuError as exc:
        field = f"{exc.field}: " if exc.field else ""
        _finish(
            job, worker_id, status=JobStatus.FAILED, error=f"{field}{exc.text('zh-hans')} / {exc.text('en')}"
        )
        return JobStatus.FAILED
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, worker_id, status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        return JobStatus.FAILED
    done = job.progress_total if job.progress_total is not None else job.progress_done
    _finish(
        job, worker_id, status=JobStatus.SUCCEEDED, result=result if result is not None else {},
        progress_done=done, progress_total=job.progress_total, message=job.message,
    )  # fmt: skip
    return JobStatus.SUCCEEDED


# ---------------------------------------------------------------- workers


def worker_beat(*, worker_id: str, hostname: str, pid: int, backend: str) -> None:
    now = timezone.now()
    updated = WorkerProcess.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerProcess.objects.create(
            worker_id=worker_id,
            hostname=hostname[:200],
            pid=pid,
            backend=backend,
            started_at=now,
            seen_at=now,
        )


def worker_stop(*, worker_id: str) -> None:
    WorkerProcess.objects.filter(worker_id=worker_id).delete()


def jobs_recover(*, now: Any = None) -> list[int]:
    """Queue again every running job whose worker stopped beating (killed, or its machine died).

    Returns the ids queued again. Safe with several workers doing it at once: each job moves back to
    "queued" in one conditional UPDATE, so only one of them re-enqueues it; the handler is idempotent.
    """
    now = now or timezone.now()
    limit = stale_after()
    seen = dict(WorkerProcess.objects.values_list("worker_id", "seen_at"))
    requeued: list[int] = []
    for job_id, worker_id, started_at in Job.objects.filter(status=JobStatus.RUNNING).values_list(
        "pk", "worker_id", "started_at"
    ):
        if worker_id == INLINE:
            continue
        beat = seen.get(worker_id)
        if beat is not None and not worker_is_gone(beat, now, stale_after=limit):
            continue
        if beat is None and started_at is not None and not worker_is_gone(started_at, now, stale_after=limit):
            continue  # its worker has just started and not yet written its first beat
        with transaction.atomic():
            moved = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, worker_id=worker_id).update(
                status=JobStatus.QUEUED, worker_id="",
                message=f"执行进程 {worker_id} 中断，已重新排队 / worker {worker_id} stopped; queued again",
            )  # fmt: skip
            if moved:
                _enqueue(job_id)
                requeued.append(job_id)
    gone = [w for w, beat in seen.items() if worker_is_gone(beat, now, stale_after=limit)]
    if gone:
        WorkerProcess.objects.filter(worker_id__in=gone).delete()
        _fail_orphan_queue_rows(gone)
    if requeued:
        logger.warning("queued again after their worker stopped: jobs %s", requeued)
    return requeued


def _fail_orphan_queue_rows(gone: list[str]) -> None:
    """The database queue's own rows of dead workers stay "RUNNING" forever; close them (the job itself
    was queued again as a new row)."""
    from django_tasks_db.models import DBTaskResult

    for row in DBTaskResult.objects.filter(status="RUNNING").only("pk", "worker_ids"):
        if row.worker_ids and row.worker_ids[-1] in gone:
            DBTaskResult.objects.filter(pk=row.pk, status="RUNNING").update(
                status="FAILED", finished_at=timezone.now(), exception_class_path="kehu.jobs.WorkerLost",
                traceback="worker stopped beating; Kehu queued the job again",
            )  # fmt: skip


# ---------------------------------------------------------------- user actions


def job_retry(*, job_id: int, by: User) -> Job:
    """Run a failed job again (its starter, or who may change settings). Handlers are idempotent."""
    from .selectors import job_get

    job = job_get(actor=by, job_id=job_id)
    if job.status != JobStatus.FAILED:
        raise ValidationError(_("只有失败的任务可以重试"), field="status", code="not_failed")
    with transaction.atomic():
        moved = Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
            status=JobStatus.QUEUED, attempts=0, error="", finished_at=None, worker_id=""
        )
        if moved:
            _enqueue(job.pk)
    job.refresh_from_db()
    return job


def periodic_run_now(*, kind: str, by: User) -> Job:
    """Start a periodic job now, outside its schedule (e.g. the pool's return after changing its rules)."""
    from .registry import periodic_jobs

    require(by, Perm.SETTINGS_EDIT)
    if kind not in {p.kind for p in periodic_jobs()}:
        raise NotFound(_("没有名为“%(kind)s”的周期任务"), field="kind", params={"kind": kind})
    return job_start(kind=kind, by=by)


def jobs_selftest(*, by: User, steps: int = 10, step_seconds: float = 0.2) -> Job:
    """Start the self-test job: proves that a worker runs jobs and reports progress."""
    require(by, Perm.SETTINGS_EDIT)
    if not 1 <= steps <= 1000:
        raise ValidationError(_("步数应在 1–1000 之间"), field="steps")
    if not 0 <= step_seconds <= 10:
        raise ValidationError(_("每步秒数应在 0–10 之间"), field="step_seconds")
    return job_start(kind="jobs.selftest", params={"steps": steps, "step_seconds": step_seconds}, by=by)


def jobs_prune(*, keep_days: int | None = None, now: Any = None) -> dict[str, int]:
    """Forget finished jobs older than ``keep_days`` (KEHU_JOB_KEEP_DAYS, 30): their rows, their files,
    the queue's rows and the scheduler's slots. Running and queued jobs are never touched."""
    import shutil
    from pathlib import Path

    from django_tasks_db.models import DBTaskResult

    keep = keep_days if keep_days is not None else int(getattr(settings, "KEHU_JOB_KEEP_DAYS", 30))
    cut = (now or timezone.now()) - timedelta(days=keep)
    old = Job.objects.filter(status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED], finished_at__lt=cut)
    ids = list(old.values_list("pk", flat=True))
    root = Path(settings.KEHU_JOB_FILES_ROOT)
    for job_id in ids:
        shutil.rmtree(root / str(job_id), ignore_errors=True)
    ScheduledRun.objects.filter(created_at__lt=cut).delete()
    jobs = Job.objects.filter(pk__in=ids).delete()[0] if ids else 0
    queue_rows = DBTaskResult.objects.filter(
        status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=cut
    ).delete()[0]
    return {"jobs": jobs, "queue_rows": queue_rows}


FIRST_RUN_GRACE = timedelta(hours=1)


def scheduler_tick(*, now: Any = None) -> list[Job]:
    """Start every periodic job whose slot is due and not yet started (by any scheduler)."""
    from django.db import IntegrityError

    from .registry import periodic_jobs
    from .rules import due_slot

    now = timezone.localtime(now or timezone.now())
    started: list[Job] = []
    for entry in periodic_jobs():
        slot = due_slot(entry, now)
        if slot is None or ScheduledRun.objects.filter(name=entry.kind, slot=slot).exists():
            continue
        if entry.needed is not None and not entry.needed():
            continue  # nothing to do now; asked again at the next tick
        if entry.at is not None and not ScheduledRun.objects.filter(name=entry.kind).exists():
            # A new installation (or a new job) first seen well after today's time: today's slot is
            # taken as skipped rather than run at once — the nightly return must not sweep fresh demo
            # or just-imported customers into the pool minutes after `make run`. Later downtime is
            # caught up (one slot), since the job has run before.
            started_at = timezone.make_aware(datetime.combine(now.date(), entry.at), now.tzinfo)
            if now - started_at > FIRST_RUN_GRACE:
                ScheduledRun.objects.get_or_create(name=entry.kind, slot=slot)
                continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(name=entry.kind, slot=slot)
                job = job_start(kind=entry.kind, by=None)
                run.job = job
                run.save(update_fields=["job"])
        except IntegrityError:
            continue  # another scheduler took this slot first
        started.append(job)
    return started
