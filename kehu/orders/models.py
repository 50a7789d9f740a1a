"""Contracts, orders, shipments, invoices, payment plans and payments (SAL-6, SAL-7).

Rows that later lists and the receivables aging must find fast carry copies of their contract's
customer, owner and department (``owner`` never changes after creation in this release), so every
list filters one table through one index: ``visible_to`` is ``owner_scope_q`` on the row's own owner.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department
from kehu.access.perms import Perm
from kehu.access.scope import can, owner_scope_q
from kehu.approvals.choices import ApprovalStatus
from kehu.catalog.models import Product
from kehu.core.models import VersionedModel
from kehu.customers.models import Customer
from kehu.engagement.models import attachment_storage
from kehu.sales.models import Opportunity

from .choices import (
    UNSHIPPED_ORDER_STATUSES,
    ContractStatus,
    DocumentKind,
    InvoiceType,
    OrderStatus,
    PaymentMethod,
)

ZERO = Decimal("0")


def _money(label: object, **kwargs: object) -> models.DecimalField:
    return models.DecimalField(label, max_digits=16, decimal_places=2, default=ZERO, **kwargs)  # type: ignore[arg-type]


class OwnedQuerySet(models.QuerySet):
    """Rows whose owner is in the actor's data scope (SEC-1), for those holding ``view_perm``."""

    view_perm: Perm = Perm.CONTRACT_VIEW

    def visible_to(self, actor) -> OwnedQuerySet:  # type: ignore[no-untyped-def]
        if not getattr(actor, "is_authenticated", False) or not can(actor, self.view_perm):
            return self.none()
        return self.filter(owner_scope_q(actor))


class ContractQuerySet(OwnedQuerySet):
    view_perm = Perm.CONTRACT_VIEW


class OrderQuerySet(OwnedQuerySet):
    view_perm = Perm.ORDER_VIEW


