"""Mailing notifications is a periodic job (every five minutes), so a slow SMTP server never slows a page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic

from .services import notifications_mail


@job_handler("notifications.mail", label=_("发送通知邮件"))
def mail_job(job: Job, **_params: Any) -> dict[str, Any]:
    return notifications_mail()


def _unmailed() -> bool:
    from .models import Notification

    return Notification.objects.filter(mailed_at__isnull=True).exists()


periodic("notifications.mail", every=timedelta(minutes=5), needed=_unmailed)
