"""Background and periodic jobs of the customers domain (issue 3): they call services only."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic
from kehu.jobs.services import job_file_path, job_progress

from .pool import pool_recycle


@job_handler("customers.pool_recycle", label=_("公海回收：退回到期客户"))
def pool_recycle_job(job: Job, **_params: Any) -> dict[str, Any]:
    """The nightly return to the public pool (CUS-7). Idempotent: a returned customer has no owner."""
    result = pool_recycle(
        by=job.created_by, progress=lambda done, total: job_progress(job, done=done, total=total)
    )
    return {"returned": result.returned, "seconds": result.seconds}


periodic("customers.pool_recycle", at=time(2, 0))


@job_handler("customers.export", label=_("导出客户"))
def customer_export_job(job: Job, *, scene: str, filters: dict[str, Any], sort: str) -> dict[str, Any]:
    """A large filtered customer list to .xlsx (CUS-8), as its starter sees it; a retry rewrites the file."""
    from django.urls import reverse
    from django.utils import timezone

    from .services import customer_export_to_file

    assert job.created_by is not None  # exports are always someone's
    name = f"customers-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"
    rows = customer_export_to_file(
        by=job.created_by, path=job_file_path(job, name), scene=scene, filters=filters, sort=sort,
        progress=lambda done, total: job_progress(job, done=done, total=total),
    )  # fmt: skip
    return {"rows": rows, "file": name, "download": reverse("jobs:file", args=[job.pk])}


@job_handler("customers.birthdays", label=_("生日：推到下一次"))
def birthdays_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Daily (MKT-3): birthdays that have passed move on to their next (solar or lunar) celebration."""
    from .birthdays import birthday_refresh

    return {"changed": birthday_refresh()}


periodic("customers.birthdays", at=time(0, 30))
