"""The sales pipeline (SAL-3): stage groups with ordered stages, and opportunities (商机).

Leads (SAL-1, SAL-2) and quotes (SAL-5) live in their own concept packages (``sales/leads``,
``sales/quotes``); Django finds their models through the imports at the bottom of this module."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department
from kehu.access.perms import Perm
from kehu.access.scope import can, owner_scope_q
from kehu.core.models import SoftDeleteModel, VersionedModel, localized
from kehu.customers.models import Customer

from .choices import BuyingRole, OpportunityStatus, PricePosition, StageKind, Stance


class StageGroup(VersionedModel):
    """An ordered set of stages one or more departments sell by (SAL-3). A department without a group of
    its own (nor an ancestor with one) uses the default group."""

    name = models.CharField(_("阶段组名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    departments = models.ManyToManyField(
        Department, blank=True, related_name="stage_groups", verbose_name=_("适用部门")
    )
    is_default = models.BooleanField(_("默认阶段组"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("销售阶段组")
        verbose_name_plural = _("销售阶段组")
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return localized(self.name, self.name_en)


class Stage(models.Model):
    """One step of a stage group. ``probability`` is the cumulative win rate of an opportunity standing
    in this stage (SAL-3): the weighted forecast multiplies the amount by it. The end states (赢单 /
    输单 / 无效) are stages of their own kind with 100 / 0 / 0."""

    group = models.ForeignKey(StageGroup, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("阶段名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=40, blank=True)
    kind = models.CharField(_("阶段类型"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(_("赢率（%）"))
    # From this stage on a proposal is on the table: the buying-centre warnings (SAL-4) apply.
    past_proposal = models.BooleanField(_("已提交方案"), default=False)

    class Meta:
        verbose_name = _("销售阶段")
        verbose_name_plural = _("销售阶段")
        ordering = ["group_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["group", "order"], name="stage_group_order_unique"),
        ]

    def __str__(self) -> str:
        return localized(self.name, self.name_en)


class OpportunityQuerySet(models.QuerySet):
    def visible_to(self, actor) -> OpportunityQuerySet:
        """The only row filter for opportunities (SEC-1): the owner is in the actor's data scope.

        A rep sees their own deals, a manager those of the department tree, 全部 every one."""
        if not can(actor, Perm.OPPORTUNITY_VIEW):
            return self.none()
        return self.filter(owner_scope_q(actor), deleted_at__isnull=True)

    def open(self) -> OpportunityQuerySet:
        return self.filter(status=OpportunityStatus.OPEN)


class Opportunity(VersionedModel, SoftDeleteModel):
    """A deal being worked (商机, SAL-3): customer, amount, expected close date, stage; won, lost (with
    reason and competitor) or invalid at the end. ``department`` is the owner's department when the
    opportunity was created or last handed over, so forecasts by department need no join."""

    code = models.CharField(_("商机编号"), max_length=20, unique=True)
    name = models.CharField(_("商机名称"), max_length=120)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("客户")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("负责人"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
        verbose_name=_("部门"),
    )
    stage_group = models.ForeignKey(
        StageGroup, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("阶段组")
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("阶段")
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN
    )
    amount = models.DecimalField(_("预计金额"), max_digits=16, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    # When set, the amount is the sum of the product lines and follows every change of them.
    amount_from_lines = models.BooleanField(_("金额按产品明细汇总"), default=False)
    expected_close = models.DateField(_("预计成交日期"), null=True, blank=True)
    # Position on the kanban board within its stage column (lower first).
    rank = models.IntegerField(_("看板顺序"), default=0)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    close_reason = models.TextField(_("赢单/输单/无效原因"), blank=True)
    lost_to = models.CharField(_("输给的竞争对手"), max_length=120, blank=True)
    description = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("商机")
        verbose_name_plural = _("商机")
        indexes = [
            # The kanban board: open opportunities of a stage group, by stage and rank.
            models.Index(
                fields=["stage_group", "stage", "rank"],
                name="opp_board",
                condition=models.Q(status="open", deleted_at__isnull=True),
            ),
            # Forecasts and "my pipeline": open opportunities of an owner by expected close month.
            # The board of one department (filter 部门): without it each column walks ``opp_board`` through
            # every department's cards (~60 read per card shown at 300,000 open; issue-4 benchmark).
            models.Index(
                fields=["department", "stage_group", "stage", "rank"],
                name="opp_board_dept",
                condition=models.Q(status="open", deleted_at__isnull=True),
            ),
            # The forecast of a view scope (owner IN …): covering, see opp_open_close_stage. The stage
            # group at the end makes it cover the board's column totals too (owner IN … of a stage group:
            # an index-only scan of the department's 5,000 instead of a bitmap over all 50,000 of its
            # owners' opportunities on PostgreSQL, issue-4 benchmark).
            models.Index(
                fields=[
                    "owner",
                    "expected_close",
                    "stage",
                    "currency",
                    "amount",
                    "status",
                    "deleted_at",
                    "stage_group",
                ],
                name="opp_open_owner_close",
                condition=models.Q(status="open", deleted_at__isnull=True),
            ),
            models.Index(
                fields=["department", "expected_close"],
                name="opp_open_dept_close",
                condition=models.Q(status="open", deleted_at__isnull=True),
            ),
            # The weighted forecast by month of every open opportunity (全部): the query groups by these
            # columns in this order and reads nothing else (the owner for the row filter), so it is an
            # index-only walk without a sort. status and deleted_at are repeated as key columns because
            # SQLite counts an index as covering only when it holds every column the query names, the
            # partial index's own condition included (measured: 1.2 s → 0.1 s at 300,000 open).
            models.Index(
                fields=["expected_close", "stage", "currency", "amount", "owner", "status", "deleted_at"],
                name="opp_open_close_stage",
                condition=models.Q(status="open", deleted_at__isnull=True),
            ),
            models.Index(fields=["customer", "status"], name="opp_customer_status"),
            # Opportunities closed in a period (the funnel's outcomes and reasons lost, ANA-7): a range of
            # the closed ones only, instead of a scan of every opportunity.
            models.Index(
                fields=["closed_at"], name="opp_closed_at", condition=models.Q(closed_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.stage.probability / 100).quantize(Decimal("0.01"))


class StageChange(models.Model):
    """One move of an opportunity from a stage to another (SAL-3): who moved it and when. Append-only; the
    opportunity's page and the customer's timeline show them (the audit log keeps the same as events)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("原阶段")
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("新阶段"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("阶段变更")
        verbose_name_plural = _("阶段变更")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["opportunity", "at"], name="stage_change_opp_at")]

    def __str__(self) -> str:
        return f"{self.from_stage or '—'} → {self.to_stage}"


