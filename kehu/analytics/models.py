"""What the analytics refresh stores (ANA-1 … ANA-5): one score row per customer, the settings it ran
with, and one row per refresh with its fitted models and company-wide summaries.

Scores are derived data: the refresh replaces them all in one transaction (``refresh.py``), so no row is
ever edited and none carries a version. The settings are edited on a page and versioned like any record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import VersionedModel
from kehu.customers.models import Customer

from .lifecycle import STAGE_LABELS, Stage
from .rfm import CLASS_LABELS, RFMClass

SETTINGS_PK = 1


class RFMClassChoice(models.TextChoices):
    IMPORTANT_VALUE = RFMClass.IMPORTANT_VALUE.value, CLASS_LABELS[RFMClass.IMPORTANT_VALUE]
    IMPORTANT_DEVELOP = RFMClass.IMPORTANT_DEVELOP.value, CLASS_LABELS[RFMClass.IMPORTANT_DEVELOP]
    IMPORTANT_KEEP = RFMClass.IMPORTANT_KEEP.value, CLASS_LABELS[RFMClass.IMPORTANT_KEEP]
    IMPORTANT_WIN_BACK = RFMClass.IMPORTANT_WIN_BACK.value, CLASS_LABELS[RFMClass.IMPORTANT_WIN_BACK]
    GENERAL_VALUE = RFMClass.GENERAL_VALUE.value, CLASS_LABELS[RFMClass.GENERAL_VALUE]
    GENERAL_DEVELOP = RFMClass.GENERAL_DEVELOP.value, CLASS_LABELS[RFMClass.GENERAL_DEVELOP]
    GENERAL_KEEP = RFMClass.GENERAL_KEEP.value, CLASS_LABELS[RFMClass.GENERAL_KEEP]
    GENERAL_WIN_BACK = RFMClass.GENERAL_WIN_BACK.value, CLASS_LABELS[RFMClass.GENERAL_WIN_BACK]


class LifecycleChoice(models.TextChoices):
    EXPLORATION = Stage.EXPLORATION.value, STAGE_LABELS[Stage.EXPLORATION]
    FORMATION = Stage.FORMATION.value, STAGE_LABELS[Stage.FORMATION]
    STABILITY = Stage.STABILITY.value, STAGE_LABELS[Stage.STABILITY]
    DECLINE = Stage.DECLINE.value, STAGE_LABELS[Stage.DECLINE]


class RFMThreshold(models.TextChoices):
    MEAN = "mean", _("平均分")
    MEDIAN = "median", _("中位数")


class AnalyticsSettings(VersionedModel):
    """The knobs of the models and rules, stored once (row 1); every default is the documented one."""

    rfm_bins = models.PositiveSmallIntegerField(
        _("RFM 分档数"), default=5, validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text=_("默认 5（五分位）"),
    )  # fmt: skip
    rfm_threshold = models.CharField(
        _("高/低的分界"), max_length=8, choices=RFMThreshold.choices, default=RFMThreshold.MEAN
    )
    p_alive_threshold = models.DecimalField(
        _("流失预警：仍活跃概率低于"), max_digits=4, decimal_places=2, default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )  # fmt: skip
    rhythm_factor = models.DecimalField(
        _("流失预警：超过平常购买间隔的倍数"), max_digits=4, decimal_places=1, default=Decimal("2.0"),
        validators=[MinValueValidator(Decimal("1.0")), MaxValueValidator(Decimal("20"))],
    )  # fmt: skip
    engagement_window_days = models.PositiveSmallIntegerField(
        _("流失预警：互动比较窗口（天）"),
        default=90,
        validators=[MinValueValidator(7), MaxValueValidator(365)],
    )
    engagement_drop = models.DecimalField(
        _("流失预警：互动下降比例"), max_digits=3, decimal_places=2, default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("1"))],
    )  # fmt: skip
    horizon_months = models.PositiveSmallIntegerField(
        _("终身价值：预测期（月）"), default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    annual_discount_rate = models.DecimalField(
        _("终身价值：年折现率"), max_digits=4, decimal_places=3, default=Decimal("0.100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )  # fmt: skip
    default_margin = models.DecimalField(
        _("终身价值：成本未知时的毛利率"), max_digits=4, decimal_places=3, default=Decimal("0.300"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )  # fmt: skip
    lifecycle_window_days = models.PositiveSmallIntegerField(
        _("生命周期：比较窗口（天）"), default=180, validators=[MinValueValidator(30), MaxValueValidator(730)]
    )
    winback_tasks = models.BooleanField(_("新出现流失风险时给负责人建挽回任务"), default=True)
    winback_due_days = models.PositiveSmallIntegerField(
        _("挽回任务期限（天）"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    # A first refresh on a large archive may flag tens of thousands at once: each owner holds at most
    # this many open win-back tasks, for the most valuable (highest CLV, then revenue); the others stay on
    # the watch list and get theirs on a later refresh, as the owner finishes tasks.
    winback_per_owner = models.PositiveSmallIntegerField(
        _("每位负责人最多同时持有的挽回任务数"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
    )

    class Meta:
        verbose_name = _("客户分析设置")
        verbose_name_plural = _("客户分析设置")

    def __str__(self) -> str:
        return str(_("客户分析设置"))


class AnalyticsRun(models.Model):
    """One refresh: when, on which day's data, the fitted models and what the whole company looked like
    (class counts, the Pareto curve, distributions) — the 全部 figures the pages draw without recomputing."""

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        DONE = "done", _("完成")
        FAILED = "failed", _("失败")

    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    as_of = models.DateField(_("数据截至"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    customers = models.PositiveIntegerField(_("客户数"), default=0)
    buyers = models.PositiveIntegerField(_("有成交的客户"), default=0)
    orders = models.PositiveIntegerField(_("订单数"), default=0)
    settings = models.JSONField(_("所用设置"), default=dict)
    models_fit = models.JSONField(_("模型参数"), default=dict)  # bgnbd / gamma_gamma: params, log-likelihood
    summary = models.JSONField(_("汇总"), default=dict)  # classes, pareto, distributions (全部)
    timings = models.JSONField(_("各步用时（秒）"), default=dict)
    error = models.TextField(_("错误"), blank=True)
    started_by = models.ForeignKey(
        "access.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("发起人"),
    )  # fmt: skip

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("分析刷新")
        verbose_name_plural = _("分析刷新")

    def __str__(self) -> str:
        return f"{self.as_of} {self.get_status_display()}"


class OwnerFigures(models.Model):
    """One refresh's figures for the customers one owner held then: customers, buyers, per RFM class and
    lifecycle stage, churn warnings, the CLV total. A view scope narrower than 全部 counts the customers
    its people own, so its figures on the day of a refresh are the sum of its owners' rows — the trend
    of a team or a department (the 全部 trend reads the run's own summary). Derived data, written with
    the run; a day keeps the rows of its last refresh only. ``owner_id`` carries no foreign key: a
    deleted user's past figures stay as they were."""

    run = models.ForeignKey(
        AnalyticsRun, on_delete=models.CASCADE, related_name="owner_figures", verbose_name=_("分析刷新")
    )
    as_of = models.DateField(_("数据截至"))
    owner_id = models.BigIntegerField(_("负责人"))
    customers = models.PositiveIntegerField(_("客户数"), default=0)
    buyers = models.PositiveIntegerField(_("有成交的客户"), default=0)
    churn = models.PositiveIntegerField(_("流失预警"), default=0)
    classes = models.JSONField(_("各 RFM 分类客户数"), default=dict)  # RFM class code → customers
    lifecycle = models.JSONField(_("各生命周期阶段客户数"), default=dict)  # stage code → customers
    clv_cents = models.BigIntegerField(_("终身价值合计（分）"), null=True, blank=True)

    class Meta:
        verbose_name = _("负责人分析汇总")
        verbose_name_plural = _("负责人分析汇总")
        indexes = [models.Index(fields=["owner_id", "as_of"], name="owner_figures_owner_day")]

    def __str__(self) -> str:
        return f"{self.as_of} {self.owner_id}"


class RowidOneToOneField(models.OneToOneField):  # type: ignore[type-arg]
    """A one-to-one primary key that SQLite keeps as the table's rowid. Declared ``bigint`` (Django's type
    for a key to a big auto field), SQLite keeps a hidden rowid and a separate unique index of the key,
    and each row written goes into both; declared ``integer`` the key *is* the rowid. For the score
    table's nightly rewrite of a million rows: 3.36–3.64 s against 3.53–4.12 s (ADR 0014, addendum of
    2026-12-04, fourth session), and a file 158 MB instead of 174. Other databases: the usual type."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class CustomerScore(models.Model):
    """The analytics of one customer as of the last refresh (ANA-1 … ANA-5). Customers without orders have
    a row too (lifecycle and engagement apply to them); their RFM and lifetime fields are empty."""

    # No foreign-key constraint in the database: the refresh rewrites every row at once, and checking a
    # million rows against the customers one by one (and locking each customer row it checks) cost
    # PostgreSQL more than the rest of the write (ADR 0014). The rows are written from the customers read
    # in the same refresh; Django still deletes a customer's score with the customer.
    customer = RowidOneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="score", verbose_name=_("客户"),
        db_constraint=False,
    )  # fmt: skip
    as_of = models.DateField(_("数据截至"))
    orders = models.PositiveIntegerField(_("订单数"), default=0)
    purchases = models.PositiveIntegerField(_("购买次数"), default=0)  # purchase days
    first_purchase_on = models.DateField(_("首次购买"), null=True, blank=True)
    last_purchase_on = models.DateField(_("最近购买"), null=True, blank=True)
    recency_days = models.PositiveIntegerField(_("距上次购买（天）"), null=True, blank=True)
    revenue = models.DecimalField(_("累计收入"), max_digits=16, decimal_places=2, default=Decimal("0"))
    profit = models.DecimalField(_("累计毛利"), max_digits=16, decimal_places=2, null=True, blank=True)
    revenue_12m = models.DecimalField(
        _("近 12 个月收入"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    r_score = models.PositiveSmallIntegerField(_("R 分"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F 分"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M 分"), null=True, blank=True)
    rfm_class = models.CharField(_("RFM 分类"), max_length=20, choices=RFMClassChoice.choices, blank=True)
    expected_purchases = models.FloatField(_("预测期内预计购买次数"), null=True, blank=True)
    p_alive = models.FloatField(_("仍活跃概率"), null=True, blank=True)
    expected_spend = models.DecimalField(
        _("预计每次消费"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    clv = models.DecimalField(_("终身价值（折现）"), max_digits=16, decimal_places=2, null=True, blank=True)
    churn_risk = models.BooleanField(_("流失风险"), default=False)
    churn_since = models.DateField(_("首次预警日"), null=True, blank=True)
    churn_mask = models.PositiveSmallIntegerField(_("预警规则"), default=0)  # churn.ChurnReason bits
    lifecycle_stage = models.CharField(_("生命周期"), max_length=12, choices=LifecycleChoice.choices)
    lifecycle_rule = models.PositiveSmallIntegerField(_("阶段规则"), default=2)  # lifecycle rule 1 … 9
    # The numbers the rules looked at, so that the page can say why (reasons are rendered when shown, in
    # the reader's language, from these and the run's settings — not stored as text a million times).
    median_gap_days = models.FloatField(_("平常购买间隔（天）"), null=True, blank=True)
    purchases_recent = models.PositiveIntegerField(_("近期窗口购买次数"), default=0)
    purchases_previous = models.PositiveIntegerField(_("上一窗口购买次数"), default=0)
    early_mean_amount = models.FloatField(_("早期平均每次消费"), null=True, blank=True)
    late_mean_amount = models.FloatField(_("近期平均每次消费"), null=True, blank=True)
    engagement_recent = models.PositiveIntegerField(_("近期互动次数"), default=0)
    engagement_previous = models.PositiveIntegerField(_("上一窗口互动次数"), default=0)
    interactions_recent = models.PositiveIntegerField(_("生命周期窗口内互动"), default=0)
    interactions_previous = models.PositiveIntegerField(_("生命周期上一窗口互动"), default=0)

    class Meta:
        verbose_name = _("客户分析指标")
        verbose_name_plural = _("客户分析指标")
        # Lists start from the customers a user may see and join their scores by primary key, so no index
        # on a class or stage would be used; each one would cost the nightly rewrite of every row. The
        # one kept serves the company-wide watch list (at risk, most valuable first). Partial, on the
        # customers at risk only: the refresh builds it again every night, and a third of the rows sort
        # in a third of the time (ADR 0014).
        indexes = [models.Index(fields=["clv"], name="score_at_risk_clv", condition=Q(churn_risk=True))]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.rfm_class or '—'}"


# The score columns the lists filter, sort or join on. After each refresh PostgreSQL gathers the planner's
# statistics for these alone: a column no query filters on needs none, and ANALYZE of every column took
# 0.77 s of the nightly write against 0.24 s for these (ADR 0014, "staged"). A filter or sort on another
# column must be named here (a test compares this with the SQL of selectors.scored_customers).
QUERIED_SCORE_COLUMNS = ("customer_id", "rfm_class", "lifecycle_stage", "churn_risk", "churn_since", "clv",
                         "p_alive", "recency_days", "revenue")  # fmt: skip


class PurchaseDays(models.Model):
    """Each customer's purchases merged by day, kept up to date from the orders (ADR 0014, "purchase days").

    Derived data for the refresh: one row per customer who has a purchase, holding every purchase day as a
    packed record (``purchases.RECORD``: the day, its orders, the orders of known cost, the amount, the
    amount and cost of the costed orders — integers, money in cents). A million such rows read in a
    fraction of the time of the ten million orders they sum up. Database triggers on the orders table
    record every change to a customer's purchases (:class:`PurchaseDelta`), and those on the customers
    table every merge (:class:`PurchaseDaysStale`); the refresh brings the rows up to date before it
    reads (``purchases.sync``)."""

    customer_id = models.BigIntegerField(_("客户"), primary_key=True)
    days = models.PositiveIntegerField(_("购买天数"))
    records = models.BinaryField(_("按日汇总的购买"))

    class Meta:
        verbose_name = _("客户按日购买汇总")
        verbose_name_plural = _("客户按日购买汇总")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.days}"


class PurchaseSummary(models.Model):
    """Part of every customer's purchase summary as of a day (ADR 0014, addendum "purchase summaries"):
    derived data for the refresh, kept by ``purchase_summary.update`` in the purchase days' sync. The
    records (``purchase_summary.SUMMARY``: a customer's purchase days summed — orders, amounts, first and
    last day, median gap, purchases in the lifecycle windows — and the day those sums next change on their
    own) are packed, :data:`~.purchase_summary.PART` customers to a row, ``part`` 0, 1, … in customer
    order; the row ``part`` = :data:`~.purchase_summary.PATCH_PART`, when there is one, holds the records
    changed since those were written, as of its own later day. No rows: nothing kept, the next refresh
    sums every purchase day."""

    part = models.PositiveIntegerField(_("分段"), primary_key=True)
    as_of_day = models.IntegerField(_("截至日"))  # days since 1970-01-01
    window_days = models.PositiveIntegerField(_("生命周期窗口（天）"))
    customers = models.PositiveIntegerField(_("客户数"))
    records = models.BinaryField(_("购买概况"))

    class Meta:
        verbose_name = _("客户购买概况")
        verbose_name_plural = _("客户购买概况")

    def __str__(self) -> str:
        return f"{self.part}: {self.customers}"


class PurchaseDaysStale(models.Model):
    """A customer whose :class:`PurchaseDays` row is to be built again from its orders: inserted by the
    customers table's trigger on a merge (migration 0006) and by ``purchases.sync`` itself, removed by it
    once the row is written again. A row without a customer means every row is to be built again (a new
    installation). Until migration 0010 the orders table's triggers inserted them too."""

    id = models.BigAutoField(primary_key=True)
    customer_id = models.BigIntegerField(_("客户"), null=True)

    class Meta:
        verbose_name = _("待更新的购买汇总")
        verbose_name_plural = _("待更新的购买汇总")

    def __str__(self) -> str:
        return f"{self.customer_id if self.customer_id is not None else '*'}"


class PurchaseDelta(models.Model):
    """A change to one customer's purchases on one day, as the orders table's triggers saw it (migration
    0010): an order added counts +1 with its amount and cost, an order removed (deleted, cancelled, moved
    to another customer or day, its amount or cost changed) −1 with its old ones. ``purchases.sync`` adds
    them to the :class:`PurchaseDays` rows and deletes them, so that a day's changes cost their own rows,
    not a new read of the changed customers' every order. Money in cents."""

    id = models.BigAutoField(primary_key=True)
    customer_id = models.BigIntegerField(_("客户"))
    day = models.IntegerField(_("日"))  # days since 1970-01-01
    orders = models.IntegerField(_("订单数"))
    costed = models.IntegerField(_("已知成本的订单数"))
    amount = models.BigIntegerField(_("金额（分）"))
    costed_amount = models.BigIntegerField(_("已知成本订单的金额（分）"))
    cost = models.BigIntegerField(_("成本（分）"))

    class Meta:
        verbose_name = _("购买变动")
        verbose_name_plural = _("购买变动")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day} {self.orders:+d}"


