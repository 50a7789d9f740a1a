"""Fixed vocabularies of engagement (ENG-1). Channels are an admin-editable list (customers.Option)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    OUTBOUND = "outbound", _("我方主动")
    INBOUND = "inbound", _("客户主动")


class TaskStatus(models.TextChoices):
    """A P&A task (计划与行动, ENG-3): promised, then done or called off."""

    OPEN = "open", _("进行中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


# The allowed transitions, one service each (house style 2): verb -> (from states, to state).
TASK_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "complete": ((TaskStatus.OPEN,), TaskStatus.DONE),
    "cancel": ((TaskStatus.OPEN,), TaskStatus.CANCELLED),
    "reopen": ((TaskStatus.DONE, TaskStatus.CANCELLED), TaskStatus.OPEN),
}


class RevisitTrigger(models.TextChoices):
    """What starts a revisit (ENG-4): a customer left quiet for N days, or an event the sales and service
    domains report through ``revisits.revisit_after_event``."""

    QUIET = "quiet", _("久未联系")
    AFTER_ORDER = "after_order", _("每次下单后")
    AFTER_COMPLAINT = "after_complaint", _("投诉解决后")


class MailResponse(models.TextChoices):
    """Where an inbound e-mail stands against the 24-hour rule (ENG-5)."""

    PENDING = "pending", _("待回复")
    REPLIED = "replied", _("已回复")
    NOT_NEEDED = "not_needed", _("无需回复")


class MailState(models.TextChoices):
    """An inbound e-mail's response state at a given moment (``rules.mail_response_state``)."""

    WAITING = "waiting", _("待回复")
    AT_RISK = "at_risk", _("即将超时")
    MISSED = "missed", _("已超时未回复")
    IN_TIME = "in_time", _("按时回复")
    LATE = "late", _("超时回复")
    NOT_NEEDED = "not_needed", _("无需回复")
