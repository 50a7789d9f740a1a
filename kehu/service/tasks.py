"""Periodic jobs of customer service: they call services only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic

from .escalation import escalations_run


@job_handler("service.escalate", label=_("工单升级：按升级规则提醒、改派或升级临近/超过期限的工单"))
def escalate_job(job: Job, **_params: Any) -> dict[str, Any]:
    """The SLA sweep (SVC-2, SVC-5): each rule fires once per ticket and deadline, so running it again
    does nothing new. Idempotent."""
    result = escalations_run()
    return {"fired": result.fired, **result.by_action}


periodic("service.escalate", every=timedelta(minutes=5))
