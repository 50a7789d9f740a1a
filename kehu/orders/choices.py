"""Vocabularies and state tables of contracts, orders, invoices and payments (SAL-6, SAL-7)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_FORCE = "in_force", _("执行中")
    COMPLETED = "completed", _("已完成")
    TERMINATED = "terminated", _("已终止")


# verb -> (statuses it starts from, status it ends in). One service per verb (house style 2).
CONTRACT_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "put_in_force": ((ContractStatus.DRAFT,), ContractStatus.IN_FORCE),
    "complete": ((ContractStatus.IN_FORCE,), ContractStatus.COMPLETED),
    "terminate": ((ContractStatus.DRAFT, ContractStatus.IN_FORCE), ContractStatus.TERMINATED),
}

# Contracts whose instalments are money owed to us (receivables, SAL-7).
RECEIVABLE_CONTRACT_STATUSES = (ContractStatus.IN_FORCE, ContractStatus.COMPLETED)


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("已确认")
    IN_PRODUCTION = "in_production", _("生产中")
    PARTLY_SHIPPED = "partly_shipped", _("部分发货")
    SHIPPED = "shipped", _("已发货")
    DELIVERED = "delivered", _("已签收")
    CANCELLED = "cancelled", _("已取消")


# Explicit transitions a user asks for; 部分发货 / 已发货 / 已签收 follow from shipments.
ORDER_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start_production": ((OrderStatus.CONFIRMED,), OrderStatus.IN_PRODUCTION),
    "cancel": ((OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION), OrderStatus.CANCELLED),
}
# Orders still to be shipped (in whole or in part): the ones that can be late (售中服务).
UNSHIPPED_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTLY_SHIPPED)
SHIPPABLE_ORDER_STATUSES = UNSHIPPED_ORDER_STATUSES


class InvoiceType(models.TextChoices):
    SPECIAL = "special", _("增值税专用发票")
    ORDINARY = "ordinary", _("增值税普通发票")


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("银行转账")
    ACCEPTANCE = "acceptance", _("承兑汇票")
    CHEQUE = "cheque", _("支票")
    CASH = "cash", _("现金")
    ONLINE = "online", _("在线支付")
    OTHER = "other", _("其他")


class DocumentKind(models.TextChoices):
    """What a stored file proves; the 单据 tab of the customer finds all of them in one place (SAL-7)."""

    CONTRACT = "contract", _("合同附件")
    SHIPMENT = "shipment", _("签收单")
    INVOICE = "invoice", _("发票")
    PAYMENT = "payment", _("回款凭证")


class AgingBucket(models.TextChoices):
    CURRENT = "current", _("未到期")
    D1_30 = "d1_30", _("逾期 1–30 天")
    D31_60 = "d31_60", _("逾期 31–60 天")
    D61_90 = "d61_90", _("逾期 61–90 天")
    D90_PLUS = "d90_plus", _("逾期 90 天以上")


class AgingGroup(models.TextChoices):
    CUSTOMER = "customer", _("按客户")
    OWNER = "owner", _("按负责人")
    DEPARTMENT = "department", _("按部门")
