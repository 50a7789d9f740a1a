"""The analytics refresh as a background job: nightly, and on demand from the page or the API."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic
from kehu.jobs.services import job_progress

from .refresh import refresh_all


@job_handler("analytics.refresh", label=_("客户分析：刷新价值、RFM、终身价值、流失预警与生命周期"))
def analytics_refresh_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Recompute every customer's scores (ANA-1 … ANA-5) and the relationship report's stored periods
    (ANA-6). Idempotent: a rerun replaces them again."""
    run = refresh_all(
        started_by=job.created_by,
        progress=lambda pct, message: job_progress(job, done=pct, total=100, message=message),
    )
    run.refresh_from_db()
    return {"run": run.pk, "customers": run.customers, "buyers": run.buyers, "timings": run.timings,
            "relationship": run.summary.get("relationship")}  # fmt: skip


# After the orders' nightly classification (02:30), before the working day.
periodic("analytics.refresh", at=time(3, 30))
