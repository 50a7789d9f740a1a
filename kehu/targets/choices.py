"""What a sales target measures and over which period (SAL-8)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    CONTRACT_AMOUNT = "contract_amount", _("合同金额")
    PAYMENT_AMOUNT = "payment_amount", _("回款金额")
    NEW_CUSTOMERS = "new_customers", _("新增成交客户数")
    DEALS = "deals", _("赢单数")


# Metrics counted in money (CNY, two decimals); the others are whole numbers.
MONEY_METRICS = frozenset({Metric.CONTRACT_AMOUNT, Metric.PAYMENT_AMOUNT})


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")
