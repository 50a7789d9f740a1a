"""HTML forms of sales targets; the services validate again (one rule, one place)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Metric, PeriodKind


class TargetForm(forms.Form):
    subject = forms.ChoiceField(
        label=_("对象"), choices=[("user", _("人员")), ("department", _("部门"))], initial="user"
    )
    user_id = forms.TypedChoiceField(label=_("人员"), coerce=int, required=False, empty_value=None)
    department_id = forms.TypedChoiceField(label=_("部门"), coerce=int, required=False, empty_value=None)
    metric = forms.ChoiceField(label=_("指标"), choices=Metric.choices)
    period_kind = forms.ChoiceField(label=_("周期"), choices=PeriodKind.choices, initial=PeriodKind.MONTH)
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    number = forms.IntegerField(
        label=_("月份/季度"), min_value=1, max_value=12, initial=1, help_text=_("年度目标填 1")
    )
    value = forms.DecimalField(label=_("目标值"), max_digits=16, decimal_places=2, min_value=0)
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, people: list, departments: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user_field: Any = self.fields["user_id"]
        department_field: Any = self.fields["department_id"]
        user_field.choices = [("", "—"), *[(u.pk, str(u)) for u in people]]
        department_field.choices = [("", "—"), *[(d.pk, d.name) for d in departments]]

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        subject = data.pop("subject")
        if subject == "user":
            data["department_id"] = None
        else:
            data["user_id"] = None
        return data


class TargetEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    value = forms.DecimalField(label=_("目标值"), max_digits=16, decimal_places=2, min_value=0)
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)
