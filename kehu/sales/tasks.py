"""Periodic jobs of the pipeline and quotes (SAL-5): they call services only."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import PermissionDenied
from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic

from .quotes.services import quotes_expire_due


@job_handler("sales.quotes_expire", label=_("报价有效期：过期的报价单标记为已过期"))
def quotes_expire_job(job: Job, **_params: Any) -> dict[str, Any]:
    """A draft or sent quote past its validity turns 已过期 and its owner hears of it. Idempotent."""
    return {"expired": quotes_expire_due()}


periodic("sales.quotes_expire", at=time(1, 10))


@job_handler("leads.rescore", label=_("线索风险：按当前规则给未结束的线索重新评分"))
def leads_rescore_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Score every open lead again (SAL-2), for the manager who asked; a rerun scores them again."""
    from kehu.jobs.services import job_progress

    from .leads.services import leads_rescore

    if job.created_by is None:  # the manager's account was deleted meanwhile
        raise PermissionDenied(_("发起人已不存在"))
    scored = leads_rescore(
        by=job.created_by, progress=lambda done, total: job_progress(job, done=done, total=total)
    )
    return {"scored": scored}
