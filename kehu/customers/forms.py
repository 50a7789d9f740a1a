"""HTML forms of the customer pages. They only shape input; the services validate the business rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.access.selectors import user_choices
from kehu.core.lunar import DAY_NAMES, MONTH_NAMES

from .choices import (
    CLASSIFICATION_DIMENSIONS,
    BirthdayCalendar,
    CustomerKind,
    Gender,
    NeedStatus,
    OptionKind,
    Relation,
    Size,
)
from .selectors import options
from .validation import CONTACT_FIELDS


def _blank(choices: Any) -> list[tuple[str, str]]:
    return [("", "—"), *[(c.value, c.label) for c in choices if c.value != ""]]


def _option_choices(kind: str) -> list[tuple[str, str]]:
    return [("", "—"), *[(o.code, o.label) for o in options(kind)]]


LUNAR_MONTHS = [("", "—"), *[(str(m), f"{MONTH_NAMES[m]}月") for m in range(1, 13)]]
LUNAR_DAYS = [("", "—"), *[(str(d), DAY_NAMES[d]) for d in range(1, 31)]]


def _birthday_fields() -> dict[str, forms.Field]:
    """The birthday (MKT-3): a solar date, or a lunar month-day (闰月 optional) — the page shows the
    lunar selects when 农历 is chosen; the service checks the combination."""
    return {
        "birthday_calendar": forms.ChoiceField(
            label=_("生日历法"),
            choices=BirthdayCalendar.choices,
            initial=BirthdayCalendar.SOLAR,
            required=False,
        ),
        "lunar_birth_month": forms.ChoiceField(
            label=_("农历生日（月）"), choices=LUNAR_MONTHS, required=False
        ),
        "lunar_birth_day": forms.ChoiceField(label=_("农历生日（日）"), choices=LUNAR_DAYS, required=False),
        "lunar_birth_leap": forms.BooleanField(label=_("闰月"), required=False),
    }


def _add_birthday_fields(form: forms.Form) -> None:
    """The birthday fields, placed right after ``birthday``."""
    keys = [k for k in form.fields]
    extra = _birthday_fields()
    at = keys.index("birthday") + 1
    keys[at:at] = list(extra)
    fields = {**form.fields, **extra}
    form.fields = {k: fields[k] for k in keys}  # type: ignore[assignment]


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("客户类型"), choices=CustomerKind.choices, initial=CustomerKind.COMPANY)
    name = forms.CharField(label=_("客户名称"), max_length=120)
    credit_code = forms.CharField(label=_("统一社会信用代码"), required=False, max_length=40)
    id_number = forms.CharField(label=_("身份证号"), required=False, max_length=40)
    mobile = forms.CharField(label=_("手机号"), required=False, max_length=30)
    phone = forms.CharField(label=_("电话"), required=False, max_length=30)
    email = forms.CharField(label=_("邮箱"), required=False, max_length=254)
    wechat = forms.CharField(label=_("微信"), required=False, max_length=60)
    website = forms.CharField(label=_("网址"), required=False, max_length=200)
    gender = forms.ChoiceField(label=_("性别"), choices=_blank(Gender), required=False)
    birthday = forms.CharField(
        label=_("生日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    industry = forms.ChoiceField(label=_("行业"), required=False)
    size = forms.ChoiceField(label=_("规模"), choices=_blank(Size), required=False)
    relation = forms.ChoiceField(label=_("客户关系"), choices=Relation.choices, initial=Relation.CONSUMER)
    need_status = forms.ChoiceField(
        label=_("需求状态"), choices=NeedStatus.choices, initial=NeedStatus.POTENTIAL
    )
    source = forms.ChoiceField(label=_("客户来源"), required=False)
    source_detail = forms.CharField(label=_("来源说明"), required=False, max_length=200)
    screened = forms.BooleanField(label=_("已通过初步筛选"), required=False)
    province = forms.CharField(label=_("省份"), required=False, max_length=20)
    city = forms.CharField(label=_("城市"), required=False, max_length=30)
    district = forms.CharField(label=_("区县"), required=False, max_length=30)
    address = forms.CharField(label=_("详细地址"), required=False, max_length=200)
    tags = forms.CharField(label=_("标签"), required=False, help_text=_("多个标签用逗号分隔"))
    needs = forms.CharField(label=_("需求"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    preferences = forms.CharField(label=_("偏好"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm_duplicates = forms.BooleanField(label=_("我已确认不是重复客户，仍然保存"), required=False)

    SERVICE_FIELDS = (
        "kind",
        "name",
        "credit_code",
        "id_number",
        "mobile",
        "phone",
        "email",
        "wechat",
        "website",
        "gender",
        "birthday",
        "birthday_calendar",
        "lunar_birth_month",
        "lunar_birth_day",
        "lunar_birth_leap",
        "industry",
        "size",
        "relation",
        "need_status",
        "source",
        "source_detail",
        "screened",
        "province",
        "city",
        "district",
        "address",
        "tags",
        "needs",
        "preferences",
        "notes",
    )

    def __init__(self, *args: Any, with_owner: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_birthday_fields(self)
        cast(forms.ChoiceField, self.fields["industry"]).choices = _option_choices(OptionKind.INDUSTRY)
        cast(forms.ChoiceField, self.fields["source"]).choices = _option_choices(OptionKind.SOURCE)
        if with_owner:
            self.fields["owner"] = forms.ChoiceField(
                label=_("负责人"),
                required=False,
                choices=[
                    ("", _("（本人）")),
                    ("pool", _("放入公海")),
                    *[(str(u.pk), f"{u.label}（{u.department or '—'}）") for u in user_choices()],
                ],
            )
        # 查重 as you type (CUS-5): each identity field asks the server after a pause.
        for name in ("name", "credit_code", "mobile", "id_number"):
            self.fields[name].widget.attrs.update(
                {
                    "autocomplete": "off",
                    "hx-post": reverse("customers:dup_check"),
                    "hx-trigger": "input changed delay:400ms",
                    "hx-target": "#dup-box",
                    "hx-include": "#id_name, #id_credit_code, #id_mobile, #id_id_number, #exclude_id",
                }
            )

    def service_data(self) -> dict[str, Any]:
        data = {k: self.cleaned_data.get(k) for k in self.SERVICE_FIELDS}
        return data


class CustomerEditForm(CustomerForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


def customer_initial(customer: Any) -> dict[str, Any]:
    initial = {
        k: getattr(customer, k)
        for k in CustomerForm.SERVICE_FIELDS
        if k not in ("industry", "source", "tags")
    }
    initial["industry"] = customer.industry.code if customer.industry else ""
    initial["source"] = customer.source.code if customer.source else ""
    initial["tags"] = ", ".join(customer.tags.values_list("name", flat=True))
    initial["birthday"] = customer.birthday.isoformat() if customer.birthday else ""
    initial["version"] = customer.version
    return initial


class ContactForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=60)
    gender = forms.ChoiceField(label=_("性别"), choices=_blank(Gender), required=False)
    position = forms.CharField(label=_("职务"), required=False, max_length=60)
    department = forms.CharField(label=_("部门"), required=False, max_length=60)
    mobile = forms.CharField(label=_("手机号"), required=False, max_length=30)
    phone = forms.CharField(label=_("电话"), required=False, max_length=30)
    email = forms.CharField(label=_("邮箱"), required=False, max_length=254)
    wechat = forms.CharField(label=_("微信"), required=False, max_length=60)
    birthday = forms.CharField(
        label=_("生日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_primary = forms.BooleanField(label=_("主要联系人"), required=False)
    reports_to = forms.ChoiceField(label=_("汇报对象"), required=False)
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    SERVICE_FIELDS = tuple(sorted(CONTACT_FIELDS))

    def __init__(self, *args: Any, peers: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_birthday_fields(self)
        cast(forms.ChoiceField, self.fields["reports_to"]).choices = [
            ("", "—"),
            *[(str(p.pk), f"{p.name} {p.position}") for p in peers or []],
        ]

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.SERVICE_FIELDS}


class ContactEditForm(ContactForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class TransferForm(forms.Form):
    to_user = forms.ChoiceField(label=_("新负责人"))
    reason = forms.CharField(label=_("转移原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to_user"]).choices = [
            ("", "—"),
            *[(str(u.pk), f"{u.label}（{u.department or '—'}）") for u in user_choices()],
        ]


class ClassifyForm(forms.Form):
    dimension = forms.ChoiceField(choices=[(d, d) for d in CLASSIFICATION_DIMENSIONS])
    value = forms.CharField(required=False)
    reason = forms.CharField(required=False, max_length=200)
    version = forms.IntegerField()


class MergeForm(forms.Form):
    other_code = forms.CharField(
        label=_("被合并客户的编号"),
        max_length=20,
        help_text=_("该客户的联系人、标签与历史记录将并入当前客户"),
    )


class OptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=OptionKind.choices)
    code = forms.CharField(label=_("代码"), max_length=40)
    label = forms.CharField(label=_("名称"), max_length=60)
    label_en = forms.CharField(label=_("英文名称"), max_length=60, required=False)
    sort_order = forms.IntegerField(label=_("排序"), initial=0)


class PoolForm(forms.Form):
    """A public pool: who belongs, who runs it, and when customers return to it (CUS-7)."""

    name = forms.CharField(label=_("公海名称"), max_length=60)
    description = forms.CharField(label=_("说明"), required=False, max_length=200)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    no_follow_up_days = forms.IntegerField(
        label=_("未跟进退回天数"), required=False, min_value=0, help_text=_("空 = 不按跟进退回")
    )
    no_deal_days = forms.IntegerField(
        label=_("未成交退回天数"), required=False, min_value=0, help_text=_("空 = 不按成交退回")
    )
    warn_days = forms.IntegerField(label=_("提前提醒天数"), required=False, min_value=0, initial=3)
    daily_claim_limit = forms.IntegerField(label=_("每人每日领取上限"), required=False, min_value=0)
    holding_cap = forms.IntegerField(label=_("每人持有上限"), required=False, min_value=0)
    cap_counts_closed = forms.BooleanField(label=_("成交客户计入持有上限"), required=False)
    cooldown_days = forms.IntegerField(
        label=_("原负责人再次领取间隔天数"), required=False, min_value=0, initial=0
    )
    members = forms.MultipleChoiceField(
        label=_("成员"), required=False, help_text=_("不选成员和成员部门 = 所有可查看公海的人")
    )
    member_departments = forms.MultipleChoiceField(label=_("成员部门"), required=False)
    admins = forms.MultipleChoiceField(
        label=_("管理员"), required=False, help_text=_("管理员可以分配本公海的客户")
    )

    def __init__(self, *args: Any, departments: Any = (), **kwargs: Any) -> None:
        from .choices import ValueTier

        super().__init__(*args, **kwargs)
        people = [(str(u.pk), f"{u.label}（{u.department or '—'}）") for u in user_choices()]
        cast(forms.MultipleChoiceField, self.fields["members"]).choices = people
        cast(forms.MultipleChoiceField, self.fields["admins"]).choices = people
        cast(forms.MultipleChoiceField, self.fields["member_departments"]).choices = [
            (str(d.pk), d.name) for d in departments
        ]
        for tier in ValueTier:
            for key, label in (
                ("no_follow_up_days", _("未跟进退回天数")),
                ("no_deal_days", _("未成交退回天数")),
            ):
                self.fields[f"level_{tier.value}_{key}"] = forms.IntegerField(
                    label=f"{tier.label} · {label}", required=False, min_value=0
                )

    def service_data(self) -> dict[str, Any]:
        from .choices import ValueTier

        data = {k: self.cleaned_data.get(k) for k in (
            "name", "description", "is_active", "no_follow_up_days", "no_deal_days", "warn_days",
            "daily_claim_limit", "holding_cap", "cap_counts_closed", "cooldown_days", "members",
            "member_departments", "admins")}  # fmt: skip
        data["level_rules"] = {
            tier.value: {
                key: self.cleaned_data.get(f"level_{tier.value}_{key}")
                for key in ("no_follow_up_days", "no_deal_days")
            }
            for tier in ValueTier
        }
        return data


def pool_initial(pool: Any) -> dict[str, Any]:
    initial = {k: getattr(pool, k) for k in (
        "name", "description", "is_active", "no_follow_up_days", "no_deal_days", "warn_days",
        "daily_claim_limit", "holding_cap", "cap_counts_closed", "cooldown_days")}  # fmt: skip
    initial["members"] = [str(u.pk) for u in pool.members.all()]
    initial["admins"] = [str(u.pk) for u in pool.admins.all()]
    initial["member_departments"] = [str(d.pk) for d in pool.member_departments.all()]
    for rule in pool.level_rules.all():
        initial[f"level_{rule.value_tier}_no_follow_up_days"] = rule.no_follow_up_days
        initial[f"level_{rule.value_tier}_no_deal_days"] = rule.no_deal_days
    initial["version"] = pool.version
    return initial


class PoolEditForm(PoolForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
