"""HTML forms of the quote pages. They only shape input; the services and ``rules`` check the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import COST_COMPONENTS

HEADER = ("title", "contact", "opportunity", "currency", "exchange_rate", "quoted_on", "valid_until", "terms",
          "notes", "competitor_notes", "annual_volume_notes")  # fmt: skip


class QuoteForm(forms.Form):
    title = forms.CharField(label=_("报价标题"), max_length=120,
                            help_text=_("说明报价内容，如“二期产线伺服电机报价”"))  # fmt: skip
    contact = forms.ChoiceField(label=_("联系人"), required=False)
    opportunity = forms.ChoiceField(label=_("商机"), required=False)
    currency = forms.CharField(label=_("币种"), max_length=3, initial="CNY")
    exchange_rate = forms.CharField(label=_("汇率（1 外币 = ? 人民币）"), initial="1", required=False)
    quoted_on = forms.DateField(
        label=_("报价日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    terms = forms.CharField(label=_("报价条款"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    competitor_notes = forms.CharField(
        label=_("竞争对手情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    annual_volume_notes = forms.CharField(
        label=_("年用量说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, contacts: Sequence[Any] = (), opportunities: Sequence[Any] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contact"]).choices = [
            ("", "—"),
            *[(str(c.pk), c.name) for c in contacts],
        ]
        cast(forms.ChoiceField, self.fields["opportunity"]).choices = [
            ("", "—"),
            *[(str(o.pk), f"{o.code} {o.name}") for o in opportunities],
        ]

    def service_data(self, *, creating: bool) -> dict[str, Any]:
        data = {key: self.cleaned_data.get(key) for key in HEADER}
        if creating:
            # Blank dates and rate on a new quote: the service's defaults (today, letterhead validity, 1).
            for key in ("quoted_on", "valid_until", "exchange_rate"):
                if data[key] in (None, ""):
                    data.pop(key)
        elif data["quoted_on"] is None:
            data.pop("quoted_on")
        return data


def quote_initial(quote: Any) -> dict[str, Any]:
    out = {key: getattr(quote, key) for key in HEADER if key not in ("contact", "opportunity")}
    out["contact"] = str(quote.contact_id or "")
    out["opportunity"] = str(quote.opportunity_id or "")
    out["version"] = quote.version
    return out


class LineForm(forms.Form):
    product = forms.CharField(label=_("产品"), required=False)
    name = forms.CharField(label=_("产品名称"), max_length=120, required=False)
    quantity = forms.CharField(label=_("数量"))
    unit_price = forms.CharField(label=_("单价"), required=False, help_text=_("留空则用产品标准单价"))
    discount = forms.CharField(label=_("折扣（%）"), required=False)
    unit_cost = forms.CharField(label=_("单位成本"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in COST_COMPONENTS.items():
            self.fields[f"cost_{key}"] = forms.CharField(label=label, required=False)

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"quantity": self.cleaned_data["quantity"]}
        for key in ("product", "name", "unit_price", "discount", "unit_cost"):
            value = self.cleaned_data.get(key)
            if value not in (None, ""):
                data[key] = value
        components = {key: self.cleaned_data.get(f"cost_{key}") for key in COST_COMPONENTS}
        components = {k: v for k, v in components.items() if v not in (None, "")}
        if components:
            data["cost_components"] = components
        return data


def line_initial(line: Any) -> dict[str, Any]:
    out = {"product": str(line.product_id or ""), "name": line.name, "quantity": f"{line.quantity.normalize():f}",
           "unit_price": line.unit_price, "discount": line.discount, "unit_cost": line.unit_cost}  # fmt: skip
    for key, value in (line.cost_components or {}).items():
        out[f"cost_{key}"] = value
    return out


class LetterheadForm(forms.Form):
    company_name = forms.CharField(label=_("公司名称"), max_length=120, required=False)
    company_name_en = forms.CharField(label=_("英文名称"), max_length=160, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    phone = forms.CharField(label=_("电话"), max_length=60, required=False)
    email = forms.CharField(label=_("电子邮箱"), max_length=120, required=False)
    website = forms.CharField(label=_("网址"), max_length=120, required=False)
    tax_number = forms.CharField(label=_("纳税人识别号"), max_length=30, required=False)
    bank_name = forms.CharField(label=_("开户银行"), max_length=120, required=False)
    bank_account = forms.CharField(label=_("银行账号"), max_length=40, required=False)
    default_terms = forms.CharField(
        label=_("默认报价条款"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    default_valid_days = forms.CharField(label=_("默认有效天数"), initial="30")
    discount_threshold = forms.CharField(label=_("需审批的折扣阈值（%）"), initial="10")
    logo = forms.FileField(
        label=_("公司标志"), required=False, help_text=_("JPG、PNG、GIF 或 WebP，最大 5 MB")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELDS = ("company_name", "company_name_en", "address", "phone", "email", "website", "tax_number", "bank_name",
              "bank_account", "default_terms", "default_valid_days", "discount_threshold")  # fmt: skip

    def service_data(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(key) for key in self.FIELDS}

    def logo_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("logo")
        return upload.read() if upload else None


def letterhead_initial(letterhead: Any) -> dict[str, Any]:
    return {**{key: getattr(letterhead, key) for key in LetterheadForm.FIELDS}, "version": letterhead.version}
