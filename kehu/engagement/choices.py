"""Fixed vocabularies of engagement (ENG-1). Channels are an admin-editable list (customers.Option)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    OUTBOUND = "outbound", _("我方主动")
    INBOUND = "inbound", _("客户主动")
