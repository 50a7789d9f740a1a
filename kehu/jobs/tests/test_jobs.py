"""Background jobs in one process (issue 3): start → run → progress → result, failures, retries, the
scheduler's slots, recovery of a dead worker's job, and who may see or start what. The tests' queue is
the immediate backend: a job runs as soon as it is queued. Real worker processes: tests/live/test_workers.py."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.errors import KehuError, NotFound, PermissionDenied, ValidationError
from kehu.jobs import services
from kehu.jobs.choices import JobStatus
from kehu.jobs.models import Job, ScheduledRun, WorkerProcess
from kehu.jobs.registry import Periodic, job_handler
from kehu.jobs.rules import due_slot, worker_is_gone
from kehu.jobs.selectors import job_get, job_list, periodic_list

SHANGHAI = ZoneInfo("Asia/Shanghai")
RUNS: list[dict[str, Any]] = []


@job_handler("tests.count", label="count")
def _count_job(job: Job, *, upto: int = 3, fail_with: str = "") -> dict[str, Any]:
    RUNS.append({"job": job.pk, "upto": upto})
    for n in range(1, upto + 1):
        services.job_progress(job, done=n, total=upto, message=f"第 {n} 步")
    if fail_with == "domain":
        raise ValidationError("名称不能为空", field="name")
    if fail_with == "crash":
        raise RuntimeError("disk full")
    return {"counted": upto}


@pytest.fixture(autouse=True)
def _fresh_runs() -> None:
    RUNS.clear()


# ---------------------------------------------------------------- rules


def test_a_daily_job_is_due_from_its_time_on_once_per_local_day() -> None:
    nightly = Periodic(kind="x", at=time(2, 0))
    assert due_slot(nightly, datetime(2026, 12, 1, 1, 59, tzinfo=SHANGHAI)) is None
    assert due_slot(nightly, datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI)) == "2026-12-01"
    assert due_slot(nightly, datetime(2026, 12, 1, 23, 59, tzinfo=SHANGHAI)) == "2026-12-01"
    assert due_slot(nightly, datetime(2026, 12, 2, 2, 0, tzinfo=SHANGHAI)) == "2026-12-02"


@given(st.integers(min_value=1, max_value=24 * 60), st.integers(min_value=0, max_value=10**9))
def test_an_interval_job_has_exactly_one_slot_per_interval(minutes: int, seconds: int) -> None:
    job = Periodic(kind="x", every=timedelta(minutes=minutes))
    start = datetime(2020, 1, 1, tzinfo=SHANGHAI) + timedelta(seconds=seconds)
    slot = due_slot(job, start)
    width = minutes * 60
    boundary = start - timedelta(seconds=int(start.timestamp()) % width)
    assert due_slot(job, boundary) == slot
    assert due_slot(job, boundary + timedelta(seconds=width - 1)) == slot
    assert due_slot(job, boundary + timedelta(seconds=width)) != slot


def test_a_worker_is_gone_only_after_its_silence_exceeds_the_limit() -> None:
    now = timezone.now()
    limit = timedelta(seconds=15)
    assert not worker_is_gone(now - timedelta(seconds=15), now, stale_after=limit)
    assert worker_is_gone(now - timedelta(seconds=16), now, stale_after=limit)


# ---------------------------------------------------------------- running


def test_a_job_runs_reports_progress_and_keeps_its_result(cast: SimpleNamespace) -> None:
    job = services.job_start(kind="tests.count", params={"upto": 4}, title="数四下", by=cast.rep_east)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.percent) == (4, 4, 100)
    assert job.result == {"counted": 4}
    assert job.attempts == 1 and job.worker_id == services.INLINE
    assert job.title == "数四下" and job.created_by == cast.rep_east
    assert job.started_at and job.finished_at and job.started_at <= job.finished_at


def test_an_unknown_kind_is_refused_and_nothing_is_queued(cast: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as exc:
        services.job_start(kind="tests.nope", by=cast.rep_east)
    assert exc.value.field == "kind"
    assert not Job.objects.exists()


def test_a_domain_error_fails_the_job_with_the_field_in_both_languages(cast: SimpleNamespace) -> None:
    job = services.job_start(kind="tests.count", params={"fail_with": "domain"}, by=cast.rep_east)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("name: 名称不能为空")
    assert job.progress_done == 3  # how far it got stays visible


def test_a_crash_fails_the_job_and_its_starter_may_retry_it(cast: SimpleNamespace) -> None:
    job = services.job_start(kind="tests.count", params={"fail_with": "crash"}, by=cast.rep_east)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "RuntimeError: disk full" in job.error
    Job.objects.filter(pk=job.pk).update(params={"upto": 2})  # the cause went away
    retried = services.job_retry(job_id=job.pk, by=cast.rep_east)
    assert retried.status == JobStatus.SUCCEEDED and retried.result == {"counted": 2} and retried.error == ""


def test_only_failed_jobs_can_be_retried(cast: SimpleNamespace) -> None:
    job = services.job_start(kind="tests.count", by=cast.rep_east)
    with pytest.raises(ValidationError) as exc:
        services.job_retry(job_id=job.pk, by=cast.rep_east)
    assert exc.value.code == "not_failed"
    assert len(RUNS) == 1


def test_another_user_neither_sees_nor_retries_my_job(cast: SimpleNamespace) -> None:
    job = services.job_start(kind="tests.count", params={"fail_with": "crash"}, by=cast.rep_east)
    with pytest.raises(NotFound):
        services.job_retry(job_id=job.pk, by=cast.rep_west)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert job_list(actor=cast.rep_west).count == 0
    assert job_list(actor=cast.rep_east).count == 1
    assert job_get(actor=cast.admin, job_id=job.pk) == job  # who may change settings sees all


def test_a_duplicate_delivery_of_a_finished_job_does_nothing(cast: SimpleNamespace) -> None:
    job = services.job_start(kind="tests.count", by=cast.rep_east)
    assert services.job_execute(job_id=job.pk, worker_id="other") == "skipped"
    assert len(RUNS) == 1


def test_a_job_whose_worker_stopped_beating_is_queued_again_and_finishes(cast: SimpleNamespace) -> None:
    now = timezone.now()
    WorkerProcess.objects.create(
        worker_id="dead-1", hostname="h", pid=1, backend="database", seen_at=now - timedelta(minutes=5)
    )
    WorkerProcess.objects.create(worker_id="alive-1", hostname="h", pid=2, backend="database", seen_at=now)
    orphan = Job.objects.create(kind="tests.count", title="t", status=JobStatus.RUNNING, worker_id="dead-1",
                                attempts=1, started_at=now - timedelta(minutes=6), params={"upto": 2},
                                created_by=cast.rep_east)  # fmt: skip
    busy = Job.objects.create(kind="tests.count", title="t", status=JobStatus.RUNNING, worker_id="alive-1",
                              attempts=1, started_at=now, created_by=cast.rep_east)  # fmt: skip
    assert services.jobs_recover(now=now) == [orphan.pk]
    orphan.refresh_from_db()
    busy.refresh_from_db()
    assert orphan.status == JobStatus.SUCCEEDED and orphan.attempts == 2 and orphan.result == {"counted": 2}
    assert busy.status == JobStatus.RUNNING and busy.worker_id == "alive-1"
    assert list(WorkerProcess.objects.values_list("worker_id", flat=True)) == ["alive-1"]
    assert services.jobs_recover(now=now) == []  # nothing left to recover


def test_a_job_that_keeps_losing_its_worker_is_given_up(cast: SimpleNamespace) -> None:
    past = timezone.now() - timedelta(minutes=10)
    job = Job.objects.create(kind="tests.count", title="t", status=JobStatus.RUNNING, worker_id="gone",
                             attempts=3, started_at=past, created_by=cast.rep_east)  # fmt: skip
    services.jobs_recover()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "gave up after 3 attempts" in job.error
    assert RUNS == []


def test_a_just_started_job_without_a_first_beat_is_left_alone(cast: SimpleNamespace) -> None:
    job = Job.objects.create(kind="tests.count", title="t", status=JobStatus.RUNNING, worker_id="new",
                             attempts=1, started_at=timezone.now(), created_by=cast.rep_east)  # fmt: skip
    assert services.jobs_recover() == []
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING


def test_a_worker_registers_beats_and_leaves(db: Any) -> None:
    services.worker_beat(worker_id="w1", hostname="host", pid=42, backend="database")
    first = WorkerProcess.objects.get().seen_at
    services.worker_beat(worker_id="w1", hostname="host", pid=42, backend="database")
    assert WorkerProcess.objects.get().seen_at >= first
    services.worker_stop(worker_id="w1")
    assert not WorkerProcess.objects.exists()


# ---------------------------------------------------------------- scheduler


def test_the_scheduler_starts_each_due_slot_once(cast: SimpleNamespace, monkeypatch: Any) -> None:
    from kehu.jobs import registry

    monkeypatch.setattr(registry, "_PERIODIC", {"tests.count": Periodic(kind="tests.count", at=time(2, 0))})
    early = datetime(2026, 12, 1, 1, 0, tzinfo=SHANGHAI)
    assert services.scheduler_tick(now=early) == []
    on_time = datetime(2026, 12, 1, 2, 10, tzinfo=SHANGHAI)
    (job,) = services.scheduler_tick(now=on_time)
    assert services.scheduler_tick(now=on_time + timedelta(hours=1)) == []
    assert job.created_by is None
    assert ScheduledRun.objects.get().job == job
    # The scheduler was down at 02:00 the next day: once back (09:30) it catches that day's slot up.
    (tomorrow,) = services.scheduler_tick(now=on_time + timedelta(days=1, hours=7))
    assert tomorrow.pk != job.pk and len(RUNS) == 2


def test_a_new_installation_does_not_run_todays_nightly_jobs_hours_late(
    cast: SimpleNamespace, monkeypatch: Any
) -> None:
    from kehu.jobs import registry

    monkeypatch.setattr(registry, "_PERIODIC", {"tests.count": Periodic(kind="tests.count", at=time(2, 0))})
    first_start = datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)
    assert services.scheduler_tick(now=first_start) == []
    assert ScheduledRun.objects.get().job is None  # today's slot: skipped, not run
    assert RUNS == []
    (job,) = services.scheduler_tick(now=first_start + timedelta(days=1))  # from tomorrow on, as usual
    assert job.kind == "tests.count"


def test_the_real_periodic_jobs_are_registered() -> None:
    from kehu.jobs.registry import periodic_jobs

    kinds = {p.kind for p in periodic_jobs()}
    assert {
        "customers.pool_recycle",
        "customers.birthdays",
        "engagement.revisits",
        "engagement.reminders",
        "sales.quotes_expire",
        "analytics.refresh",
    } <= kinds


def test_running_a_periodic_job_now_needs_the_settings_right(cast: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied):
        services.periodic_run_now(kind="customers.pool_recycle", by=cast.rep_east)
    assert not Job.objects.exists()
    with pytest.raises(NotFound):
        services.periodic_run_now(kind="tests.count", by=cast.admin)  # a handler, but not periodic
    job = services.periodic_run_now(kind="customers.pool_recycle", by=cast.admin)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["returned"] == 0


def test_the_pool_return_job_returns_due_customers_with_progress(cast: SimpleNamespace) -> None:
    from kehu.customers.models import Customer
    from kehu.customers.pool import default_pool, pool_update
    from kehu.customers.tests.factories import make_customer

    pool = default_pool()
    assert pool is not None
    pool_update(pool_id=pool.pk, version=pool.version, data={"no_follow_up_days": 30}, by=cast.admin)
    stale = make_customer(cast.rep_east, name="久未联系有限公司")
    Customer.objects.filter(pk=stale.pk).update(
        last_contact_at=timezone.now() - timedelta(days=400), owner_since=timezone.now() - timedelta(days=400)
    )
    job = services.periodic_run_now(kind="customers.pool_recycle", by=cast.admin)
    job.refresh_from_db()
    stale.refresh_from_db()
    assert stale.owner is None
    assert job.result["returned"] == 1 and (job.progress_done, job.progress_total) == (1, 1)


def test_periodic_jobs_and_workers_are_listed_for_administrators_only(cast: SimpleNamespace) -> None:
    assert periodic_list(actor=cast.rep_east) == []
    rows = periodic_list(actor=cast.admin)
    assert "customers.pool_recycle" in [r.kind for r in rows]


def test_the_selftest_checks_its_bounds_and_the_right(cast: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied):
        services.jobs_selftest(by=cast.rep_east)
    with pytest.raises(ValidationError) as exc:
        services.jobs_selftest(by=cast.admin, steps=0)
    assert exc.value.field == "steps"
    assert not Job.objects.exists()
    job = services.jobs_selftest(by=cast.admin, steps=2, step_seconds=0)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result == {"steps": 2, "worker": "inline"}


# ---------------------------------------------------------------- API and pages


def test_the_api_shows_my_jobs_and_hides_others(cast: SimpleNamespace, api_as: Any) -> None:
    mine = services.job_start(kind="tests.count", by=cast.rep_east)
    theirs = services.job_start(kind="tests.count", by=cast.rep_west)
    api = api_as(cast.rep_east)
    listed = api.get("/api/v1/jobs").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == mine.pk
    assert listed["items"][0]["status"] == "succeeded" and listed["items"][0]["percent"] == 100
    missing = api.get(f"/api/v1/jobs/{theirs.pk}")
    assert missing.status_code == 404 and missing.json()["field"] == "job"
    bad = api.get("/api/v1/jobs?status=done")
    assert bad.status_code == 422 and bad.json()["field"] == "status"


def test_the_api_retries_and_runs_periodic_jobs(cast: SimpleNamespace, api_as: Any) -> None:
    job = services.job_start(kind="tests.count", params={"fail_with": "crash"}, by=cast.rep_east)
    assert api_as(cast.rep_east).post(f"/api/v1/jobs/{job.pk}/retry").status_code == 202
    refused = api_as(cast.rep_east).post("/api/v1/jobs/periodic/customers.pool_recycle/run")
    assert refused.status_code == 403
    assert api_as(cast.rep_east).get("/api/v1/jobs/periodic").json() == []
    admin = api_as(cast.admin)
    started = admin.post("/api/v1/jobs/periodic/engagement.revisits/run")
    assert started.status_code == 202 and started.json()["kind"] == "engagement.revisits"
    assert any(
        r["kind"] == "engagement.revisits" and r["last_job"] is None
        for r in admin.get("/api/v1/jobs/periodic").json()
    )
    unknown = admin.post("/api/v1/jobs/selftest", {"steps": 2, "step_seconds": 0, "speed": 1})
    assert unknown.status_code == 422 and unknown.json()["field"] == "speed"


def test_the_job_pages(cast: SimpleNamespace, signed_in: Any) -> None:
    job = services.job_start(
        kind="tests.count", params={"fail_with": "crash"}, title="数三下", by=cast.rep_east
    )
    client = signed_in(cast.rep_east)
    listing = client.get("/jobs/").content.decode()
    assert "数三下" in listing and 'data-testid="periodic-table"' not in listing
    detail = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-status="failed"' in detail and "disk full" in detail and "job-retry" in detail
    partial = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="job-progress"') and "<html" not in partial
    assert client.get("/jobs/?status=nope").status_code == 200
    other = signed_in(cast.rep_west).get(f"/jobs/{job.pk}/")
    assert other.status_code == 404


def test_an_administrator_runs_a_periodic_job_from_the_page(cast: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(cast.admin)
    listing = client.get("/jobs/").content.decode()
    assert 'data-testid="periodic-table"' in listing and "no-workers" in listing
    response = client.post("/jobs/periodic/customers.pool_recycle/run/")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert signed_in(cast.rep_east).post("/jobs/periodic/customers.pool_recycle/run/").status_code == 403
    assert Job.objects.count() == 1


def test_a_job_is_in_running_order_state_not_raising(cast: SimpleNamespace) -> None:
    # KehuError subclasses from a handler never escape job_execute: the worker loop must go on.
    job = services.job_start(kind="tests.count", params={"fail_with": "domain"}, by=cast.rep_east)
    assert isinstance(job, Job)
    assert not isinstance(job.error, KehuError)


def test_the_pool_page_starts_the_return_as_a_job_and_shows_its_progress(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    response = signed_in(cast.admin).post("/customers/pools/recycle/")
    job = Job.objects.get(kind="customers.pool_recycle")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.created_by == cast.admin
    refused = signed_in(cast.rep_east).post("/customers/pools/recycle/")
    assert refused.status_code == 302 and Job.objects.count() == 1


def test_old_finished_jobs_are_pruned_with_their_files_and_open_ones_stay(cast: SimpleNamespace) -> None:
    from django.conf import settings

    old = services.job_start(kind="tests.count", by=cast.rep_east)
    recent = services.job_start(kind="tests.count", by=cast.rep_east)
    waiting = Job.objects.create(kind="tests.count", title="t", created_by=cast.rep_east)
    Job.objects.filter(pk__in=[old.pk, waiting.pk]).update(
        finished_at=timezone.now() - timedelta(days=40), created_at=timezone.now() - timedelta(days=40)
    )
    Job.objects.filter(pk=waiting.pk).update(finished_at=None)
    path = services.job_file_path(old, "customers.xlsx")
    path.write_bytes(b"x")
    result = services.jobs_prune(keep_days=30)
    assert result["jobs"] == 1
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not (settings.KEHU_JOB_FILES_ROOT / str(old.pk)).exists()
    assert services.jobs_prune(keep_days=30)["jobs"] == 0


def test_a_periodic_job_with_nothing_to_do_starts_no_job(cast: SimpleNamespace, monkeypatch: Any) -> None:
    from kehu.jobs import registry

    work = {"waiting": False}
    entry = Periodic(kind="tests.count", every=timedelta(minutes=5), needed=lambda: work["waiting"])
    monkeypatch.setattr(registry, "_PERIODIC", {"tests.count": entry})
    now = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
    assert services.scheduler_tick(now=now) == [] and not Job.objects.exists()
    work["waiting"] = True
    assert len(services.scheduler_tick(now=now)) == 1
    assert services.scheduler_tick(now=now) == []  # that slot is taken


def test_fetchmail_and_notification_mail_are_periodic_only_when_there_is_work(cast: SimpleNamespace) -> None:
    from kehu.jobs.registry import periodic_jobs
    from kehu.notifications.services import notify

    entries = {p.kind: p for p in periodic_jobs()}
    fetch, mail = entries["engagement.fetchmail"], entries["notifications.mail"]
    assert fetch.needed is not None and mail.needed is not None
    assert not fetch.needed() and not mail.needed()
    notify(recipient=cast.rep_east, kind="x", key="k", title="t")
    assert mail.needed()
