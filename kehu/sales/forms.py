"""HTML forms of the pipeline pages (SAL-3, SAL-4): shape checks only; the services decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import BuyingRole, PricePosition, Stance


class OpportunityForm(forms.Form):
    customer = forms.IntegerField(label=_("客户"), widget=forms.HiddenInput)
    name = forms.CharField(label=_("商机名称"), max_length=120)
    amount = forms.DecimalField(label=_("预计金额"), min_value=0, max_digits=16, decimal_places=2, initial=0)
    currency = forms.CharField(label=_("币种"), max_length=3, initial="CNY")
    expected_close = forms.DateField(
        label=_("预计成交日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("customer")
        return data


class OpportunityEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("商机名称"), max_length=120)
    amount = forms.DecimalField(label=_("预计金额"), min_value=0, max_digits=16, decimal_places=2)
    amount_from_lines = forms.BooleanField(label=_("金额按产品明细汇总"), required=False)
    currency = forms.CharField(label=_("币种"), max_length=3)
    expected_close = forms.DateField(
        label=_("预计成交日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version")
        return data


class LineForm(forms.Form):
    product = forms.IntegerField(label=_("产品"))
    quantity = forms.DecimalField(label=_("数量"), max_digits=14, decimal_places=2, initial=1)
    unit_price = forms.DecimalField(label=_("单价"), required=False, max_digits=14, decimal_places=2)
    discount = forms.DecimalField(label=_("折扣（%）"), required=False, max_digits=5, decimal_places=2)
    notes = forms.CharField(label=_("备注"), required=False, max_length=200)


class MemberForm(forms.Form):
    contact = forms.IntegerField(label=_("联系人"), required=False)
    roles = forms.MultipleChoiceField(
        label=_("角色"), choices=BuyingRole.choices, widget=forms.CheckboxSelectMultiple
    )
    stance = forms.ChoiceField(label=_("态度"), choices=Stance.choices, initial=Stance.NEUTRAL)
    influence = forms.IntegerField(label=_("影响力（1–5）"), min_value=1, max_value=5, initial=3)
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CompetitorForm(forms.Form):
    name = forms.CharField(label=_("竞争对手"), max_length=120)
    strengths = forms.CharField(label=_("优势"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    weaknesses = forms.CharField(label=_("劣势"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    price_position = forms.ChoiceField(
        label=_("价格定位"), choices=PricePosition.choices, initial=PricePosition.SIMILAR
    )
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


def stages_from_post(post: Any) -> list[dict[str, Any]]:
    """The stage rows of the stage-group form (parallel lists ``stage_id``/``stage_name``/…, in order)."""
    ids = post.getlist("stage_id")
    names = post.getlist("stage_name")
    names_en = post.getlist("stage_name_en")
    probabilities = post.getlist("stage_probability")
    past = set(post.getlist("stage_past"))  # the row indexes whose box is ticked
    rows = []
    for i, name in enumerate(names):
        if not name.strip() and not (probabilities[i] if i < len(probabilities) else "").strip():
            continue  # an empty row the user added and left
        rows.append(
            {
                "id": ids[i] if i < len(ids) and ids[i] else None,
                "name": name,
                "name_en": names_en[i] if i < len(names_en) else "",
                "probability": probabilities[i] if i < len(probabilities) else "",
                "past_proposal": str(i) in past,
            }
        )
    return rows
