"""Pure rules of the product catalogue (SAL-9): search keys and the checks of a product's fields."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError
from kehu.core.pinyin import search_keys

from .choices import RiskLevel, UnitKind

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,29}$")
MAX_PRICE = Decimal("999999999999.99")
# The text fields a product form, the API and an import may set, with their maximum lengths.
TEXT_FIELDS = {
    "name": 120,
    "model": 80,
    "specification": 200,
    "category": 60,
    "unit": 20,
    "packaging": 200,
    "features": 4000,
}


def product_search_text(*, name: str, code: str, model: str = "") -> str:
    """What the catalogue search reads by substring (SAL-9, as CUS-6 for customers): the name, its
    pinyin and initials (``hw`` finds 华为), the code and the model, all lowercase."""
    parts = [name.lower(), search_keys(name), code.lower(), model.lower()]
    return " ".join(p for p in parts if p)[:1000]


def money(value: Any, *, field: str) -> Decimal:
    """A price or cost: a non-negative amount with at most two decimals."""
    try:
        amount = Decimal(str(value if value not in (None, "") else "0").replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError(_("金额格式不正确"), field=field) from None
    if not amount.is_finite():
        raise ValidationError(_("金额格式不正确"), field=field)
    if amount < 0:
        raise ValidationError(_("金额不能为负数"), field=field)
    if amount > MAX_PRICE:
        raise ValidationError(_("金额过大"), field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_("金额最多两位小数"), field=field)
    return amount.quantize(Decimal("0.01"))


def clean_product(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The product fields of ``data`` checked and normalised; the first bad one raises naming it.

    A new product needs a code and a name; the code is letters, digits and ``. _ - /`` (it is printed
    on quotes and typed into imports), its case kept."""
    out: dict[str, Any] = {}
    if "code" in data or creating:
        code = str(data.get("code") or "").strip()
        if not code:
            raise ValidationError(_("请填写产品编号"), field="code")
        if not CODE_RE.match(code):
            raise ValidationError(_("产品编号只能包含字母、数字和 . _ - /，最长 30 位"), field="code")
        out["code"] = code
    for key, limit in TEXT_FIELDS.items():
        if key not in data and not (creating and key == "name"):
            continue
        text = str(data.get(key) or "").strip()
        if key == "name" and not text:
            raise ValidationError(_("请填写产品名称"), field="name")
        if key == "unit" and not text:
            raise ValidationError(_("请填写单位"), field="unit")
        if len(text) > limit:
            raise ValidationError(_("内容过长（最多 %(n)s 个字）"), field=key, params={"n": limit})
        out[key] = text
    for key in ("price", "cost"):
        if key in data:
            out[key] = money(data[key], field=key)
    if "currency" in data:
        currency = str(data.get("currency") or "CNY").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValidationError(_("币种应为三位字母代码，如 CNY、USD"), field="currency")
        out["currency"] = currency
    if "unit_kind" in data:
        kind = data.get("unit_kind") or UnitKind.PIECE
        if kind not in UnitKind.values:
            raise ValidationError(_("计量方式“%(v)s”无效"), field="unit_kind", params={"v": kind})
        out["unit_kind"] = kind
    if "risk_level" in data:
        level = (data.get("risk_level") or "").strip().upper()
        if level and level not in RiskLevel.values:
            raise ValidationError(_("风险等级应为 R1–R5 或留空"), field="risk_level")
        out["risk_level"] = level
    if "electronic_delivery" in data:
        out["electronic_delivery"] = bool(data["electronic_delivery"])
    if "sample_limit" in data:
        try:
            limit_value = int(data.get("sample_limit") or 0)
        except (TypeError, ValueError):
            raise ValidationError(_("样品上限必须是整数"), field="sample_limit") from None
        if not 0 <= limit_value <= 100000:
            raise ValidationError(_("样品上限必须在 0 到 100000 之间"), field="sample_limit")
        out["sample_limit"] = limit_value
    unknown = sorted(set(data) - set(out) - {"code", *TEXT_FIELDS})
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    return out