class RelationshipPeriod(models.Model):
    """One calendar month or quarter of the relationship report (ANA-6) computed by the nightly refresh for
    the readers of one ledger (ADR 0019): the day it counts to, the lost-customer gap it used and when.
    Its cells (:class:`RelationshipCell`) hold the figures per order owner and department, so any view
    scope and either grouping is a sum of cells. Replaced whole at each store.

    ``ledger`` names whose orders were read: ``relationship.COMPANY_LEDGER`` for the readers who see every
    order and customer, else the digest of a limited reader's rules (``relationship.ledger_of``) — the
    same for every reader whose rules read the same rows."""

    ledger = models.CharField(_("数据范围"), max_length=64, default="all")
    bucket = models.CharField(_("分组"), max_length=8)  # relationship.BUCKETS: month / quarter
    start = models.DateField(_("期间开始"))  # the calendar start of the month / quarter
    as_of = models.DateField(_("数据截至"))
    lost_days = models.PositiveSmallIntegerField(_("流失间隔（天）"))
    computed_at = models.DateTimeField(_("汇总时间"))

    class Meta:
        verbose_name = _("关系分析汇总期间")
        verbose_name_plural = _("关系分析汇总期间")
        constraints = [
            models.UniqueConstraint(fields=["ledger", "bucket", "start"], name="relationship_period_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bucket} {self.start} ({self.as_of})"


class RelationshipCell(models.Model):
    """The figures of one period for one (order owner, order department) pair — derived data, written
    only by ``relationship.store_periods``. Money in cents (sums of the orders' two-place amounts);
    ``lengths`` the relationship lengths in days of the customers counted here, as little-endian 32-bit
    integers (the report's median needs every one). ``owner_id`` / ``department_id`` carry no foreign
    key: a deleted user's past figures stay as they were, like the orders' own columns."""

    period = models.ForeignKey(
        RelationshipPeriod, on_delete=models.CASCADE, related_name="cells", verbose_name=_("期间")
    )
    owner_id = models.BigIntegerField(_("负责人"), null=True)
    department_id = models.BigIntegerField(_("部门"), null=True)
    revenue_cents = models.BigIntegerField(_("收入（分）"), default=0)
    repeat_revenue_cents = models.BigIntegerField(_("重复购买收入（分）"), default=0)
    cross_sell_cents = models.BigIntegerField(_("交叉销售收入（分）"), default=0)
    up_sell_cents = models.BigIntegerField(_("向上销售收入（分）"), default=0)
    referrals = models.PositiveIntegerField(_("转介绍客户"), default=0)
    gained = models.PositiveIntegerField(_("新客户"), default=0)
    retained = models.PositiveIntegerField(_("老客户保留"), default=0)
    won_back = models.PositiveIntegerField(_("流失挽回"), default=0)
    returning = models.PositiveIntegerField(_("其他回头客"), default=0)
    lengths = models.BinaryField(_("关系长度（天）"))

    class Meta:
        verbose_name = _("关系分析汇总")
        verbose_name_plural = _("关系分析汇总")

    def __str__(self) -> str:
        return f"{self.period_id}: {self.owner_id}/{self.department_id}"
