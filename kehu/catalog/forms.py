"""HTML forms of the catalogue pages. They only shape input; ``rules.clean_product`` checks the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import RiskLevel, UnitKind

FIELDS = ("code", "name", "model", "specification", "category", "unit", "unit_kind", "price", "cost", "currency",
          "packaging", "features", "risk_level", "electronic_delivery", "sample_limit")  # fmt: skip


class ProductForm(forms.Form):
    code = forms.CharField(label=_("产品编号"), max_length=30)
    name = forms.CharField(label=_("产品名称"), max_length=120)
    model = forms.CharField(label=_("型号"), max_length=80, required=False)
    specification = forms.CharField(label=_("规格"), max_length=200, required=False)
    category = forms.CharField(label=_("产品类别"), max_length=60, required=False)
    unit = forms.CharField(label=_("单位"), max_length=20, initial="件")
    unit_kind = forms.ChoiceField(label=_("计量方式"), choices=UnitKind.choices, initial=UnitKind.PIECE)
    price = forms.CharField(label=_("标准单价"), initial="0.00")
    cost = forms.CharField(label=_("成本单价"), initial="0.00")
    currency = forms.CharField(label=_("币种"), max_length=3, initial="CNY")
    packaging = forms.CharField(label=_("包装"), max_length=200, required=False)
    features = forms.CharField(label=_("产品特点"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    risk_level = forms.ChoiceField(
        label=_("风险等级"), choices=[("", "—"), *RiskLevel.choices], required=False
    )
    electronic_delivery = forms.BooleanField(label=_("可电子交付"), required=False)
    sample_limit = forms.IntegerField(label=_("样品上限"), min_value=0, initial=0, required=False)
    picture = forms.FileField(
        label=_("图片"), required=False, help_text=_("JPG、PNG、GIF 或 WebP，最大 5 MB")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_data(self) -> dict[str, Any]:
        data = {key: self.cleaned_data.get(key) for key in FIELDS}
        data["sample_limit"] = data["sample_limit"] or 0
        return data

    def picture_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("picture")
        return upload.read() if upload else None


def initial_of(product: Any) -> dict[str, Any]:
    return {**{key: getattr(product, key) for key in FIELDS}, "version": product.version}
