"""Thin REST endpoints over background jobs: follow a job's progress, retry it, start a periodic one."""

from __future__ import annotations

from typing import Any

from django.core.files import File
from ninja import Query, Router, Schema, Status

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS, StrictIn
from kehu.core.web import download_response

from . import selectors, services
from .schemas import JobListOut, JobOut, PeriodicOut, job_out, periodic_out

router = Router(tags=["jobs"])


class JobFilters(Schema):
    status: str | None = None
    kind: str | None = None
    limit: int | None = None
    offset: int | None = None


@router.get("/jobs", response={200: JobListOut, **ERRORS}, summary="List background jobs")
def list_jobs(request: AuthedRequest, filters: Query[JobFilters]) -> Any:
    f = filters.dict()
    limit, offset = f.pop("limit"), f.pop("offset")
    page = selectors.job_list(actor=request.user, filters=f, limit=limit, offset=offset)
    return {"items": [job_out(j) for j in page.items], "count": page.count}


@router.get("/jobs/periodic", response={200: list[PeriodicOut], **ERRORS}, summary="Periodic jobs")
def list_periodic(request: AuthedRequest) -> Any:
    return [periodic_out(r) for r in selectors.periodic_list(actor=request.user)]


@router.post(
    "/jobs/periodic/{kind}/run", response={202: JobOut, **ERRORS}, summary="Start a periodic job now"
)
def run_periodic(request: AuthedRequest, kind: str) -> Any:
    job = services.periodic_run_now(kind=kind, by=request.user)
    return Status(202, job_out(selectors.job_get(actor=request.user, job_id=job.pk)))


class SelftestIn(StrictIn):
    steps: int = 10
    step_seconds: float = 0.2


@router.post("/jobs/selftest", response={202: JobOut, **ERRORS}, summary="Start the worker self-test job")
def start_selftest(request: AuthedRequest, payload: SelftestIn) -> Any:
    job = services.jobs_selftest(by=request.user, steps=payload.steps, step_seconds=payload.step_seconds)
    return Status(202, job_out(selectors.job_get(actor=request.user, job_id=job.pk)))


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, summary="A job and its progress")
def get_job(request: AuthedRequest, job_id: int) -> Any:
    return job_out(selectors.job_get(actor=request.user, job_id=job_id))


@router.get("/jobs/{job_id}/file", response={200: None, **ERRORS}, summary="Download the file a job produced")
def get_job_file(request: AuthedRequest, job_id: int) -> Any:
    from .views import content_type_of

    path, name = selectors.job_file(actor=request.user, job_id=job_id)
    return download_response(
        File(path.open("rb"), name=str(path)), name=name, content_type=content_type_of(name)
    )


@router.post("/jobs/{job_id}/retry", response={202: JobOut, **ERRORS}, summary="Run a failed job again")
def retry_job(request: AuthedRequest, job_id: int) -> Any:
    job = services.job_retry(job_id=job_id, by=request.user)
    return Status(202, job_out(job))
