"""Vocabularies and state tables of the sales pipeline (SAL-3, SAL-4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StageKind(models.TextChoices):
    """An open stage of the pipeline, or one of the three end states every stage group shares."""

    OPEN = "open", _("进行中")
    WON = "won", _("赢单")
    LOST = "lost", _("输单")
    INVALID = "invalid", _("无效")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    WON = "won", _("赢单")
    LOST = "lost", _("输单")
    INVALID = "invalid", _("无效")


# status -> statuses it may move to. A closed opportunity is reopened only by a manager (pipeline helper
# decides the service); an open one is won, lost or declared invalid.
OPPORTUNITY_TRANSITIONS: dict[str, tuple[str, ...]] = {
    OpportunityStatus.OPEN: (OpportunityStatus.WON, OpportunityStatus.LOST, OpportunityStatus.INVALID),
    OpportunityStatus.WON: (),
    OpportunityStatus.LOST: (OpportunityStatus.OPEN,),
    OpportunityStatus.INVALID: (OpportunityStatus.OPEN,),
}


class BuyingRole(models.TextChoices):
    """The roles of a buying centre (SAL-4); one contact may play several."""

    USER = "user", _("使用者")
    INFLUENCER = "influencer", _("影响者")
    DECIDER = "decider", _("决策者")
    BUYER = "buyer", _("购买者")
    GATEKEEPER = "gatekeeper", _("监督者")


class Stance(models.TextChoices):
    """Where a member of the buying centre stands on our offer (SAL-4)."""

    SUPPORTER = "supporter", _("支持者")
    NEUTRAL = "neutral", _("中立")
    OPPONENT = "opponent", _("反对者")


class PricePosition(models.TextChoices):
    """A competitor's price compared with ours."""

    HIGHER = "higher", _("比我们高")
    SIMILAR = "similar", _("相近")
    LOWER = "lower", _("比我们低")
