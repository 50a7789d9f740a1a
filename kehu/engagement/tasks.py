"""Background and periodic jobs of engagement (issue 3): they call services only."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic

from .revisits import revisit_generate


@job_handler("engagement.revisits", label=_("定期回访：生成回访任务"))
def revisits_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Daily revisit tasks (ENG-4). Idempotent: a customer with an open revisit task gets no second one."""
    result = revisit_generate(by=job.created_by)
    return {"created": result.created}


periodic("engagement.revisits", at=time(3, 0))
