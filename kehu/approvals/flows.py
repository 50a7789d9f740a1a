"""Configuring approval flows (审批流程设置, issue 4): per document type and department, with an
optional amount threshold and ordered steps. Needs ``approval.manage``. Editing a flow replaces its
steps; requests already running keep the plan they were submitted with."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.events import diff, emit

from . import registry
from .choices import StepKind
from .events import ApprovalFlowChanged
from .models import ApprovalFlow, ApprovalStep
from .rules import step_users_required

FLOW_FIELDS = frozenset({"document_type", "department", "name", "min_amount", "is_active", "steps"})
MAX_STEPS = 10


def _event(by: User | None, verb: str, flow: ApprovalFlow, changes: dict[str, Any] | None = None) -> Any:
    return ApprovalFlowChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="approval_flow",
        subject_id=flow.pk,
        subject_label=flow.name[:200],
        changes=changes or {},
    )


def _snapshot(flow: ApprovalFlow) -> dict[str, Any]:
    steps = [
        f"{s.order}. {s.get_kind_display()}"
        + (f" ({', '.join(u.label for u in s.users.order_by('id'))})" if step_users_required(s.kind) else "")
        for s in flow.steps.order_by("order")
    ]
    return {
        "document_type": flow.document_type,
        "department": flow.department.name if flow.department_id and flow.department else None,
        "name": flow.name,
        "min_amount": str(flow.min_amount) if flow.min_amount is not None else None,
        "is_active": flow.is_active,
        "steps": steps,
    }


def _id(value: Any, field: str) -> int:
    if isinstance(value, (User, Department)):
        return int(value.pk)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("%(f)s 必须是数字ID"), field=field, params={"f": field}) from None


def _clean_steps(raw: Any) -> list[tuple[str, list[User]]]:
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ValidationError(_("请至少设置一个审批步骤"), field="steps")
    if len(raw) > MAX_STEPS:
        raise ValidationError(_("审批步骤最多 %(n)s 步"), field="steps", params={"n": MAX_STEPS})
    steps: list[tuple[str, list[User]]] = []
    for number, step in enumerate(raw, 1):
        kind = str((step or {}).get("kind") or "")
        if kind not in StepKind.values:
            raise ValidationError(
                _("第 %(n)s 步的审批方式无效（可选：supervisor, any_of, all_of）"),
                field="steps",
                params={"n": number},
            )
        users: list[User] = []
        if step_users_required(kind):
            ids = sorted({_id(u, "steps") for u in (step.get("users") or [])})
            users = list(User.objects.filter(pk__in=ids, is_active=True))
            if not ids:
                raise ValidationError(_("第 %(n)s 步请选择审批人"), field="steps", params={"n": number})
            if len(users) != len(ids):
                raise ValidationError(
                    _("第 %(n)s 步的审批人不存在或已停用"), field="steps", params={"n": number}
                )
        steps.append((kind, users))
    return steps


def _clean(data: dict[str, Any], *, current: ApprovalFlow | None = None) -> tuple[dict[str, Any], Any]:
    """The flow's fields and its steps (None: unchanged) from ``data``; bad input names the field."""
    unknown = sorted(set(data) - FLOW_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    out: dict[str, Any] = {}
    if current is None or "document_type" in data:
        out["document_type"] = registry.document_type(str(data.get("document_type") or "")).key
    if current is None or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            raise ValidationError(_("请填写流程名称"), field="name")
        out["name"] = name[:80]
    if "department" in data:
        department = data.get("department")
        if department in (None, ""):
            out["department"] = None
        else:
            found = Department.objects.filter(pk=_id(department, "department")).first()
            if found is None:
                raise ValidationError(_("部门不存在"), field="department")
            out["department"] = found
    if "min_amount" in data:
        raw = data.get("min_amount")
        if raw in (None, ""):
            out["min_amount"] = None
        else:
            try:
                amount = Decimal(str(raw))
            except InvalidOperation:
                raise ValidationError(_("起始金额格式不正确"), field="min_amount") from None
            if not amount.is_finite() or amount < 0:
                raise ValidationError(_("起始金额不能为负数"), field="min_amount")
            out["min_amount"] = amount.quantize(Decimal("0.01"))
    if "is_active" in data:
        out["is_active"] = bool(data.get("is_active"))
    steps = _clean_steps(data.get("steps")) if current is None or "steps" in data else None
    return out, steps


def _write_steps(flow: ApprovalFlow, steps: list[tuple[str, list[User]]]) -> None:
    flow.steps.all().delete()
    for order, (kind, users) in enumerate(steps, 1):
        step = ApprovalStep.objects.create(flow=flow, order=order, kind=kind)
        if users:
            step.users.set(users)


def _flow(flow_id: int) -> ApprovalFlow:
    flow = ApprovalFlow.objects.select_related("department").filter(pk=flow_id).first()
    if flow is None:
        raise NotFound(_("审批流程不存在"), field="flow_id", code="flow_not_found")
    return flow


@transaction.atomic
def approval_flow_create(*, data: dict[str, Any], by: User) -> ApprovalFlow:
    """A new flow: document type, optional department (none: company-wide), name, optional amount
    threshold, steps ``[{"kind": "supervisor"|"any_of"|"all_of", "users": [ids]}]``."""
    require(by, Perm.APPROVAL_MANAGE)
    fields, steps = _clean(data)
    flow = ApprovalFlow.objects.create(created_by=by, **fields)
    _write_steps(flow, steps)
    emit(_event(by, "create", flow, diff({}, _snapshot(flow))))
    return flow


@transaction.atomic
def approval_flow_update(
    *, flow_id: int, version: int | None, data: dict[str, Any], by: User
) -> ApprovalFlow:
    """Change a flow (a stale ``version`` is refused); given ``steps`` replace the old ones. Requests
    under review keep the steps they were submitted with."""
    require(by, Perm.APPROVAL_MANAGE)
    flow = _flow(flow_id)
    before = _snapshot(flow)
    fields, steps = _clean(data, current=flow)
    for key, value in fields.items():
        setattr(flow, key, value)
    flow.save_versioned(expected_version=version, fields=list(fields))
    if steps is not None:
        _write_steps(flow, steps)
    changes = diff(before, _snapshot(flow))
    if changes:
        emit(_event(by, "update", flow, changes))
    return flow


@transaction.atomic
def approval_flow_deactivate(*, flow_id: int, version: int | None = None, by: User) -> ApprovalFlow:
    """Stop using a flow for new submissions; requests under review finish with their plan."""
    require(by, Perm.APPROVAL_MANAGE)
    flow = _flow(flow_id)
    if flow.is_active:
        flow.is_active = False
        flow.save_versioned(expected_version=version, fields=["is_active"])
        emit(_event(by, "deactivate", flow, {"is_active": [True, False]}))
    return flow
