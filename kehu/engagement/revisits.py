"""Regular revisits (定期回访, ENG-4): plans per customer class that turn into P&A tasks for the owners
of customers nobody has contacted for a while. ``kehu revisits`` runs ``revisit_generate`` daily.

Revisits after an order or after a resolved complaint: the sales and service domains (above this one)
call ``revisit_after_event`` when an order is placed or a complaint resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.events import diff, emit, emit_many
from kehu.customers.choices import DealStatus, Status, ValueTier
from kehu.customers.models import LIVE, Customer

from .choices import RevisitTrigger, TaskStatus
from .events import TaskChanged
from .models import RevisitPlan, Task

PLAN_FIELDS = {
    "name",
    "trigger",
    "is_active",
    "status",
    "value_tier",
    "deal_status",
    "every_days",
    "due_in_days",
    "task_title",
}
CLASS_FIELDS = (("status", Status), ("value_tier", ValueTier), ("deal_status", DealStatus))


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = sorted(set(data) - PLAN_FIELDS - {"_current_trigger"})
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    out: dict[str, Any] = {}
    for key, limit in (("name", 60), ("task_title", 200)):
        if key in data or not partial:
            text = str(data.get(key) or "").strip()
            if not text:
                raise ValidationError(_("%(f)s 不能为空"), field=key, params={"f": key})
            out[key] = text[:limit]
    for key, choices in CLASS_FIELDS:
        if key in data:
            value = data.get(key) or ""
            if value and value not in choices.values:
                raise ValidationError(_("筛选值“%(v)s”无效"), field=key, params={"v": value})
            out[key] = value
    if "trigger" in data or not partial:
        trigger = data.get("trigger") or RevisitTrigger.QUIET
        if trigger not in RevisitTrigger.values:
            raise ValidationError(_("触发方式“%(v)s”无效"), field="trigger", params={"v": trigger})
        out["trigger"] = trigger
    quiet = out.get("trigger", data.get("_current_trigger", RevisitTrigger.QUIET)) == RevisitTrigger.QUIET
    if not quiet:
        out["every_days"] = None  # events start these plans, not quiet days
    for key, low in (("every_days", 1), ("due_in_days", 0)):
        if key == "every_days" and not quiet:
            continue
        if key in data or (key == "every_days" and (not partial or "trigger" in out)):
            try:
                number = int(data.get(key))  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise ValidationError(_("%(f)s 必须是整数"), field=key, params={"f": key}) from exc
            if not low <= number <= 3650:
                raise ValidationError(
                    _("%(f)s 必须在 %(low)s 到 3650 之间"), field=key, params={"f": key, "low": low}
                )
            out[key] = number
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    return out


def _plan_event(by: User, verb: str, plan: RevisitPlan, changes: dict[str, Any]) -> TaskChanged:
    return TaskChanged(
        actor_id=by.pk, verb=verb, subject_type="revisit_plan", subject_id=plan.pk, subject_label=plan.name,
        changes=changes,
    )  # fmt: skip


@transaction.atomic
def revisit_plan_create(*, data: dict[str, Any], by: User) -> RevisitPlan:
    """A revisit plan (``interaction.manage``, a sales manager's tool)."""
    require(by, Perm.INTERACTION_MANAGE)
    cleaned = _clean(data, partial=False)
    if RevisitPlan.objects.filter(name=cleaned["name"]).exists():
        raise ValidationError(_("回访计划“%(n)s”已存在"), field="name", params={"n": cleaned["name"]})
    plan = RevisitPlan.objects.create(created_by=by, **cleaned)
    emit(_plan_event(by, "create", plan, diff({}, {k: str(v) for k, v in cleaned.items()})))
    return plan


@transaction.atomic
def revisit_plan_update(*, plan_id: int, version: int | None, data: dict[str, Any], by: User) -> RevisitPlan:
    require(by, Perm.INTERACTION_MANAGE)
    plan = RevisitPlan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(_("回访计划不存在"), field="id")
    cleaned = _clean({**data, "_current_trigger": plan.trigger}, partial=True)
    if "name" in cleaned and RevisitPlan.objects.filter(name=cleaned["name"]).exclude(pk=plan.pk).exists():
        raise ValidationError(_("回访计划“%(n)s”已存在"), field="name", params={"n": cleaned["name"]})
    before = {k: str(getattr(plan, k)) for k in cleaned}
    for key, value in cleaned.items():
        setattr(plan, key, value)
    plan.save_versioned(expected_version=version, fields=list(cleaned))
    emit(_plan_event(by, "update", plan, diff(before, {k: str(v) for k, v in cleaned.items()})))
    return plan


def revisit_plan_list(*, actor: User) -> list[RevisitPlan]:
    require(actor, Perm.INTERACTION_MANAGE)
    return list(RevisitPlan.objects.all())


def due_customers(plan: RevisitPlan, *, today: date) -> Any:
    """Owned customers of the plan's class not contacted for ``every_days`` (or never, and held that
    long), without an open task of this plan."""
    assert plan.every_days is not None
    cut = timezone.make_aware(
        datetime.combine(today - timedelta(days=plan.every_days - 1), datetime.min.time())
    )
    rows = _of_class(plan, Customer.objects.filter(LIVE, owner__isnull=False))
    quiet = (
        Q(last_contact_at__lt=cut)
        | Q(last_contact_at__isnull=True, owner_since__lt=cut)
        | Q(last_contact_at__isnull=True, owner_since__isnull=True, created_at__lt=cut)
    )
    open_ids = Task.objects.filter(revisit_plan=plan, status=TaskStatus.OPEN, deleted_at__isnull=True).values(
        "customer_id"
    )
    return rows.filter(quiet).exclude(pk__in=open_ids)


def _of_class(plan: RevisitPlan, rows: Any) -> Any:
    for key, _choices in CLASS_FIELDS:
        value = getattr(plan, key)
        if value:
            rows = rows.filter(**{key: value})
    return rows


@dataclass(frozen=True)
class RevisitResult:
    created: int


def revisit_generate(
    *, by: User | None = None, today: date | None = None, batch: int = 2000
) -> RevisitResult:
    """Create the revisit tasks that are due (ENG-4): one per customer and plan, for the customer's
    owner, audited; running it twice creates nothing new while the tasks are open."""
    if by is not None:
        require(by, Perm.INTERACTION_MANAGE)
    today = today or timezone.localdate()
    created = 0
    for plan in RevisitPlan.objects.filter(is_active=True, trigger=RevisitTrigger.QUIET):
        ids = list(due_customers(plan, today=today).order_by("id").values_list("id", "owner_id", "name"))
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            with transaction.atomic():
                tasks = Task.objects.bulk_create(
                    [
                        Task(
                            title=plan.task_title, description=str(_("定期回访：%(p)s") % {"p": plan.name}),
                            customer_id=customer_id, owner_id=owner_id, due_on=today + timedelta(days=plan.due_in_days),
                            created_by_id=plan.created_by_id, revisit_plan=plan,
                        )
                        for customer_id, owner_id, _name in chunk
                    ]
                )  # fmt: skip
                emit_many(
                    [
                        TaskChanged(
                            actor_id=by.pk if by else None, verb="create", subject_type="task", subject_id=t.pk,
                            subject_label=t.title, customer_id=t.customer_id,
                            changes={"revisit_plan": [None, plan.name], "due_on": [None, t.due_on.isoformat()]},
                        )
                        for t in tasks
                    ]
                )  # fmt: skip
            created += len(chunk)
    return RevisitResult(created=created)


EVENT_TRIGGERS = (RevisitTrigger.AFTER_ORDER, RevisitTrigger.AFTER_COMPLAINT)


def revisit_after_event(
    *, trigger: str, customer_id: int, on: date | None = None, about: str = ""
) -> RevisitResult:
    """An order was placed or a complaint resolved for ``customer_id`` (ENG-4): every active plan for that
    event whose class the customer is in gives the customer's owner a revisit task due ``due_in_days``
    after ``on``, unless one of that plan's tasks is still open for the customer. Called by the sales and
    service domains as the system (no actor: the event already happened); audited like the daily run."""
    if trigger not in EVENT_TRIGGERS:
        raise ValidationError(_("触发方式“%(v)s”无效"), field="trigger", params={"v": trigger})
    on = on or timezone.localdate()
    created = 0
    with transaction.atomic():
        for plan in RevisitPlan.objects.filter(is_active=True, trigger=trigger):
            customer = _of_class(
                plan, Customer.objects.filter(LIVE, owner__isnull=False, pk=customer_id)
            ).first()
            if customer is None:
                continue
            if Task.objects.filter(
                revisit_plan=plan, customer=customer, status=TaskStatus.OPEN, deleted_at__isnull=True
            ).exists():
                continue
            label = RevisitTrigger(trigger).label
            task = Task.objects.create(
                title=plan.task_title, customer=customer, owner_id=customer.owner_id,
                due_on=on + timedelta(days=plan.due_in_days), created_by_id=plan.created_by_id, revisit_plan=plan,
                description=str(_("%(event)s回访：%(p)s %(about)s") % {"event": label, "p": plan.name, "about": about}).strip(),
            )  # fmt: skip
            emit(
                TaskChanged(
                    actor_id=None, verb="create", subject_type="task", subject_id=task.pk, subject_label=task.title,
                    customer_id=customer.pk,
                    changes={"revisit_plan": [None, plan.name], "due_on": [None, task.due_on.isoformat()]},
                )
            )  # fmt: skip
            created += 1
    return RevisitResult(created=created)


@dataclass(frozen=True)
class SystemTask:
    """A task the system gives a customer's owner (no person asked): see :func:`system_tasks_create`."""

    customer_id: int
    owner_id: int
    title: str
    description: str
    due_on: date


def system_tasks_create(*, source: str, tasks: list[SystemTask]) -> int:
    """Put tasks on owners' P&A lists for a rule that fired (e.g. ``source="winback"``, the churn
    warning of ANA-4): created by the system as the owner's own task, audited without an actor, and
    skipped for a customer that still has an open task of the same source. Returns how many were made."""
    return len(_system_tasks(source, tasks))


def system_task_create(*, source: str, task: SystemTask) -> Task | None:
    """One system task (e.g. ``source="complaint"``: the revisit of a resolved complaint, SVC-2), returned
    so the caller can link it; ``None`` when the customer still has an open task of that source."""
    made = _system_tasks(source, [task])
    return made[0] if made else None


def _system_tasks(source: str, tasks: list[SystemTask]) -> list[Task]:
    if not source:
        raise ValidationError(_("任务来源不能为空"), field="source")
    if not tasks:
        return []
    wanted = {t.customer_id for t in tasks}
    busy = set(
        Task.objects.filter(
            source=source, status=TaskStatus.OPEN, deleted_at__isnull=True, customer_id__in=wanted
        ).values_list("customer_id", flat=True)
    )
    made = [
        Task(
            title=t.title[:200],
            description=t.description,
            customer_id=t.customer_id,
            owner_id=t.owner_id,
            due_on=t.due_on,
            created_by_id=t.owner_id,
            source=source,
        )
        for t in tasks
        if t.customer_id not in busy
    ]
    with transaction.atomic():
        Task.objects.bulk_create(made, batch_size=1000)
        emit_many(
            [
                TaskChanged(
                    actor_id=None,
                    verb="create",
                    subject_type="task",
                    subject_id=task.pk,
                    subject_label=task.title,
                    customer_id=task.customer_id,
                    changes={"source": [None, source], "due_on": [None, task.due_on.isoformat()]},
                )
                for task in made
            ]
        )
    return made