class OpportunityProduct(models.Model):
    """A product line of an opportunity: what the customer may buy, how many, at what price. The unit
    price defaults to the catalogue's; ``amount`` = quantity × unit price × (1 − discount %)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="opportunity_lines", verbose_name=_("产品")
    )
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(_("单价"), max_digits=14, decimal_places=2)
    discount = models.DecimalField(_("折扣（%）"), max_digits=5, decimal_places=2, default=Decimal("0"))
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("商机产品")
        verbose_name_plural = _("商机产品")
        ordering = ["opportunity_id", "id"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class OpportunityContact(models.Model):
    """A member of the opportunity's buying centre (SAL-4): one of the customer's contacts, the roles they
    play (使用者 / 影响者 / 决策者 / 购买者 / 监督者), their stance and influence (1–5)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="buying_centre")
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.CASCADE,
        related_name="opportunity_roles",
        verbose_name=_("联系人"),
    )
    # A list of BuyingRole values: the same person may decide and buy.
    roles = models.JSONField(_("角色"), default=list)
    stance = models.CharField(_("态度"), max_length=10, choices=Stance.choices, default=Stance.NEUTRAL)
    influence = models.PositiveSmallIntegerField(_("影响力（1–5）"), default=3)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("采购中心成员")
        verbose_name_plural = _("采购中心成员")
        ordering = ["opportunity_id", "-influence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact"], name="opp_contact_unique"),
        ]

    def __str__(self) -> str:
        return str(self.contact)

    def role_labels(self) -> list[str]:
        return [str(BuyingRole(r).label) for r in self.roles if r in BuyingRole.values]


class Competitor(models.Model):
    """A competitor on the deal (SAL-4): who they are, what they do better or worse, how their price
    compares with ours."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(_("竞争对手"), max_length=120)
    strengths = models.TextField(_("优势"), blank=True)
    weaknesses = models.TextField(_("劣势"), blank=True)
    price_position = models.CharField(
        _("价格定位"), max_length=8, choices=PricePosition.choices, default=PricePosition.SIMILAR
    )
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("竞争对手")
        verbose_name_plural = _("竞争对手")
        ordering = ["opportunity_id", "id"]

    def __str__(self) -> str:
        return self.name


# Quotations (SAL-5) live in their own concept package; Django finds their models through this module.
# Leads (SAL-1, SAL-2) live in their own concept package; Django finds their models through this module.
from .leads.models import (  # noqa: E402,F401
    CaptureAttempt,
    Lead,
    LeadForm,
    LeadLine,
    RiskRule,
    RiskSettings,
)
from .quotes.models import Letterhead, Quote, QuoteLine  # noqa: E402,F401
