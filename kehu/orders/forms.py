"""HTML forms of the contract, order, invoice and payment pages. They only shape input; the services
validate the rules (and name the field at fault)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.engagement.forms import MultipleFileField

from .choices import InvoiceType, PaymentMethod

DATE = forms.DateInput(attrs={"type": "date"})


class ContractForm(forms.Form):
    title = forms.CharField(label=_("合同名称"), max_length=200)
    opportunity = forms.ChoiceField(label=_("来源商机（已赢单）"), required=False)
    quote = forms.ChoiceField(label=_("来源报价单（客户已接受）"), required=False)
    our_party = forms.CharField(label=_("我方"), max_length=200)
    their_party = forms.CharField(
        label=_("对方"), max_length=200, required=False, help_text=_("留空则为客户名称")
    )
    our_signatory = forms.CharField(label=_("我方签约人"), max_length=60, required=False)
    their_signatory = forms.CharField(label=_("对方签约人"), max_length=60, required=False)
    amount = forms.CharField(label=_("合同金额"))
    currency = forms.CharField(label=_("币种"), max_length=3, initial="CNY")
    signed_on = forms.CharField(label=_("签订日期"), required=False, widget=DATE)
    starts_on = forms.CharField(label=_("开始日期"), required=False, widget=DATE)
    ends_on = forms.CharField(label=_("结束日期"), required=False, widget=DATE)
    payment_terms = forms.CharField(
        label=_("付款条件"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    terms = forms.CharField(
        label=_("双方权利与义务"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    WIDE = ("payment_terms", "terms")

    def __init__(
        self, *args: Any, opportunities: Sequence[Any] = (), quotes: Sequence[Any] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["opportunity"]).choices = [
            ("", "—"),
            *[(str(o.pk), f"{o.code} {o.name}") for o in opportunities],
        ]
        cast(forms.ChoiceField, self.fields["quote"]).choices = [
            ("", "—"),
            *[(str(q.pk), f"{q.number} v{q.revision} {q.title}") for q in quotes],
        ]

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.fields if k != "version"}


class ContractEditForm(ContractForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class OrderForm(forms.Form):
    """The order's header; its lines come as parallel lists (line_product, line_quantity, …)."""

    contract = forms.ChoiceField(label=_("合同"), required=False)
    order_date = forms.CharField(label=_("下单日期"), widget=DATE)
    promised_ship_on = forms.CharField(label=_("承诺发货日期"), required=False, widget=DATE)
    currency = forms.CharField(label=_("币种"), max_length=3, initial="CNY")
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    WIDE = ("notes",)

    def __init__(self, *args: Any, contracts: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contract"]).choices = [
            ("", "—"),
            *[(str(c.pk), f"{c.number} {c.title}") for c in contracts],
        ]

    def service_data(self) -> dict[str, Any]:
        return {
            k: self.cleaned_data.get(k)
            for k in ("contract", "order_date", "promised_ship_on", "currency", "notes")
        }


class OrderEditForm(OrderForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


LINE_KEYS = ("product", "product_name", "model", "unit", "unit_price", "quantity", "notes")


def lines_from(post: Any) -> list[dict[str, Any]]:
    """The order lines typed into the page: one dict per row that has anything in it."""
    columns = {k: post.getlist(f"line_{k}") for k in LINE_KEYS}
    n = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(n):
        row = {k: (columns[k][i] if i < len(columns[k]) else "") for k in LINE_KEYS}
        if any(str(v).strip() for v in row.values()):
            rows.append(row)
    return rows


class ShipmentForm(forms.Form):
    carrier = forms.CharField(label=_("承运商"), max_length=60, required=False)
    tracking_number = forms.CharField(label=_("运单号"), max_length=60, required=False)
    shipped_at = forms.CharField(
        label=_("发货时间"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )  # fmt: skip
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)
    uploads = MultipleFileField(label=_("签收单 / 发货凭证"), required=False)

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in ("carrier", "tracking_number", "shipped_at", "notes")}


class InvoiceForm(forms.Form):
    title = forms.CharField(label=_("发票抬头"), max_length=200)
    tax_number = forms.CharField(label=_("税号"), max_length=30, required=False,
                                 help_text=_("18 位统一社会信用代码；增值税专用发票必填"))  # fmt: skip
    kind = forms.ChoiceField(label=_("发票类型"), choices=InvoiceType.choices)
    amount = forms.CharField(label=_("开票金额（含税）"))
    tax_rate = forms.CharField(label=_("税率（%）"), initial="13")
    currency = forms.CharField(label=_("币种"), max_length=3, initial="CNY")
    number = forms.CharField(label=_("发票号码"), max_length=30, required=False)
    issued_on = forms.CharField(label=_("开票日期"), required=False, widget=DATE)
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)
    WIDE = ()

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.fields if k not in ("version", "uploads")}


class InvoiceCreateForm(InvoiceForm):
    uploads = MultipleFileField(label=_("发票文件"), required=False)


class InvoiceEditForm(InvoiceForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class InstalmentForm(forms.Form):
    due_on = forms.CharField(label=_("应收日期"), widget=DATE)
    amount = forms.CharField(label=_("应收金额"))
    remind_days = forms.CharField(label=_("提前提醒天数"), initial="7")
    notes = forms.CharField(label=_("说明"), max_length=200, required=False)
    WIDE = ()

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in ("due_on", "amount", "remind_days", "notes")}


class InstalmentEditForm(InstalmentForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class PaymentForm(forms.Form):
    """The payment; its matches come as ``match_<instalment id>`` amounts."""

    received_on = forms.CharField(label=_("回款日期"), widget=DATE)
    amount = forms.CharField(label=_("回款金额"))
    method = forms.ChoiceField(label=_("付款方式"), choices=PaymentMethod.choices)
    payer = forms.CharField(label=_("付款方"), max_length=200, required=False)
    reference = forms.CharField(label=_("银行流水号"), max_length=60, required=False)
    currency = forms.CharField(label=_("币种"), max_length=3, initial="CNY")
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in
                ("received_on", "amount", "method", "payer", "reference", "currency", "notes")}  # fmt: skip


class PaymentCreateForm(PaymentForm):
    uploads = MultipleFileField(label=_("回款凭证"), required=False)


class PaymentEditForm(PaymentForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


def matches_from(post: Any) -> dict[str, str]:
    return {k.removeprefix("match_"): v for k, v in post.items() if k.startswith("match_") and str(v).strip()}
