"""HTML forms of the approval pages. They only shape input; the services validate the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .choices import StepKind
from .registry import document_type_choices

MAX_FORM_STEPS = 10


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class FlowForm(forms.Form):
    """The flow's own fields; its steps come as ``steps-<i>-kind`` / ``steps-<i>-users`` rows that
    the page adds and removes (Alpine) and ``steps_from`` reads."""

    document_type = forms.ChoiceField(label=_("单据类型"))
    name = forms.CharField(label=_("流程名称"), max_length=80)
    department = forms.ChoiceField(label=_("适用部门"), required=False)
    min_amount = forms.DecimalField(
        label=_("起始金额"),
        required=False,
        min_value=0,
        decimal_places=2,
        max_digits=16,
        help_text=_("单据金额达到此数才走本流程；留空表示所有金额"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, departments: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["document_type"]).choices = document_type_choices()
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", _("全公司")),
            *[(str(d.pk), "　" * d.depth + d.name) for d in departments],
        ]

    def service_data(self, post: QueryDict) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "document_type": d["document_type"],
            "name": d["name"],
            "department": d["department"] or None,
            "min_amount": d["min_amount"],
            "is_active": d["is_active"],
            "steps": steps_from(post),
        }


def steps_from(post: QueryDict) -> list[dict[str, Any]]:
    """The step rows of the flow form, in page order (gaps left by removed rows are skipped)."""
    steps = []
    for i in range(MAX_FORM_STEPS * 3):
        kind = post.get(f"steps-{i}-kind")
        if kind is None:
            continue
        users = [u for u in post.getlist(f"steps-{i}-users") if u.strip()]
        steps.append({"kind": kind, "users": users if kind != StepKind.SUPERVISOR else []})
    return steps
