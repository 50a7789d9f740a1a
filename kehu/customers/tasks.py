"""Background and periodic jobs of the customers domain (issue 3): they call services only."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic
from kehu.jobs.services import job_progress

from .pool import pool_recycle


@job_handler("customers.pool_recycle", label=_("公海回收：退回到期客户"))
def pool_recycle_job(job: Job, **_params: Any) -> dict[str, Any]:
    """The nightly return to the public pool (CUS-7). Idempotent: a returned customer has no owner."""
    result = pool_recycle(
        by=job.created_by, progress=lambda done, total: job_progress(job, done=done, total=total)
    )
    return {"returned": result.returned, "seconds": result.seconds}


periodic("customers.pool_recycle", at=time(2, 0))
