"""HTML forms of customer service: they only shape input for the services, which validate everything."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import KIND_CATEGORIES, Category, Channel, Priority, TicketKind


def _blank(choices: Any, label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class TicketForm(forms.Form):
    """Register a ticket or complaint. The contact, order and product selects list the customer's own."""

    kind = forms.ChoiceField(label=_("类型"), choices=TicketKind.choices)
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(
        label=_("问题描述"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    priority = forms.ChoiceField(label=_("优先级"), choices=Priority.choices, initial=Priority.NORMAL)
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.PHONE)
    contact_id = forms.ChoiceField(label=_("联系人"), required=False)
    order_id = forms.ChoiceField(label=_("相关订单"), required=False)
    product_id = forms.ChoiceField(label=_("相关产品"), required=False)
    caller_name = forms.CharField(label=_("来电人"), max_length=60, required=False)
    caller_phone = forms.CharField(label=_("来电号码"), max_length=30, required=False)
    assignee_id = forms.ChoiceField(
        label=_("处理人"), required=False, help_text=_("留空则按客服组的分配方式自动分派")
    )

    def __init__(
        self, *args: Any, contacts: Any = (), orders: Any = (), products: Any = (), assignees: Any = (),
        with_customer: bool = True, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contact_id"]).choices = _blank(
            [(str(c.pk), c.name) for c in contacts], _("（不指定）")
        )
        cast(forms.ChoiceField, self.fields["order_id"]).choices = _blank(
            [(str(o.pk), f"{o.number} · {o.order_date}") for o in orders], _("（不指定）")
        )
        cast(forms.ChoiceField, self.fields["product_id"]).choices = _blank(
            [(str(p.pk), p.name) for p in products], _("（不指定）")
        )
        cast(forms.ChoiceField, self.fields["assignee_id"]).choices = _blank(
            [(str(u.pk), u.display_name) for u in assignees], _("自动分派")
        )
        self.fields["category"].help_text = _("投诉：产品质量、交付与运输、服务态度、合同条款、价格与账单")
        if with_customer:
            del self.fields["caller_name"], self.fields["caller_phone"]
        else:
            for key in ("contact_id", "order_id"):
                del self.fields[key]

    def service_data(self, *, customer_id: int | None) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        if customer_id is not None:
            data["customer_id"] = customer_id
        return data


class TicketEditForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(
        label=_("问题描述"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    priority = forms.ChoiceField(label=_("优先级"), choices=Priority.choices)
    product_id = forms.ChoiceField(label=_("相关产品"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, kind: str, products: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Category.choices)
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            (c, labels[c]) for c in KIND_CATEGORIES[kind]
        ]
        cast(forms.ChoiceField, self.fields["product_id"]).choices = _blank(
            [(str(p.pk), p.name) for p in products], _("（不指定）")
        )

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["product_id"] = data.get("product_id") or None
        return data
