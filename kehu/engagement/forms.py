"""HTML forms of the interaction pages. They only shape input; the services validate the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Direction
from .selectors import channels
from .validation import INTERACTION_FIELDS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; the service checks each file's type and size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return single(data, initial)


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(label=_("沟通渠道"))
    direction = forms.ChoiceField(label=_("方向"), choices=Direction.choices, initial=Direction.OUTBOUND)
    occurred_at = forms.CharField(
        label=_("沟通时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    contact = forms.ChoiceField(label=_("联系人"), required=False)
    summary = forms.CharField(label=_("沟通内容"), widget=forms.Textarea(attrs={"rows": 4}))
    outcome = forms.CharField(label=_("结果"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("下一步"), required=False, max_length=200)
    next_follow_up_on = forms.CharField(
        label=_("下次跟进日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, contacts: Sequence[Any] = (), with_file: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["channel"]).choices = [(c.code, c.display) for c in channels()]
        cast(forms.ChoiceField, self.fields["contact"]).choices = [
            ("", "—"),
            *[(str(p.pk), p.name) for p in contacts],
        ]
        if not self.is_bound and "occurred_at" not in self.initial:
            self.initial["occurred_at"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        if with_file:
            self.fields["files"] = MultipleFileField(
                label=_("附件"), required=False, help_text=_("PDF、图片、Office 文档或文本文件")
            )

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in INTERACTION_FIELDS}


class InteractionEditForm(InteractionForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


def initial_of(interaction: Any) -> dict[str, Any]:
    return {
        "channel": interaction.channel.code,
        "direction": interaction.direction,
        "occurred_at": timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "contact": str(interaction.contact_id or ""),
        "summary": interaction.summary,
        "outcome": interaction.outcome,
        "next_step": interaction.next_step,
        "next_follow_up_on": interaction.next_follow_up_on.isoformat()
        if interaction.next_follow_up_on
        else "",
        "version": interaction.version,
    }


class TaskForm(forms.Form):
    title = forms.CharField(label=_("任务"), max_length=200)
    due_on = forms.CharField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))
    owner = forms.ChoiceField(label=_("负责人"), required=False)
    customer = forms.CharField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, assignees: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [(str(u.pk), u.label) for u in assignees]

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in ("title", "due_on", "owner", "customer", "description")}


class TaskEditForm(TaskForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class RevisitPlanForm(forms.Form):
    name = forms.CharField(label=_("回访计划"), max_length=60)
    status = forms.ChoiceField(label=_("客户状态"), required=False)
    value_tier = forms.ChoiceField(label=_("价值等级"), required=False)
    deal_status = forms.ChoiceField(label=_("成交状态"), required=False)
    trigger = forms.ChoiceField(label=_("触发方式"), initial="quiet", required=False)
    every_days = forms.IntegerField(
        label=_("每隔天数"), min_value=1, required=False, help_text=_("久未联系：多少天没有联系就回访")
    )
    due_in_days = forms.IntegerField(label=_("任务期限（天）"), min_value=0, initial=3)
    task_title = forms.CharField(label=_("任务标题"), max_length=200, initial=_("定期回访"))
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from kehu.customers.choices import DealStatus, Status, ValueTier

        from .choices import RevisitTrigger

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["trigger"]).choices = RevisitTrigger.choices
        for key, choices in (("status", Status), ("value_tier", ValueTier), ("deal_status", DealStatus)):
            cast(forms.ChoiceField, self.fields[key]).choices = [("", _("不限")), *choices.choices]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["trigger"] = data.get("trigger") or "quiet"
        return data


class RevisitPlanEditForm(RevisitPlanForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in super().service_data().items() if k != "version"}
