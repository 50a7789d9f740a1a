"""Service settings (``service.settings``): teams and their members, SLA policies (SVC-5), escalation
rules (SVC-2), the working calendar's days and the service-wide settings. Pages and API call these."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.events import diff, emit
from kehu.customers.choices import ValueTier

from . import clocks
from .choices import (
    Category,
    Clock,
    Distribution,
    EscalationAction,
    EscalationWhen,
    Priority,
    TicketKind,
    TimeBasis,
)
from .events import ServiceSettingsChanged
from .models import CalendarDay, EscalationRule, ServiceSettings, ServiceTeam, SlaPolicy, TeamMember
from .rules import normalise_windows

MAX_MINUTES = 60 * 24 * 365


def _event(
    by: User, verb: str, subject_type: str, pk: int | None, label: str, changes: dict[str, Any]
) -> Any:
    return ServiceSettingsChanged(
        actor_id=by.pk, verb=verb, subject_type=subject_type, subject_id=pk, subject_label=label[:200],
        changes=changes,
    )  # fmt: skip


def _unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})


def _name(data: dict[str, Any], *, limit: int = 60) -> str:
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationError(_("名称不能为空"), field="name")
    if len(name) > limit:
        raise ValidationError(_("名称不能超过 %(n)s 个字"), field="name", params={"n": limit})
    return name


def _optional_choice(data: dict[str, Any], key: str, values: list[str]) -> str:
    value = str(data.get(key) or "")
    if value and value not in values:
        raise ValidationError(_("%(f)s 的取值“%(v)s”无效"), field=key, params={"f": key, "v": value})
    return value


def _int(data: dict[str, Any], key: str, *, low: int, high: int) -> int:
    try:
        value = int(data.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("%(f)s 必须是整数"), field=key, params={"f": key}) from exc
    if not low <= value <= high:
        raise ValidationError(
            _("%(f)s 必须在 %(low)s 到 %(high)s 之间"), field=key, params={"f": key, "low": low, "high": high}
        )
    return value


def _ref(data: dict[str, Any], key: str) -> int | None:
    """An optional reference by id (blank: none); text that is no id is refused naming the field, rather
    than reaching the database as a lookup that cannot be made."""
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("%(f)s 必须是整数"), field=key, params={"f": key}) from exc


def _apply(
    row: Any, cleaned: dict[str, Any], *, version: int | None, by: User, verb: str, subject: str
) -> Any:
    before = {k: getattr(row, k) for k in cleaned}
    for key, value in cleaned.items():
        setattr(row, key, value)
    if row.pk is None:
        row.save()
        changes = diff({}, cleaned)
    else:
        row.save_versioned(expected_version=version, fields=[k.removesuffix("_id") for k in cleaned])
        changes = diff(before, cleaned)
    emit(_event(by, verb, subject, row.pk, str(row), changes))
    return row


# ---- Teams (SVC-4) ---------------------------------------------------------------------------------

TEAM_FIELDS = {"name", "supervisor_id", "distribution", "kinds", "position", "is_active"}


def _clean_team(data: dict[str, Any], *, partial: bool, team: ServiceTeam | None) -> dict[str, Any]:
    _unknown(data, TEAM_FIELDS)
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        out["name"] = _name(data)
        if ServiceTeam.objects.filter(name=out["name"]).exclude(pk=team.pk if team else 0).exists():
            raise ValidationError(_("客服组“%(n)s”已存在"), field="name", params={"n": out["name"]})
    if "supervisor_id" in data:
        supervisor_id = _ref(data, "supervisor_id")
        if supervisor_id is not None:
            user = User.objects.filter(pk=supervisor_id, is_active=True).first()
            if user is None or not can(user, Perm.TICKET_MANAGE):
                raise ValidationError(_("主管不存在、已停用或没有管理工单的权限"), field="supervisor_id")
            out["supervisor_id"] = user.pk
        else:
            out["supervisor_id"] = None
    if "distribution" in data or not partial:
        out["distribution"] = (
            _optional_choice(data, "distribution", Distribution.values) or Distribution.ROUND_ROBIN
        )
    if "kinds" in data:
        kinds = data.get("kinds") or []
        if not isinstance(kinds, list) or any(k not in TicketKind.values for k in kinds):
            raise ValidationError(_("受理的工单类型无效"), field="kinds")
        out["kinds"] = sorted(set(kinds))
    if "position" in data:
        out["position"] = _int(data, "position", low=0, high=999)
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    return out


@transaction.atomic
def team_create(*, data: dict[str, Any], by: User) -> ServiceTeam:
    require(by, Perm.SERVICE_SETTINGS)
    return _apply(ServiceTeam(), _clean_team(data, partial=False, team=None), version=None, by=by, verb="create",
                  subject="service_team")  # fmt: skip


@transaction.atomic
def team_update(*, team_id: int, version: int | None, data: dict[str, Any], by: User) -> ServiceTeam:
    require(by, Perm.SERVICE_SETTINGS)
    team = ServiceTeam.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("客服组不存在"), field="id")
    return _apply(team, _clean_team(data, partial=True, team=team), version=version, by=by, verb="update",
                  subject="service_team")  # fmt: skip


@transaction.atomic
def team_member_set(*, team_id: int, user_id: int, skills: list[str], by: User) -> TeamMember:
    """Put an agent in a team (or change their skills): they must be able to work tickets."""
    require(by, Perm.SERVICE_SETTINGS)
    team = ServiceTeam.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("客服组不存在"), field="team_id")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not can(user, Perm.TICKET_EDIT):
        raise ValidationError(_("该用户不存在、已停用或没有处理工单的权限"), field="user_id")
    if not isinstance(skills, list) or any(s not in Category.values for s in skills):
        raise ValidationError(_("技能必须是工单类别"), field="skills")
    member, created = TeamMember.objects.get_or_create(
        team=team, user=user, defaults={"skills": sorted(set(skills))}
    )
    before = [] if created else list(member.skills)
    if not created:
        member.skills = sorted(set(skills))
        member.save(update_fields=["skills"])
    emit(_event(by, "member_set", "service_team", team.pk, team.name,
                {"member": [None, user.display_name], "skills": [before, member.skills]}))  # fmt: skip
    return member


@transaction.atomic
def team_member_remove(*, team_id: int, user_id: int, by: User) -> None:
    require(by, Perm.SERVICE_SETTINGS)
    member = (
        TeamMember.objects.filter(team_id=team_id, user_id=user_id).select_related("team", "user").first()
    )
    if member is None:
        raise NotFound(_("该客服不在此组"), field="user_id")
    member.delete()
    emit(_event(by, "member_remove", "service_team", member.team_id, member.team.name,
                {"member": [member.user.display_name, None]}))  # fmt: skip


# ---- SLA policies (SVC-5) --------------------------------------------------------------------------

POLICY_FIELDS = {
    "name", "kind", "category", "value_tier", "priority", "first_response_minutes", "resolution_minutes",
    "basis", "position", "is_active",
}  # fmt: skip


def _clean_policy(data: dict[str, Any], *, partial: bool, policy: SlaPolicy | None) -> dict[str, Any]:
    _unknown(data, POLICY_FIELDS)
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        out["name"] = _name(data)
        if SlaPolicy.objects.filter(name=out["name"]).exclude(pk=policy.pk if policy else 0).exists():
            raise ValidationError(_("SLA 策略“%(n)s”已存在"), field="name", params={"n": out["name"]})
    for key, values in (
        ("kind", TicketKind.values), ("category", Category.values), ("value_tier", ValueTier.values),
        ("priority", Priority.values),
    ):  # fmt: skip
        if key in data:
            out[key] = _optional_choice(data, key, values)
    for key in ("first_response_minutes", "resolution_minutes"):
        if key in data or not partial:
            out[key] = _int(data, key, low=1, high=MAX_MINUTES)
    first = out.get("first_response_minutes", getattr(policy, "first_response_minutes", 0))
    resolution = out.get("resolution_minutes", getattr(policy, "resolution_minutes", 0))
    if first and resolution and first > resolution:
        raise ValidationError(_("首次响应时限不能长于解决时限"), field="first_response_minutes")
    if "basis" in data or not partial:
        out["basis"] = _optional_choice(data, "basis", TimeBasis.values) or TimeBasis.CALENDAR
    if "position" in data:
        out["position"] = _int(data, "position", low=0, high=999)
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    kind = out.get("kind", getattr(policy, "kind", ""))
    category = out.get("category", getattr(policy, "category", ""))
    if kind and category:
        from .choices import KIND_CATEGORIES

        if category not in KIND_CATEGORIES[kind]:
            raise ValidationError(_("该类别不属于所选工单类型"), field="category")
    return out


@transaction.atomic
def policy_create(*, data: dict[str, Any], by: User) -> SlaPolicy:
    require(by, Perm.SERVICE_SETTINGS)
    return _apply(SlaPolicy(), _clean_policy(data, partial=False, policy=None), version=None, by=by, verb="create",
                  subject="sla_policy")  # fmt: skip


@transaction.atomic
def policy_update(*, policy_id: int, version: int | None, data: dict[str, Any], by: User) -> SlaPolicy:
    """Change a policy: tickets already open keep the deadlines they were given."""
    require(by, Perm.SERVICE_SETTINGS)
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("SLA 策略不存在"), field="id")
    return _apply(policy, _clean_policy(data, partial=True, policy=policy), version=version, by=by, verb="update",
                  subject="sla_policy")  # fmt: skip


# ---- Escalation rules (SVC-2) ----------------------------------------------------------------------

RULE_FIELDS = {"name", "kind", "clock", "when", "minutes", "action", "is_active"}


def _clean_rule(data: dict[str, Any], *, partial: bool, rule: EscalationRule | None) -> dict[str, Any]:
    _unknown(data, RULE_FIELDS)
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        out["name"] = _name(data)
        if EscalationRule.objects.filter(name=out["name"]).exclude(pk=rule.pk if rule else 0).exists():
            raise ValidationError(_("升级规则“%(n)s”已存在"), field="name", params={"n": out["name"]})
    if "kind" in data:
        out["kind"] = _optional_choice(data, "kind", TicketKind.values)
    for key, values in (
        ("clock", Clock.values),
        ("when", EscalationWhen.values),
        ("action", EscalationAction.values),
    ):
        if key in data or not partial:
            value = _optional_choice(data, key, values)
            if not value:
                raise ValidationError(_("%(f)s 不能为空"), field=key, params={"f": key})
            out[key] = value
    if "minutes" in data or not partial:
        out["minutes"] = _int(data, "minutes", low=0, high=MAX_MINUTES)
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    return out


@transaction.atomic
def escalation_rule_create(*, data: dict[str, Any], by: User) -> EscalationRule:
    require(by, Perm.SERVICE_SETTINGS)
    return _apply(EscalationRule(), _clean_rule(data, partial=False, rule=None), version=None, by=by,
                  verb="create", subject="escalation_rule")  # fmt: skip


@transaction.atomic
def escalation_rule_update(
    *, rule_id: int, version: int | None, data: dict[str, Any], by: User
) -> EscalationRule:
    require(by, Perm.SERVICE_SETTINGS)
    rule = EscalationRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("升级规则不存在"), field="id")
    return _apply(rule, _clean_rule(data, partial=True, rule=rule), version=version, by=by, verb="update",
                  subject="escalation_rule")  # fmt: skip


# ---- The working calendar and the settings (SVC-5) ------------------------------------------------


@transaction.atomic
def calendar_day_set(*, day: date, is_workday: bool, name: str, by: User) -> CalendarDay:
    """Enter a day off or a working day (调休) — next year's arrangement once published; it wins over the
    package data and the statutory rule. Open tickets keep their deadlines."""
    require(by, Perm.SERVICE_SETTINGS)
    if not isinstance(day, date):
        raise ValidationError(_("日期无效"), field="day")
    name = (name or "").strip()[:40]
    row, _created = CalendarDay.objects.update_or_create(
        day=day,
        defaults={
            "is_workday": bool(is_workday),
            "name": name,
            "created_by": by,
            "created_at": timezone.now(),
        },
    )
    emit(_event(by, "calendar_set", "calendar_day", row.pk, str(day),
                {"is_workday": [None, bool(is_workday)], "name": [None, name]}))  # fmt: skip
    return row


@transaction.atomic
def calendar_day_remove(*, day: date, by: User) -> None:
    require(by, Perm.SERVICE_SETTINGS)
    row = CalendarDay.objects.filter(day=day).first()
    if row is None:
        raise NotFound(_("该日期没有自定义设置"), field="day")
    row.delete()
    emit(_event(by, "calendar_remove", "calendar_day", None, str(day), {"day": [str(day), None]}))


SETTINGS_FIELDS = {"work_windows", "reopen_days", "soon_minutes", "local_area_code", "follow_up_resolved_calls",
                   "default_team_id"}  # fmt: skip


@transaction.atomic
def service_settings_update(*, version: int | None, data: dict[str, Any], by: User) -> ServiceSettings:
    require(by, Perm.SERVICE_SETTINGS)
    _unknown(data, SETTINGS_FIELDS)
    row = clocks.settings_get()
    out: dict[str, Any] = {}
    if "work_windows" in data:
        try:
            out["work_windows"] = [list(w) for w in normalise_windows(data["work_windows"])]
        except ValueError as exc:
            raise ValidationError(
                _('工作时段格式应为 [["09:00", "12:00"], …]，开始早于结束且互不重叠'), field="work_windows"
            ) from exc
    if "reopen_days" in data:
        out["reopen_days"] = _int(data, "reopen_days", low=0, high=365)
    if "soon_minutes" in data:
        out["soon_minutes"] = _int(data, "soon_minutes", low=1, high=60 * 24 * 7)
    if "local_area_code" in data:
        code = str(data.get("local_area_code") or "").strip()
        if code and not (code.isdigit() and code.startswith("0") and 3 <= len(code) <= 4):
            raise ValidationError(_("区号应为 0 开头的 3–4 位数字，如 021、0571"), field="local_area_code")
        out["local_area_code"] = code
    if "follow_up_resolved_calls" in data:
        out["follow_up_resolved_calls"] = bool(data["follow_up_resolved_calls"])
    if "default_team_id" in data:
        team_id = _ref(data, "default_team_id")
        if team_id is not None and not ServiceTeam.objects.filter(pk=team_id).exists():
            raise ValidationError(_("客服组不存在"), field="default_team_id")
        out["default_team_id"] = team_id
    return _apply(row, out, version=version, by=by, verb="update", subject="service_settings")