class Contract(VersionedModel):
    """A contract with a customer (SAL-6): both parties and their signatories, amount, dates, payment
    terms and the rights and obligations of each side. Draft → (approved) in force → completed, or
    terminated. Only an approved contract can be put in force; an approved or pending one is locked."""

    number = models.CharField(_("合同编号"), max_length=30, unique=True)
    title = models.CharField(_("合同名称"), max_length=200)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("客户"), db_index=False
    )
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts",
        verbose_name=_("商机"),
    )  # fmt: skip
    # The accepted quote (报价单) the contract was drawn up from (SAL-6); its revision is kept as it was.
    quote = models.ForeignKey(
        "sales.Quote", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts",
        verbose_name=_("来源报价单"),
    )  # fmt: skip
    our_party = models.CharField(_("我方"), max_length=200)
    their_party = models.CharField(_("对方"), max_length=200)
    our_signatory = models.CharField(_("我方签约人"), max_length=60, blank=True)
    their_signatory = models.CharField(_("对方签约人"), max_length=60, blank=True)
    amount = _money(_("合同金额"))
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    signed_on = models.DateField(_("签订日期"), null=True, blank=True)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    payment_terms = models.TextField(_("付款条件"), blank=True)
    terms = models.TextField(_("双方权利与义务"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    approval_status = models.CharField(
        _("审批状态"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.DRAFT
    )
    end_reason = models.TextField(_("终止原因"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("负责人"),
        db_index=False,
    )  # fmt: skip
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("部门")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "created_at"], name="contract_owner"),
            models.Index(fields=["customer", "created_at"], name="contract_customer"),
        ]
        verbose_name = _("合同")
        verbose_name_plural = _("合同")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_locked(self) -> bool:
        from kehu.approvals.choices import LOCKED

        return self.approval_status in LOCKED


class Order(VersionedModel):
    """An order in the customer's business ledger (业务明细, SAL-6): order date, promised ship date,
    lines (product name, model, unit price, quantity, total, notes) and the total. Its progress is
    tracked through production and shipping to delivery (售中服务)."""

    number = models.CharField(_("订单编号"), max_length=30, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("客户"), db_index=False
    )
    contract = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("合同"),
    )
    order_date = models.DateField(_("下单日期"))
    promised_ship_on = models.DateField(_("承诺发货日期"), null=True, blank=True)
    status = models.CharField(
        _("进度"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    total_amount = _money(_("订单金额"))
    # Σ line cost when every line's cost is known (copied from the catalogue at ordering), else empty:
    # profit per customer (ANA-1) counts only orders whose cost is known.
    cost_amount = models.DecimalField(_("订单成本"), max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    notes = models.TextField(_("备注"), blank=True)
    cancel_reason = models.TextField(_("取消原因"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("负责人"),
        db_index=False,
    )  # fmt: skip
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("部门")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["owner", "order_date"], name="order_owner_date"),
            # The customer's ledger and the CUS-2 figures (first/last order, revenue of 12 months).
            models.Index(fields=["customer", "order_date"], name="order_customer_date"),
            # Late orders (售中服务): still to ship, by promised date.
            models.Index(
                fields=["promised_ship_on", "owner"],
                name="order_unshipped",
                condition=Q(status__in=[s.value for s in UNSHIPPED_ORDER_STATUSES]),
            ),
        ]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")

    def __str__(self) -> str:
        return self.number

    @property
    def gross_margin(self) -> Decimal | None:
        """毛利 = amount − cost, when the cost of every line is known."""
        return None if self.cost_amount is None else self.total_amount - self.cost_amount

    @property
    def is_late(self) -> bool:
        from django.utils import timezone

        return (
            self.status in UNSHIPPED_ORDER_STATUSES
            and self.promised_ship_on is not None
            and self.promised_ship_on < timezone.localdate()
        )


class OrderLine(models.Model):
    """One line of an order: the catalogue product (its name and model copied, so a later catalogue
    change never rewrites the ledger), unit price, quantity, total, notes."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("行号"))
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("产品")
    )
    product_name = models.CharField(_("产品名称"), max_length=120)
    model = models.CharField(_("型号"), max_length=80, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    unit_price = _money(_("单价"))
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=2)
    total = _money(_("金额"))
    unit_cost = models.DecimalField(_("单位成本"), max_digits=16, decimal_places=2, null=True, blank=True)
    shipped_quantity = models.DecimalField(_("已发数量"), max_digits=14, decimal_places=2, default=ZERO)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["order_id", "position"]
        constraints = [models.UniqueConstraint(fields=["order", "position"], name="order_line_position")]
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")

    def __str__(self) -> str:
        return f"{self.product_name} × {self.quantity}"

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.shipped_quantity


class Shipment(models.Model):
    """A delivery of (part of) an order: what was shipped per line, carrier, tracking number, when it
    left and when the customer signed for it (签收单 kept as proof, SAL-7)."""

    number = models.CharField(_("发货单号"), max_length=30, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("订单")
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    carrier = models.CharField(_("承运商"), max_length=60, blank=True)
    tracking_number = models.CharField(_("运单号"), max_length=60, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"))
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-shipped_at", "-id"]
        indexes = [models.Index(fields=["customer", "shipped_at"], name="shipment_customer")]
        verbose_name = _("发货单")
        verbose_name_plural = _("发货单")

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.DecimalField(_("发货数量"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("发货明细")
        verbose_name_plural = _("发货明细")

    def __str__(self) -> str:
        return f"{self.order_line_id} × {self.quantity}"


class Invoice(VersionedModel):
    """An invoice issued to the customer for a contract or an order (SAL-7): 发票抬头, 税号, type
    (增值税专用 / 普通), amount, tax rate, number, issue date, the scanned file; approved before issue."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    contract = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("合同"),
    )
    order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("订单"),
    )
    title = models.CharField(_("发票抬头"), max_length=200)
    tax_number = models.CharField(_("税号"), max_length=20, blank=True)
    kind = models.CharField(
        _("发票类型"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.SPECIAL
    )
    amount = _money(_("开票金额"))
    tax_rate = models.DecimalField(_("税率（%）"), max_digits=5, decimal_places=2, default=Decimal("13"))
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    number = models.CharField(_("发票号码"), max_length=30, blank=True)
    issued_on = models.DateField(_("开票日期"), null=True, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    approval_status = models.CharField(
        _("审批状态"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # 作废: an issued invoice taken back (wrong title, tax number or amount; the deal fell through). It
    # stays on file with the reason, no longer counts towards what was invoiced, and cannot change again.
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(_("作废原因"), max_length=200, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "created_at"], name="invoice_owner"),
            models.Index(fields=["customer", "created_at"], name="invoice_customer"),
        ]
        verbose_name = _("发票")
        verbose_name_plural = _("发票")

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def is_locked(self) -> bool:
        from kehu.approvals.choices import LOCKED

        return self.approval_status in LOCKED or self.voided_at is not None

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @property
    def tax_amount(self) -> Decimal:
        """The tax inside the (tax-inclusive) amount."""
        from .rules import tax_of

        return tax_of(self.amount, self.tax_rate)


class Instalment(VersionedModel):
    """One instalment of a contract's payment plan (回款计划, SAL-7): due date, amount, how many days
    before it the owner is reminded. ``received`` is what approved payments matched to it;
    ``outstanding`` is ``amount − received``. ``receivable`` says the contract is in force or
    completed: only then is the money owed, and only then does it count in the aging."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="instalments")
    seq = models.PositiveSmallIntegerField(_("期次"))
    due_on = models.DateField(_("应收日期"))
    amount = _money(_("应收金额"))
    remind_days = models.PositiveSmallIntegerField(_("提前提醒天数"), default=7)
    notes = models.CharField(_("说明"), max_length=200, blank=True)
    received = _money(_("已收金额"))
    outstanding = _money(_("未收金额"))
    receivable = models.BooleanField(_("计入应收"), default=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["contract_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["contract", "seq"], name="instalment_seq")]
        indexes = [
            # The receivables aging (SAL-7): open receivables of a set of owners, bucketed by due date.
            # Every column the aging reads is a key column — not INCLUDE, which SQLite ignores, and with
            # ``receivable`` repeated from the condition, as SQLite covers a query only with every column
            # it names — so both databases answer from the index alone.
            models.Index(
                fields=["owner", "due_on", "outstanding", "customer", "department", "receivable"],
                name="instalment_open_aging",
                condition=Q(receivable=True, outstanding__gt=0),
            ),
            # The daily reminder job: open receivables by due date, whoever owns them.
            models.Index(
                fields=["due_on"], name="instalment_open_due", condition=Q(receivable=True, outstanding__gt=0)
            ),
            models.Index(fields=["customer", "due_on"], name="instalment_customer"),
        ]
        verbose_name = _("回款计划")
        verbose_name_plural = _("回款计划")

    def __str__(self) -> str:
        return f"{self.contract_id}#{self.seq} {self.due_on} {self.amount}"


class PaymentRecord(VersionedModel):
    """Money received from the customer (回款记录, SAL-7): date, amount, method, payer, proof; matched
    to one or more instalments of its contract (partly allowed, over-matching refused). Only an
    approved payment counts as received."""

    number = models.CharField(_("回款编号"), max_length=30, unique=True)
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="payments", verbose_name=_("合同")
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    received_on = models.DateField(_("回款日期"))
    amount = _money(_("回款金额"))
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    method = models.CharField(
        _("付款方式"), max_length=12, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    payer = models.CharField(_("付款方"), max_length=200, blank=True)
    reference = models.CharField(_("银行流水号"), max_length=60, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    approval_status = models.CharField(
        _("审批状态"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["owner", "received_on"], name="payment_owner"),
            models.Index(fields=["customer", "received_on"], name="payment_customer"),
        ]
        verbose_name = _("回款记录")
        verbose_name_plural = _("回款记录")

    def __str__(self) -> str:
        return self.number

    @property
    def is_locked(self) -> bool:
        from kehu.approvals.choices import LOCKED

        return self.approval_status in LOCKED

    @property
    def matched(self) -> Decimal:
        return sum((m.amount for m in self.matches.all()), ZERO)


class PaymentMatch(models.Model):
    """How much of a payment goes to one instalment."""

    payment = models.ForeignKey(PaymentRecord, on_delete=models.CASCADE, related_name="matches")
    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, related_name="matches")
    amount = _money(_("核销金额"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["payment", "instalment"], name="payment_match_once")]
        verbose_name = _("回款核销")
        verbose_name_plural = _("回款核销")

    def __str__(self) -> str:
        return f"{self.payment_id}→{self.instalment_id} {self.amount}"


class OrderDocument(models.Model):
    """A file proving something of the customer's business (SAL-7): a contract attachment, a signed
    delivery note (签收单), an invoice scan, a payment proof. One table, so the customer's 单据 tab
    finds any of them by number or date in one indexed query. Stored outside the web root; served
    only through a view that checks the document is visible to the one asking."""

    kind = models.CharField(_("单据类型"), max_length=10, choices=DocumentKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    payment = models.ForeignKey(
        PaymentRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    number = models.CharField(_("单据编号"), max_length=60, blank=True)
    on = models.DateField(_("单据日期"))
    file = models.FileField(_("文件"), storage=attachment_storage, upload_to="orders/%Y/%m/", max_length=200)
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("类型"), max_length=120)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["customer", "on"], name="order_document_customer")]
        verbose_name = _("单据")
        verbose_name_plural = _("单据")

    def __str__(self) -> str:
        return self.name
