"""Input cleaning for customers and contacts, shared by pages, API and imports (SEC-7).

Each function takes raw values (strings from a form, JSON values from the API)
and returns clean Python values, or raises ``ValidationError`` naming the field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.core import lunar
from kehu.core.errors import ValidationError
from kehu.core.identity import normalize_credit_code, normalize_id_number, normalize_mobile, normalize_phone

from .choices import BirthdayCalendar, CustomerKind, Gender, NeedStatus, OptionKind, Relation, Size
from .models import Option, Tag

CUSTOMER_FIELDS = {
    "kind",
    "name",
    "credit_code",
    "id_number",
    "mobile",
    "phone",
    "email",
    "website",
    "wechat",
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
    "needs",
    "preferences",
    "notes",
    "province",
    "city",
    "district",
    "address",
    "tags",
    "owner",
    "screened",
}
CONTACT_FIELDS = {
    "name",
    "gender",
    "position",
    "department",
    "mobile",
    "phone",
    "email",
    "wechat",
    "birthday",
    "birthday_calendar",
    "lunar_birth_month",
    "lunar_birth_day",
    "lunar_birth_leap",
    "is_primary",
    "reports_to",
    "notes",
}
_MAX_LEN = {
    "name": 120,
    "website": 200,
    "wechat": 60,
    "source_detail": 200,
    "province": 20,
    "city": 30,
    "district": 30,
    "address": 200,
    "position": 60,
    "department": 60,
    "needs": 4000,
    "preferences": 4000,
    "notes": 4000,
}


def _text(data: dict[str, Any], key: str, *, required: bool = False, label: Any = "") -> str:
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("%(label)s必须是文本"), field=key, params={"label": label or key})
    value = value.strip()
    if required and not value:
        raise ValidationError(_("%(label)s不能为空"), field=key, params={"label": label or key})
    limit = _MAX_LEN.get(key)
    if limit and len(value) > limit:
        raise ValidationError(
            _("%(label)s不能超过 %(n)s 个字符"), field=key, params={"label": label or key, "n": limit}
        )
    return value


def _choice(data: dict[str, Any], key: str, choices: Any, *, label: Any, allow_blank: bool = True) -> str:
    value = data.get(key) or ""
    if value == "" and allow_blank:
        return ""
    if value not in choices.values:
        raise ValidationError(
            _("%(label)s的取值“%(value)s”无效"), field=key, params={"label": label, "value": value}
        )
    return value


def _date(data: dict[str, Any], key: str, *, label: Any) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(
            _("%(label)s不是有效日期（YYYY-MM-DD）"), field=key, params={"label": label}
        ) from exc
    if parsed > date.today():
        raise ValidationError(_("%(label)s不能晚于今天"), field=key, params={"label": label})
    return parsed


BIRTHDAY_FIELDS = (
    "birthday",
    "birthday_calendar",
    "lunar_birth_month",
    "lunar_birth_day",
    "lunar_birth_leap",
)
# What people type for the calendar (forms send the codes; imports may carry the words).
_CALENDAR_WORDS = {"公历": "solar", "阳历": "solar", "新历": "solar", "农历": "lunar", "阴历": "lunar"}


def clean_birthday(data: dict[str, Any], *, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The birthday fields (MKT-3) of a customer or contact, cleaned as a whole — ``current`` holds the
    stored ones for a partial update. A lunar birthday needs its lunar month and day (闰月 optional),
    or a solar date of birth to read them from; a solar birthday clears the lunar fields. Returns every
    birthday field and ``birthday_next``, the next celebration from today (``rules.next_birthday``)."""
    from django.utils import timezone

    from .rules import birthday_of, next_birthday

    merged = {**(current or {}), **{k: data[k] for k in BIRTHDAY_FIELDS if k in data}}
    out: dict[str, Any] = {"birthday": _date(merged, "birthday", label=str(_("生日")))}
    raw_calendar = str(merged.get("birthday_calendar") or "").strip()
    calendar = _CALENDAR_WORDS.get(raw_calendar, raw_calendar) or BirthdayCalendar.SOLAR
    if calendar not in BirthdayCalendar.values:
        raise ValidationError(
            _("%(label)s的取值“%(value)s”无效"),
            field="birthday_calendar",
            params={"label": str(_("生日历法")), "value": raw_calendar},
        )
    month = day = None
    leap = False
    if calendar == BirthdayCalendar.LUNAR:
        raw_month, raw_day = merged.get("lunar_birth_month"), merged.get("lunar_birth_day")
        if raw_month not in (None, ""):
            parsed = lunar.parse_month(raw_month)
            if parsed is None or isinstance(raw_month, bool):
                raise ValidationError(_("农历生日的月份应为 1–12（或正月…腊月）"), field="lunar_birth_month")
            month, leap = parsed
        if raw_day not in (None, ""):
            day = None if isinstance(raw_day, bool) else lunar.parse_day(raw_day)
            if day is None:
                raise ValidationError(_("农历生日的日期应为 1–30（或初一…三十）"), field="lunar_birth_day")
        leap = leap or _bool(merged, "lunar_birth_leap")
        if month is None and day is None and out["birthday"] is not None:
            # Only the solar date of birth is known (an ID card): its lunar month-day is the birthday.
            _year, born = lunar.from_solar(out["birthday"])
            month, day, leap = born.month, born.day, born.leap
        if month is None:
            raise ValidationError(_("农历生日请填写月份"), field="lunar_birth_month")
        if day is None:
            raise ValidationError(_("农历生日请填写日期"), field="lunar_birth_day")
    out.update(
        birthday_calendar=calendar, lunar_birth_month=month, lunar_birth_day=day, lunar_birth_leap=leap
    )
    birthday = birthday_of(calendar=calendar, solar=out["birthday"], month=month, day=day, leap=leap)
    out["birthday_next"] = next_birthday(birthday, on=timezone.localdate())
    return out


