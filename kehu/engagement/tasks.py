"""Background and periodic jobs of engagement (issue 3): they call services only."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic
from kehu.jobs.services import job_progress

from .revisits import revisit_generate


@job_handler("engagement.revisits", label=_("定期回访：生成回访任务"))
def revisits_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Daily revisit tasks (ENG-4). Idempotent: a customer with an open revisit task gets no second one."""
    result = revisit_generate(by=job.created_by)
    return {"created": result.created}


periodic("engagement.revisits", at=time(3, 0))


@job_handler("engagement.reminders", label=_("每日待办提醒"))
def reminders_job(job: Job, **_params: Any) -> dict[str, Any]:
    """The morning reminder (issue 3): each user with something in their 待办 gets one notification
    listing the counts — in the app, and by e-mail if they want. Once per user and day."""
    from .reminders import reminders_send

    return reminders_send(progress=lambda done, total: job_progress(job, done=done, total=total))


periodic("engagement.reminders", at=time(8, 0))
