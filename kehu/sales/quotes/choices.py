"""Vocabularies and the state table of quotes (SAL-5)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SENT = "sent", _("已发送")
    ACCEPTED = "accepted", _("已接受")
    REJECTED = "rejected", _("已拒绝")
    EXPIRED = "expired", _("已过期")


# verb -> (statuses it may start from, status it leads to): one service per transition (house style 2).
QUOTE_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "send": ((QuoteStatus.DRAFT,), QuoteStatus.SENT),
    "accept": ((QuoteStatus.SENT,), QuoteStatus.ACCEPTED),
    "reject": ((QuoteStatus.SENT,), QuoteStatus.REJECTED),
    "expire": ((QuoteStatus.DRAFT, QuoteStatus.SENT), QuoteStatus.EXPIRED),
}

# Cost components a line's unit cost is built from (SAL-5: kept with each version of the quote).
COST_COMPONENTS: dict[str, Any] = {
    "material": _("材料"),
    "labour": _("人工"),
    "freight": _("运费"),
    "duty": _("关税"),
    "packing": _("包装"),
    "other": _("其他"),
}