def _email(data: dict[str, Any], key: str = "email") -> str:
    value = _text(data, key).lower()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValidationError(_("邮箱地址格式不正确"), field=key) from exc
    return value


def _option(data: dict[str, Any], key: str, kind: OptionKind, *, label: Any) -> Option | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, Option):
        return value
    option = Option.objects.filter(kind=kind, code=str(value), is_active=True).first()
    if option is None:
        raise ValidationError(
            _("%(label)s“%(value)s”不存在"), field=key, params={"label": label, "value": value}
        )
    return option


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off", "no", "否"):
        return False
    if value in ("1", "true", "on", "yes", "是"):
        return True
    raise ValidationError(_("取值必须是真或假"), field=key)


def reject_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})


def clean_tags(value: Any) -> list[Tag]:
    if value in (None, ""):
        return []
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if str(v).strip()]
    for n in names:
        if len(n) > 30:
            raise ValidationError(_("标签“%(t)s”超过 30 个字符"), field="tags", params={"t": n})
    tags = []
    for n in dict.fromkeys(names):
        tag, _created = Tag.objects.get_or_create(name=n)
        tags.append(tag)
    return tags


def clean_customer(data: dict[str, Any], *, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Clean a (partial, when ``current`` is given) customer payload. Tags come back as names."""
    reject_unknown(data, CUSTOMER_FIELDS)
    merged = {**(current or {}), **data}
    out: dict[str, Any] = {}
    present = set(data) if current is not None else CUSTOMER_FIELDS

    kind = (
        _choice(merged, "kind", CustomerKind, label=_("客户类型"), allow_blank=False)
        if (merged.get("kind"))
        else CustomerKind.COMPANY
    )
    if "kind" in present:
        out["kind"] = kind
    if "name" in present:
        out["name"] = _text(data, "name", required=True, label=_("客户名称"))
    if "credit_code" in present:
        code = normalize_credit_code(data.get("credit_code") or "", field="credit_code")
        out["credit_code"] = code
    if "id_number" in present:
        out["id_number"] = normalize_id_number(data.get("id_number") or "", field="id_number")
    if kind == CustomerKind.COMPANY and merged.get("id_number"):
        raise ValidationError(_("企业客户不填写身份证号"), field="id_number")
    if kind == CustomerKind.INDIVIDUAL and merged.get("credit_code"):
        raise ValidationError(_("个人客户不填写统一社会信用代码"), field="credit_code")
    if "mobile" in present:
        out["mobile"] = normalize_mobile(data.get("mobile") or "", field="mobile")
    if "phone" in present:
        out["phone"] = normalize_phone(data.get("phone") or "", field="phone")
    if "email" in present:
        out["email"] = _email(data)
    for key in (
        "website",
        "wechat",
        "source_detail",
        "needs",
        "preferences",
        "notes",
        "province",
        "city",
        "district",
        "address",
    ):
        if key in present:
            out[key] = _text(data, key)
    if "gender" in present:
        out["gender"] = _choice(data, "gender", Gender, label=_("性别"))
    if present & set(BIRTHDAY_FIELDS):
        out.update(clean_birthday(data, current=current))
    if "industry" in present:
        out["industry"] = _option(data, "industry", OptionKind.INDUSTRY, label=_("行业"))
    if "source" in present:
        out["source"] = _option(data, "source", OptionKind.SOURCE, label=_("客户来源"))
    if "size" in present:
        out["size"] = _choice(data, "size", Size, label=_("规模"))
    if "relation" in present:
        out["relation"] = _choice(data, "relation", Relation, label=_("客户关系")) or Relation.CONSUMER
    if "need_status" in present:
        out["need_status"] = _choice(data, "need_status", NeedStatus, label=_("需求状态")) or (
            NeedStatus.POTENTIAL
        )
    if "screened" in present:
        out["screened"] = _bool(data, "screened")
    if "tags" in present:
        out["tags"] = data.get("tags")
    if "owner" in present and data.get("owner") not in (None, ""):
        owner = data["owner"]
        if not isinstance(owner, User):
            try:
                owner = User.objects.filter(pk=int(owner), is_active=True).first()
            except (TypeError, ValueError):
                owner = None
        if owner is None:
            raise ValidationError(_("负责人不存在或已停用"), field="owner")
        out["owner"] = owner
    elif "owner" in present:
        out["owner"] = None
    return out


def clean_contact(
    data: dict[str, Any], *, partial: bool = False, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Clean a contact payload; for a partial update ``current`` holds the stored birthday fields."""
    reject_unknown(data, CONTACT_FIELDS)
    present = set(data) if partial else CONTACT_FIELDS
    out: dict[str, Any] = {}
    if "name" in present:
        out["name"] = _text(data, "name", required=True, label=_("姓名"))
        if len(out["name"]) > 60:
            raise ValidationError(_("姓名不能超过 60 个字符"), field="name")
    for key in ("position", "department", "wechat", "notes"):
        if key in present:
            out[key] = _text(data, key)
    if "gender" in present:
        out["gender"] = _choice(data, "gender", Gender, label=_("性别"))
    if "mobile" in present:
        out["mobile"] = normalize_mobile(data.get("mobile") or "", field="mobile")
    if "phone" in present:
        out["phone"] = normalize_phone(data.get("phone") or "", field="phone")
    if "email" in present:
        out["email"] = _email(data)
    if present & set(BIRTHDAY_FIELDS):
        out.update(clean_birthday(data, current=current))
    if "is_primary" in present:
        out["is_primary"] = _bool(data, "is_primary")
    if "reports_to" in present:
        out["reports_to"] = data.get("reports_to") or None
    return out
