"""Periodic jobs of the sales chain (SAL-6, SAL-7): they call services only."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.jobs.models import Job
from kehu.jobs.registry import job_handler, periodic

from .billing import instalment_reminders_notify
from .services import late_orders_notify


@job_handler("orders.late_orders", label=_("订单进度：提醒逾期未发货的订单"))
def late_orders_job(job: Job, **_params: Any) -> dict[str, Any]:
    """售中服务: owners hear of their orders past the promised ship date. Idempotent (one notice per
    order and promised date)."""
    return {"notified": late_orders_notify()}


periodic("orders.late_orders", at=time(8, 30))


@job_handler("orders.instalment_reminders", label=_("回款提醒：即将到期与逾期的回款计划"))
def instalment_reminders_job(job: Job, **_params: Any) -> dict[str, Any]:
    """Owners hear of instalments due within their reminder days, and of overdue ones. Idempotent."""
    return {"notified": instalment_reminders_notify()}


periodic("orders.instalment_reminders", at=time(8, 40))


@job_handler("orders.classification_refresh", label=_("客户分类：按成交数据重新计算（价值、忠诚度、状态）"))
def classification_refresh_job(job: Job, **_params: Any) -> dict[str, Any]:
    """CUS-2: customers whose classes change with the calendar alone (an order leaves the 12-month
    window, a first order turns one or three years old) are recomputed. Idempotent."""
    from .classification import customer_facts_refresh_due

    return {"changed": customer_facts_refresh_due()}


periodic("orders.classification_refresh", at=time(2, 30))
