"""Pure rules of quotations (SAL-5): amounts, discounts, margins, 大写 and what makes a title meaningful.

No ORM here: the services hand in plain values, the tests check the rules on their own."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError

from .choices import COST_COMPONENTS

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
MAX_AMOUNT = Decimal("99999999999999.99")
# Words that say only "this is a quote": a title made of them alone (and numbers, dates, punctuation)
# tells the customer nothing (SAL-5: "a meaningful title, not just 报价单").
GENERIC_TITLE_WORDS = ("报价单", "报价表", "报价书", "报价函", "价格表", "价目表", "报价", "询价单", "单",
                       "quotation", "quote", "offer", "pricelist", "price list", "proforma", "invoice",
                       "new", "新建", "草稿", "draft", "v", "no", "第", "版", "号")  # fmt: skip


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal_of(value: Any, *, field: str, places: int = 2, minimum: Decimal = Decimal("0"),
               maximum: Decimal = MAX_AMOUNT) -> Decimal:  # fmt: skip
    """A user's number as a Decimal with at most ``places`` decimals, within bounds; else the error
    names ``field``."""
    try:
        number = Decimal(str(value).replace(",", "").strip()) if value not in (None, "") else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(_("请填写有效的数字"), field=field)
    if number < minimum:
        raise ValidationError(_("不能小于 %(n)s"), field=field, params={"n": minimum})
    if number > maximum:
        raise ValidationError(_("不能大于 %(n)s"), field=field, params={"n": maximum})
    quantum = Decimal(1).scaleb(-places)
    if number != number.quantize(quantum):
        raise ValidationError(_("最多 %(n)s 位小数"), field=field, params={"n": places})
    return number.quantize(quantum)


def check_title(title: str) -> str:
    """The title stripped; refused when empty or when it says nothing but "报价单" (with numbers, dates,
    the word quotation, punctuation): a quote is titled by what it offers, e.g. "二期产线伺服电机报价"."""
    text = " ".join((title or "").split())
    if not text:
        raise ValidationError(_("请填写报价标题"), field="title")
    if len(text) > 120:
        raise ValidationError(_("报价标题最多 120 个字"), field="title")
    rest = unicodedata.normalize("NFKC", text).lower()
    for word in sorted(GENERIC_TITLE_WORDS, key=len, reverse=True):
        rest = rest.replace(word, "")
    rest = re.sub(r"[\W\d_]+", "", rest)  # numbers, dates, punctuation and spaces
    if not rest:
        raise ValidationError(
            _("报价标题要说明报价内容（如“二期产线伺服电机报价”），不能只写“报价单”"), field="title"
        )
    return text


def line_amount(*, unit_price: Decimal, quantity: Decimal, discount: Decimal) -> Decimal:
    """Price × quantity less the line's discount percentage, to the cent (rounded half up)."""
    return cents(unit_price * quantity * (HUNDRED - discount) / HUNDRED)


def unit_cost_of(components: dict[str, Decimal], fallback: Decimal) -> Decimal:
    """The unit cost: the sum of the cost components when any are given, else the catalogue cost."""
    if components:
        return cents(sum(components.values(), Decimal("0")))
    return cents(fallback)


def margin_of(*, amount: Decimal, cost: Decimal) -> Decimal | None:
    """Gross margin as a fraction of the amount ((amount − cost) / amount), 4 places; None when the
    amount is zero (a free line has no margin to speak of)."""
    if not amount:
        return None
    return ((amount - cost) / amount).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def effective_discount(*, list_price: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """How far below the list price the line really sells, in percent: the line's own discount and a
    unit price set below the list price both count (so lowering the price is no way around approval)."""
    if list_price <= 0:
        return discount
    net = unit_price * (HUNDRED - discount) / HUNDRED
    off = (HUNDRED - net * HUNDRED / list_price).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(off, discount, Decimal("0"))


def clean_components(raw: Any) -> dict[str, Decimal]:
    """Cost components as {name: amount}; names from :data:`COST_COMPONENTS`, amounts ≥ 0."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValidationError(_("成本构成格式不正确"), field="cost_components")
    out: dict[str, Decimal] = {}
    for key, value in raw.items():
        if key not in COST_COMPONENTS:
            raise ValidationError(
                _("未知的成本项目“%(k)s”（可选：%(all)s）"), field="cost_components",
                params={"k": key, "all": ", ".join(COST_COMPONENTS)},
            )  # fmt: skip
        if value in (None, ""):
            continue
        out[key] = decimal_of(value, field="cost_components")
    return out


@dataclass(frozen=True)
class LineFigures:
    list_price: Decimal
    unit_price: Decimal
    quantity: Decimal
    discount: Decimal
    unit_cost: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # unit price × quantity, before discounts
    discount_amount: Decimal
    total: Decimal
    cost_total: Decimal
    margin: Decimal | None
    max_discount: Decimal


def quote_totals(lines: Iterable[LineFigures]) -> Totals:
    """The quote's totals from its lines: subtotal before discounts, the discounts, the total (sum of
    line amounts), cost, margin, and the deepest effective discount (for the approval rule)."""
    subtotal = total = cost = Decimal("0")
    deepest = Decimal("0")
    for line in lines:
        subtotal += cents(line.unit_price * line.quantity)
        total += line_amount(unit_price=line.unit_price, quantity=line.quantity, discount=line.discount)
        cost += cents(line.unit_cost * line.quantity)
        deepest = max(
            deepest,
            effective_discount(
                list_price=line.list_price, unit_price=line.unit_price, discount=line.discount
            ),
        )
    return Totals(
        subtotal=subtotal,
        discount_amount=subtotal - total,
        total=total,
        cost_total=cost,
        margin=margin_of(amount=total, cost=cost),
        max_discount=min(deepest, Decimal("100")),
    )


def discount_needs_approval(*, max_discount: Decimal, threshold: Decimal) -> bool:
    """A quote needs approval when any line sells more than ``threshold`` percent below list price."""
    return max_discount > threshold


def amount_in_words(amount: Decimal) -> str:
    """An RMB amount in 大写 as on Chinese invoices and contracts: 12000 → 人民币壹万贰仟元整,
    12345.67 → 人民币壹万贰仟叁佰肆拾伍元陆角柒分, 0 → 人民币零元整."""
    import cn2an

    value = cents(amount)
    if value < 0:
        return "负" + amount_in_words(-value)
    if value == 0:
        return "人民币零元整"
    words = cn2an.an2cn(format(value, "f"), "rmb")
    return f"人民币{words}"
