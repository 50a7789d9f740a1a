"""Quotations (SAL-5): the letterhead printed on them, quotes (one row per revision) and their lines."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.access.perms import Perm
from kehu.access.scope import can, owner_scope_q
from kehu.approvals.choices import ApprovalStatus
from kehu.catalog.models import Product
from kehu.core.models import VersionedModel
from kehu.customers.models import Contact, Customer

from .choices import QuoteStatus

LETTERHEAD_PK = 1


class Letterhead(VersionedModel):
    """Our own company as quotes show it (SAL-5: "our logo and contact details"), stored once (row 1),
    with the default terms of a new quote and the discount beyond which a quote needs approval."""

    company_name = models.CharField(_("公司名称"), max_length=120, blank=True)
    company_name_en = models.CharField(_("英文名称"), max_length=160, blank=True)
    logo = models.ImageField(_("公司标志"), upload_to="letterhead/", blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=60, blank=True)
    email = models.CharField(_("电子邮箱"), max_length=120, blank=True)
    website = models.CharField(_("网址"), max_length=120, blank=True)
    tax_number = models.CharField(_("纳税人识别号"), max_length=30, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=120, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=40, blank=True)
    default_terms = models.TextField(_("默认报价条款"), blank=True)
    default_valid_days = models.PositiveSmallIntegerField(_("默认有效天数"), default=30)
    # A line discounted by more than this many percent off the list price needs approval before the
    # quote may be sent (SAL-5, issue 4 "discounts beyond a threshold need approval").
    discount_threshold = models.DecimalField(
        _("需审批的折扣阈值（%）"), max_digits=5, decimal_places=2, default=Decimal("10.00")
    )

    class Meta:
        verbose_name = _("报价抬头")
        verbose_name_plural = _("报价抬头")

    def __str__(self) -> str:
        return self.company_name or str(_("报价抬头"))


class QuoteQuerySet(models.QuerySet):
    def visible_to(self, actor) -> QuoteQuerySet:
        """The only row filter for quotes (SEC-1): the quote's owner is in the actor's data scope."""
        if not can(actor, Perm.QUOTE_VIEW):
            return self.none()
        return self.filter(owner_scope_q(actor))


class Quote(VersionedModel):
    """A quotation (报价单, SAL-5), one row per revision: revising copies the current revision into
    ``revision + 1`` (``previous`` points back) and only the newest revision (``is_current``) may change.
    Each revision keeps what the quote history needs to judge a later quote: the lines with their cost
    components and margins, the exchange rate, and the competitor and annual-volume notes of the time.

    ``version`` (from ``VersionedModel``) is the optimistic lock of the row, not the revision."""

    number = models.CharField(_("报价单号"), max_length=20)
    revision = models.PositiveSmallIntegerField(_("版本号"), default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_revision",
        verbose_name=_("上一版本"),
    )  # fmt: skip
    is_current = models.BooleanField(_("最新版本"), default=True)
    title = models.CharField(_("报价标题"), max_length=120)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("客户")
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity", null=True, blank=True, on_delete=models.PROTECT, related_name="quotes",
        verbose_name=_("商机"),
    )  # fmt: skip
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("联系人")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("负责人")
    )
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    # CNY per one unit of ``currency`` (1 for CNY), kept with the revision for the history.
    exchange_rate = models.DecimalField(
        _("汇率（兑人民币）"), max_digits=12, decimal_places=6, default=Decimal("1")
    )
    quoted_on = models.DateField(_("报价日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    terms = models.TextField(_("报价条款"), blank=True)
    notes = models.TextField(_("备注"), blank=True)
    competitor_notes = models.TextField(_("竞争对手情况"), blank=True)
    annual_volume_notes = models.TextField(_("年用量说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    approval_status = models.CharField(
        _("审批状态"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.DRAFT
    )
    # Totals of the lines, kept in step by every line change (lists and the history read them).
    subtotal = models.DecimalField(_("原价合计"), max_digits=16, decimal_places=2, default=Decimal("0"))
    discount_amount = models.DecimalField(
        _("折扣金额"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    total = models.DecimalField(_("报价总额"), max_digits=16, decimal_places=2, default=Decimal("0"))
    cost_total = models.DecimalField(_("成本合计"), max_digits=16, decimal_places=2, default=Decimal("0"))
    margin = models.DecimalField(_("毛利率"), max_digits=7, decimal_places=4, null=True, blank=True)
    max_discount = models.DecimalField(
        _("最大折扣（%）"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("客户答复时间"), null=True, blank=True)
    decision_note = models.TextField(_("客户答复说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("报价单")
        verbose_name_plural = _("报价单")
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision_unique"),
        ]
        indexes = [
            models.Index(fields=["owner", "quoted_on"], name="quote_owner_date"),
            models.Index(fields=["customer", "quoted_on"], name="quote_customer_date"),
            models.Index(fields=["opportunity"], name="quote_opportunity"),
            models.Index(fields=["status", "quoted_on"], name="quote_status_date"),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.title}"

    @property
    def label(self) -> str:
        """The number with its revision, as printed: BJ00000012-V2."""
        return f"{self.number}-V{self.revision}"

    @property
    def total_cny(self) -> Decimal:
        return (self.total * self.exchange_rate).quantize(Decimal("0.01"))

    @property
    def locked(self) -> bool:
        from kehu.approvals.choices import LOCKED

        return self.approval_status in LOCKED


class QuoteLine(models.Model):
    """One line of a quote: the product and what was copied from it when the line was added (name,
    model, specification, packaging, features, unit, picture) — a later catalogue change never rewrites
    a quote — the price, quantity and discount, and the cost of the time with its components."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("报价单"))
    position = models.PositiveSmallIntegerField(_("序号"))
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quote_lines",
        verbose_name=_("产品"),
    )
    name = models.CharField(_("产品名称"), max_length=120)
    model = models.CharField(_("型号"), max_length=80, blank=True)
    specification = models.CharField(_("规格"), max_length=200, blank=True)
    packaging = models.CharField(_("包装"), max_length=200, blank=True)
    features = models.TextField(_("产品特点"), blank=True)
    unit = models.CharField(_("单位"), max_length=20, default="件")
    picture = models.CharField(_("图片"), max_length=200, blank=True)  # the product picture's stored name
    list_price = models.DecimalField(_("标准单价"), max_digits=14, decimal_places=2, default=Decimal("0"))
    unit_price = models.DecimalField(_("单价"), max_digits=14, decimal_places=2)
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3)
    discount = models.DecimalField(_("折扣（%）"), max_digits=5, decimal_places=2, default=Decimal("0"))
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2)
    unit_cost = models.DecimalField(_("单位成本"), max_digits=14, decimal_places=2, default=Decimal("0"))
    # {"material": "12.50", "freight": "1.20", …} — Decimal strings; their sum is ``unit_cost``.
    cost_components = models.JSONField(_("成本构成"), default=dict, blank=True)
    margin = models.DecimalField(_("毛利率"), max_digits=7, decimal_places=4, null=True, blank=True)

    class Meta:
        verbose_name = _("报价明细")
        verbose_name_plural = _("报价明细")
        ordering = ["quote_id", "position", "id"]
        indexes = [models.Index(fields=["product", "quote"], name="quoteline_product")]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"

    @property
    def net_price(self) -> Decimal:
        """The unit price after the line's discount."""
        return (self.unit_price * (100 - self.discount) / 100).quantize(Decimal("0.01"))
