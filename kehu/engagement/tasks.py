"""Background and periodic jobs of engagement (issue 3): they call services only."""

from __future__ import annotations

from datetime import time, timedelta
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


@job_handler("engagement.fetchmail", label=_("收取客户邮件（IMAP）"))
def fetchmail_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Every five minutes (ENG-5): new mail of every active IMAP mailbox. Idempotent: a message is stored
    once (by Message-ID and UID); a mailbox that fails keeps its error and the others go on."""
    from .mail.mailboxes import mailbox_fetch_all

    result = mailbox_fetch_all(by=job.created_by)
    return {"stored": result.stored, "mailboxes": len(result.results), "failed": len(result.failed)}


def _mailboxes_to_poll() -> bool:
    from .mail.models import Mailbox

    return Mailbox.objects.filter(is_active=True).exclude(imap_host="").exclude(imap_username="").exists()


periodic("engagement.fetchmail", every=timedelta(minutes=5), needed=_mailboxes_to_poll)
