"""HTML forms of the lead pages. They only shape input; the services validate the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Delivery, DiscardReason

LINE_ROWS = 3  # empty product rows offered under the existing ones


class LeadEntryForm(forms.Form):
    """Manual entry and editing of a lead; the products asked about come as ``line-N-*`` fields."""

    company_name = forms.CharField(label=_("公司名称"), required=False, max_length=120,
                                   help_text=_("个人询盘可留空"))  # fmt: skip
    contact_name = forms.CharField(label=_("联系人"), max_length=60)
    mobile = forms.CharField(label=_("手机号"), required=False, max_length=30)
    phone = forms.CharField(label=_("电话"), required=False, max_length=30)
    email = forms.CharField(label=_("邮箱"), required=False, max_length=254)
    wechat = forms.CharField(label=_("微信"), required=False, max_length=60)
    website = forms.CharField(label=_("公司网址"), required=False, max_length=200)
    province = forms.CharField(label=_("省份"), required=False, max_length=20)
    city = forms.CharField(label=_("城市"), required=False, max_length=30)
    source = forms.ChoiceField(label=_("线索来源"), required=False)
    delivery = forms.ChoiceField(label=_("要求的交付方式"), required=False, choices=Delivery.choices)
    samples_requested = forms.IntegerField(label=_("索要样品数"), required=False, min_value=0)
    content = forms.CharField(label=_("询盘内容"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    owner = forms.ChoiceField(label=_("负责人"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sources: list[tuple[str, str]], owners: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", _("请选择")), *sources]
        if owners is None:
            del self.fields["owner"]
        else:
            cast(forms.ChoiceField, self.fields["owner"]).choices = [("", _("放入线索池")), *owners]

    def service_data(self, post: Any, *, creating: bool) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("version", "owner")}
        if data.get("samples_requested") is None:
            data["samples_requested"] = 0
        if "owner" in self.cleaned_data and creating:
            data["owner"] = self.cleaned_data["owner"] or None
        data["lines"] = lines_from_post(post)
        return data


def lines_from_post(post: Any) -> list[dict[str, Any]]:
    """The product rows of the form (``line-N-product`` …); rows without a product are left out."""
    rows = []
    numbers = sorted({key.split("-")[1] for key in post if key.startswith("line-") and key.count("-") == 2})
    for n in numbers:
        product = (post.get(f"line-{n}-product") or "").strip()
        if not product:
            continue
        rows.append({
            "product": product, "quantity": post.get(f"line-{n}-quantity") or "0",
            "unit": post.get(f"line-{n}-unit") or "", "samples": post.get(f"line-{n}-samples") or "0",
        })  # fmt: skip
    return rows


class DiscardForm(forms.Form):
    reason = forms.ChoiceField(label=_("放弃原因"), choices=[("", _("请选择")), *DiscardReason.choices])
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(forms.Form):
    comment = forms.CharField(label=_("审核意见"), widget=forms.Textarea(attrs={"rows": 2}))


class LeadFormSettingsForm(forms.Form):
    name = forms.CharField(label=_("表单名称"), max_length=60)
    title = forms.CharField(label=_("页面标题"), required=False, max_length=120)
    thanks = forms.CharField(label=_("提交后提示"), required=False, max_length=200)
    source = forms.ChoiceField(label=_("线索来源"), required=False)
    owner = forms.ChoiceField(label=_("默认负责人"), required=False, help_text=_("留空则进入线索池"))
    min_seconds = forms.IntegerField(label=_("最短填写时间（秒）"), min_value=0, max_value=600, initial=3)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sources: list[tuple[str, str]], owners: list[tuple[str, str]],
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", _("请选择")), *sources]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", _("线索池")), *owners]

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["owner"] = data.get("owner") or None
        return data


class CaptureForm(forms.Form):
    """The hosted public form. ``url`` is the honeypot: hidden from people, filled by robots."""

    company_name = forms.CharField(label=_("公司名称"), required=False, max_length=120)
    contact_name = forms.CharField(label=_("您的姓名"), required=False, max_length=60)
    mobile = forms.CharField(label=_("手机号"), required=False, max_length=30)
    email = forms.CharField(label=_("邮箱"), required=False, max_length=254)
    wechat = forms.CharField(label=_("微信"), required=False, max_length=60)
    province = forms.CharField(label=_("省份"), required=False, max_length=20)
    city = forms.CharField(label=_("城市"), required=False, max_length=30)
    content = forms.CharField(label=_("咨询内容"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    url = forms.CharField(required=False, label=_("请勿填写"))
    stamp = forms.CharField(required=False, widget=forms.HiddenInput)

    def lead_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("url", "stamp")}
