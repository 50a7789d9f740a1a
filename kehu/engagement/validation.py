"""Input checks of interactions (ENG-1): each error names its field, in Chinese and English."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import NotFound, ValidationError
from kehu.customers.choices import OptionKind
from kehu.customers.models import Contact, Customer, Option
from kehu.customers.validation import reject_unknown

from .choices import Direction

INTERACTION_FIELDS = {
    "channel",
    "direction",
    "occurred_at",
    "contact",
    "summary",
    "outcome",
    "next_step",
    "next_follow_up_on",
}
LIMITS = {"summary": 5000, "outcome": 5000, "next_step": 200}
LABELS = {
    "channel": _("沟通渠道"),
    "direction": _("方向"),
    "occurred_at": _("沟通时间"),
    "contact": _("联系人"),
    "summary": _("沟通内容"),
    "outcome": _("结果"),
    "next_step": _("下一步"),
    "next_follow_up_on": _("下次跟进日期"),
}
# A clock a few minutes fast on the user's phone is not a future interaction.
FUTURE_TOLERANCE = timedelta(minutes=10)


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("%(label)s必须是文本"), field=key, params={"label": LABELS[key]})
    value = value.strip()
    if required and not value:
        raise ValidationError(_("%(label)s不能为空"), field=key, params={"label": LABELS[key]})
    if len(value) > LIMITS[key]:
        raise ValidationError(
            _("%(label)s不能超过 %(n)s 个字符"), field=key, params={"label": LABELS[key], "n": LIMITS[key]}
        )
    return value


def _moment(data: dict[str, Any]) -> datetime:
    value = data.get("occurred_at")
    if value in (None, ""):
        raise ValidationError(
            _("%(label)s不能为空"), field="occurred_at", params={"label": LABELS["occurred_at"]}
        )
    moment = value if isinstance(value, datetime) else parse_datetime(str(value).strip().replace(" ", "T"))
    if moment is None:
        raise ValidationError(_("沟通时间不是有效的日期时间（YYYY-MM-DD HH:MM）"), field="occurred_at")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)  # typed on a page: the user's local time (Asia/Shanghai)
    if moment > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError(
            _("沟通时间不能晚于现在（计划中的沟通请填写下次跟进日期）"), field="occurred_at"
        )
    return moment


def _next_date(data: dict[str, Any]) -> date | None:
    value = data.get("next_follow_up_on")
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValidationError(_("下次跟进日期不是有效日期（YYYY-MM-DD）"), field="next_follow_up_on") from exc


def clean_interaction(
    data: dict[str, Any], *, customer: Customer, partial: bool = False, current: Any = None
) -> dict[str, Any]:
    """Checked values of an interaction of ``customer``; with ``partial`` only the keys given."""
    reject_unknown(data, INTERACTION_FIELDS)
    present = set(data) if partial else INTERACTION_FIELDS
    out: dict[str, Any] = {}
    if "channel" in present:
        code = data.get("channel")
        if code in (None, ""):
            raise ValidationError(
                _("%(label)s不能为空"), field="channel", params={"label": LABELS["channel"]}
            )
        channel = code if isinstance(code, Option) else None
        if channel is None:
            channel = Option.objects.filter(kind=OptionKind.CHANNEL, code=str(code), is_active=True).first()
        if channel is None or channel.kind != OptionKind.CHANNEL:
            raise ValidationError(_("沟通渠道“%(v)s”不存在"), field="channel", params={"v": code})
        out["channel"] = channel
    if "direction" in present:
        direction = data.get("direction") or Direction.OUTBOUND
        if direction not in Direction.values:
            raise ValidationError(_("方向的取值“%(v)s”无效"), field="direction", params={"v": direction})
        out["direction"] = direction
    if "occurred_at" in present:
        out["occurred_at"] = _moment(data)
    if "contact" in present:
        value = data.get("contact")
        contact = None
        if value not in (None, ""):
            contact_id = value.pk if isinstance(value, Contact) else value
            try:
                contact_id = int(contact_id)
            except (TypeError, ValueError) as exc:
                raise ValidationError(_("联系人必须是该客户的联系人"), field="contact") from exc
            contact = Contact.objects.filter(
                pk=contact_id, customer=customer, deleted_at__isnull=True
            ).first()
            if contact is None:
                raise ValidationError(_("联系人必须是该客户的联系人"), field="contact")
        out["contact"] = contact
    if "summary" in present:
        out["summary"] = _text(data, "summary", required=True)
    for key in ("outcome", "next_step"):
        if key in present:
            out[key] = _text(data, key)
    if "next_follow_up_on" in present:
        out["next_follow_up_on"] = _next_date(data)
    occurred = out.get("occurred_at") or getattr(current, "occurred_at", None)
    next_on = out.get("next_follow_up_on", getattr(current, "next_follow_up_on", None))
    if occurred and next_on and next_on < timezone.localtime(occurred).date():
        raise ValidationError(_("下次跟进日期不能早于沟通日期"), field="next_follow_up_on")
    return out


TASK_FIELDS = {"title", "description", "customer", "owner", "due_on"}
TASK_LABELS = {
    "title": _("任务"),
    "description": _("说明"),
    "customer": _("客户"),
    "owner": _("负责人"),
    "due_on": _("截止日期"),
    "result": _("执行结果"),
}


def clean_task(
    data: dict[str, Any], *, actor: Any, partial: bool = False, creating: bool = False
) -> dict[str, Any]:
    """Checked values of a P&A task (ENG-3). The owner must be the actor or someone in the actor's data
    scope (a manager assigns to the team); the customer must be one the actor can see."""
    from kehu.access.models import User
    from kehu.access.scope import owner_ids_in_scope
    from kehu.customers.selectors import customer_get

    reject_unknown(data, TASK_FIELDS)
    present = set(data) if partial else TASK_FIELDS
    out: dict[str, Any] = {}
    if "title" in present:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationError(
                _("%(label)s不能为空"), field="title", params={"label": TASK_LABELS["title"]}
            )
        if len(title.strip()) > 200:
            raise ValidationError(_("%(label)s不能超过 %(n)s 个字符"), field="title",
                                  params={"label": TASK_LABELS["title"], "n": 200})  # fmt: skip
        out["title"] = title.strip()
    if "description" in present:
        text = data.get("description") or ""
        if not isinstance(text, str) or len(text) > 4000:
            raise ValidationError(_("%(label)s不能超过 %(n)s 个字符"), field="description",
                                  params={"label": TASK_LABELS["description"], "n": 4000})  # fmt: skip
        out["description"] = text.strip()
    if "due_on" in present:
        value = data.get("due_on")
        if value in (None, ""):
            raise ValidationError(
                _("%(label)s不能为空"), field="due_on", params={"label": TASK_LABELS["due_on"]}
            )
        try:
            due = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ValidationError(_("截止日期不是有效日期（YYYY-MM-DD）"), field="due_on") from exc
        if creating and due < timezone.localdate():
            raise ValidationError(_("截止日期不能早于今天"), field="due_on")
        out["due_on"] = due
    if "owner" in present:
        value = data.get("owner")
        if value in (None, ""):
            owner = actor
        else:
            try:
                owner = User.objects.filter(pk=int(getattr(value, "pk", value)), is_active=True).first()
            except (TypeError, ValueError):
                owner = None
            scope = owner_ids_in_scope(actor)
            if owner is None or (owner.pk != actor.pk and scope is not None and owner.pk not in scope):
                raise ValidationError(_("只能把任务交给自己或数据范围内的同事"), field="owner")
        out["owner"] = owner
    if "customer" in present:
        value = data.get("customer")
        if value in (None, ""):
            out["customer"] = None
        else:
            try:
                customer_id = int(getattr(value, "pk", value))
            except (TypeError, ValueError) as exc:
                raise ValidationError(_("客户必须是数字ID"), field="customer") from exc
            try:
                out["customer"] = customer_get(actor=actor, customer_id=customer_id)
            except NotFound as exc:  # outside the scope looks the same as missing
                raise ValidationError(_("客户不存在或您无权查看"), field="customer") from exc
    return out
