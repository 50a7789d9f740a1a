"""Fixed vocabularies of the product catalogue (SAL-9)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    """How a product is counted. The fraudulent-inquiry check (SAL-2) flags an inquiry that asks for a
    product in a unit of another kind (kilograms of goods sold by the piece)."""

    PIECE = "piece", _("按件/台/套")
    WEIGHT = "weight", _("按重量")
    LENGTH = "length", _("按长度")
    VOLUME = "volume", _("按体积")
    SERVICE = "service", _("按服务/时间")


class RiskLevel(models.TextChoices):
    """Risk level of a financial product (SUI-1), R1 lowest to R5 highest; empty for other goods."""

    R1 = "R1", _("R1 谨慎型")
    R2 = "R2", _("R2 稳健型")
    R3 = "R3", _("R3 平衡型")
    R4 = "R4", _("R4 进取型")
    R5 = "R5", _("R5 激进型")
