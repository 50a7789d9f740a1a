"""Pure rules of contracts, orders and payments (SAL-6, SAL-7) — no ORM."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError

from .choices import AgingBucket, OrderStatus

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value: Any, *, field: str, allow_zero: bool = True) -> Decimal:
    """A non-negative amount with two decimals, or a ValidationError naming ``field``."""
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        raise ValidationError(_("金额格式不正确"), field=field) from None
    if amount is None:
        raise ValidationError(_("请填写金额"), field=field)
    if not amount.is_finite() or amount < 0:
        raise ValidationError(_("金额不能为负数"), field=field)
    if amount >= Decimal("1e14"):
        raise ValidationError(_("金额过大"), field=field)
    if amount == 0 and not allow_zero:
        raise ValidationError(_("金额必须大于 0"), field=field)
    return amount.quantize(CENT)


def quantity(value: Any, *, field: str) -> Decimal:
    """A positive quantity with at most two decimals."""
    try:
        q = Decimal(str(value).strip()) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        raise ValidationError(_("数量格式不正确"), field=field) from None
    if q is None or not q.is_finite() or q <= 0:
        raise ValidationError(_("数量必须大于 0"), field=field)
    if q >= Decimal("1e12"):
        raise ValidationError(_("数量过大"), field=field)
    return q.quantize(CENT)


def line_total(unit_price: Decimal, qty: Decimal) -> Decimal:
    return (unit_price * qty).quantize(CENT)


def tax_of(amount: Decimal, rate_percent: Decimal) -> Decimal:
    """The VAT inside a tax-inclusive amount: amount × r / (1 + r)."""
    r = rate_percent / 100
    return (amount * r / (1 + r)).quantize(CENT)


def aging_bucket(due_on: date, today: date) -> str:
    """未到期 until the due date (inclusive), then 1–30 / 31–60 / 61–90 / 90+ days overdue (SAL-7)."""
    days = (today - due_on).days
    if days <= 0:
        return AgingBucket.CURRENT
    if days <= 30:
        return AgingBucket.D1_30
    if days <= 60:
        return AgingBucket.D31_60
    if days <= 90:
        return AgingBucket.D61_90
    return AgingBucket.D90_PLUS


def plan_fits(contract_amount: Decimal, instalment_amounts: Iterable[Decimal]) -> bool:
    """A payment plan never asks for more than the contract is worth."""
    return sum(instalment_amounts, ZERO) <= contract_amount


def check_matches(
    *, payment_amount: Decimal, matches: Mapping[int, Decimal], room: Mapping[int, Decimal]
) -> None:
    """A payment's matches: each positive, each within what its instalment still has room for (its
    amount less what other live payments already claim), all together within the payment."""
    total = ZERO
    for instalment_id, amount in matches.items():
        if amount <= 0:
            raise ValidationError(_("核销金额必须大于 0"), field="matches")
        if instalment_id not in room:
            raise ValidationError(_("所选回款计划不属于该合同"), field="matches")
        if amount > room[instalment_id]:
            raise ValidationError(
                _("核销金额 %(amount)s 超过该期剩余应收 %(room)s"), field="matches", code="over_matched",
                params={"amount": amount, "room": room[instalment_id]},
            )  # fmt: skip
        total += amount
    if total > payment_amount:
        raise ValidationError(
            _("核销合计 %(total)s 超过回款金额 %(amount)s"), field="matches", code="over_matched",
            params={"total": total, "amount": payment_amount},
        )  # fmt: skip


def order_status_after_shipping(
    status: str, lines: Iterable[tuple[Decimal, Decimal]], all_delivered: bool
) -> str:
    """An order's progress from its lines' (quantity, shipped) and whether every shipment is signed for:
    nothing shipped keeps 已确认/生产中; some → 部分发货; all → 已发货, and 已签收 once all are signed for."""
    rows = list(lines)
    shipped_any = any(s > 0 for _q, s in rows)
    shipped_all = bool(rows) and all(s >= q for q, s in rows)
    if shipped_all:
        return OrderStatus.DELIVERED if all_delivered else OrderStatus.SHIPPED
    if shipped_any:
        return OrderStatus.PARTLY_SHIPPED
    return status if status in (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION) else OrderStatus.CONFIRMED


def normalize_tax_number(value: str, *, field: str = "tax_number") -> str:
    """纳税人识别号: today the 18-character unified social credit code, checked with python-stdnum
    (GB 32100 check character); older registrations still carry 15 or 20 characters (digits and
    capital letters), accepted as they are. Empty stays empty (an individual's ordinary invoice)."""
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError as StdnumError

    code = "".join((value or "").split()).upper()
    if not code:
        return ""
    if len(code) == 18:
        try:
            return str(uscc.validate(code))
        except StdnumError:
            raise ValidationError(_("税号（统一社会信用代码）无效，请检查校验位"), field=field) from None
    if len(code) in (15, 20) and code.isascii() and code.isalnum():
        return code
    raise ValidationError(_("税号应为 18 位统一社会信用代码（旧税号为 15 或 20 位）"), field=field)
