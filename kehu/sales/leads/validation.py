"""Input cleaning for leads, shared by the page, the API, the capture form, e-mail and imports.

Malformed mobile or phone numbers are kept as typed, not refused: they are a fraud signal the risk
check scores and shows (SAL-2), and the inquiry itself must not be lost. Everything else that is
wrong names its field and writes nothing.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from kehu.catalog.models import Product
from kehu.core.errors import ValidationError
from kehu.core.identity import normalize_mobile
from kehu.customers.choices import OptionKind
from kehu.customers.models import Option

from .choices import Delivery

LEAD_FIELDS = {
    "source", "company_name", "contact_name", "mobile", "phone", "email", "wechat", "website", "province",
    "city", "content", "delivery", "samples_requested", "lines",
}  # fmt: skip
_MAX = {
    "company_name": 120, "contact_name": 60, "mobile": 30, "phone": 30, "email": 254, "wechat": 60,
    "website": 200, "province": 20, "city": 30, "content": 20000,
}  # fmt: skip
_LABELS = {
    "company_name": _("公司名称"), "contact_name": _("联系人"), "mobile": _("手机号"), "phone": _("电话"),
    "email": _("邮箱"), "wechat": _("微信"), "website": _("公司网址"), "province": _("省份"), "city": _("城市"),
    "content": _("询盘内容"),
}  # fmt: skip
MAX_LINES = 50


def source_option(value: Any, *, field: str = "source") -> Option | None:
    """A lead source from the customers' source list (CUS-4), by code or id."""
    if value in (None, ""):
        return None
    if isinstance(value, Option):
        return value
    query = Option.objects.filter(kind=OptionKind.SOURCE, is_active=True)
    found = query.filter(code=str(value)).first()
    if found is None and str(value).isdigit():
        found = query.filter(pk=int(value)).first()
    if found is None:
        raise ValidationError(_("线索来源“%(v)s”不存在"), field=field, params={"v": value})
    return found


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    text = "" if value is None else str(value).strip()
    if len(text) > _MAX[key]:
        raise ValidationError(
            _("%(label)s不能超过 %(n)s 个字符"), field=key, params={"label": _LABELS[key], "n": _MAX[key]}
        )
    return text


def _count(value: Any, *, field: str, label: Any) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(_("%(label)s必须是整数"), field=field, params={"label": label}) from None
    if not 0 <= number <= 1_000_000:
        raise ValidationError(_("%(label)s必须在 0 到 1000000 之间"), field=field, params={"label": label})
    return number


def clean_lines(value: Any) -> list[dict[str, Any]]:
    """The products asked about: ``[{"product": id or code, "quantity", "unit", "samples"}]``."""
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError(_("询盘产品格式不正确"), field="lines")
    if len(value) > MAX_LINES:
        raise ValidationError(_("询盘产品最多 %(n)s 项"), field="lines", params={"n": MAX_LINES})
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for item in value:
        if not isinstance(item, dict):
            raise ValidationError(_("询盘产品格式不正确"), field="lines")
        ref = item.get("product")
        product = ref if isinstance(ref, Product) else None
        if product is None and ref not in (None, ""):
            product = Product.objects.filter(code=str(ref)).first()
            if product is None and str(ref).isdigit():
                product = Product.objects.filter(pk=int(ref)).first()
        if product is None:
            raise ValidationError(_("产品“%(v)s”不存在"), field="product", params={"v": ref or ""})
        if product.pk in seen:
            raise ValidationError(_("产品“%(v)s”重复"), field="product", params={"v": product.name})
        seen.add(product.pk)
        try:
            quantity = Decimal(str(item.get("quantity") or "0").strip())
        except InvalidOperation:
            raise ValidationError(_("数量必须是数字"), field="quantity") from None
        if not quantity.is_finite() or quantity < 0 or quantity >= Decimal("100000000000"):
            raise ValidationError(_("数量必须是不小于 0 的数字"), field="quantity")
        unit = str(item.get("unit") or "").strip()
        if len(unit) > 20:
            raise ValidationError(_("单位不能超过 20 个字符"), field="unit")
        out.append({
            "product": product, "quantity": quantity.quantize(Decimal("0.001")), "unit": unit or product.unit,
            "samples": _count(item.get("samples"), field="samples", label=_("样品数")),
        })  # fmt: skip
    return out


def clean_lead(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Clean lead fields (only those present when ``partial``); raises naming the field at fault."""
    unknown = sorted(set(data) - LEAD_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    out: dict[str, Any] = {}
    for key in _MAX:
        if key in data or not partial:
            out[key] = _text(data, key)
    if "contact_name" in out and not out["contact_name"]:
        raise ValidationError(_("请填写联系人姓名"), field="contact_name")
    if out.get("email"):
        out["email"] = out["email"].lower()
        try:
            validate_email(out["email"])
        except DjangoValidationError:
            raise ValidationError(_("邮箱地址格式不正确"), field="email") from None
    if out.get("mobile"):
        # A malformed number is kept as typed: the risk check flags it (see the module docstring).
        with contextlib.suppress(ValidationError):
            out["mobile"] = normalize_mobile(out["mobile"])
    if "source" in data or not partial:
        out["source"] = source_option(data.get("source"))
    if "delivery" in data or not partial:
        delivery = str(data.get("delivery") or "")
        if delivery not in Delivery.values:
            raise ValidationError(_("交付方式“%(v)s”无效"), field="delivery", params={"v": delivery})
        out["delivery"] = delivery
    if "samples_requested" in data or not partial:
        out["samples_requested"] = _count(data.get("samples_requested"), field="samples_requested",
                                          label=_("索要样品数"))  # fmt: skip
    if "lines" in data:
        out["lines"] = clean_lines(data.get("lines"))
    if not partial and not any(out.get(k) for k in ("mobile", "phone", "email", "wechat")):
        raise ValidationError(_("请至少留下手机、电话、邮箱或微信中的一项"), field="mobile")
    return out
