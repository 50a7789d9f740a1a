"""Reads of engagement. Every query starts from ``Interaction.objects.visible_to(actor)`` (SEC-1)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, filter_date, filter_id, paginate
from kehu.customers.choices import OptionKind
from kehu.customers.extensions import TimelineEntry
from kehu.customers.models import Customer, Option

from .choices import Direction, TaskStatus
from .models import Interaction, InteractionAttachment, Task

INTERACTION_FILTERS = {"customer", "channel", "direction", "author", "date_from", "date_to", "q"}
INTERACTION_SORTS = {"-occurred_at", "occurred_at"}


def channels(*, include_inactive: bool = False) -> list[Option]:
    qs = Option.objects.filter(kind=OptionKind.CHANNEL)
    return list(qs if include_inactive else qs.filter(is_active=True))


def _with_details(qs: Any) -> Any:
    return qs.select_related("customer", "contact", "channel", "created_by").prefetch_related(
        Prefetch("attachments", queryset=InteractionAttachment.objects.order_by("uploaded_at", "id"))
    )


def interaction_list(
    *,
    actor: User,
    customer: Customer | None = None,
    filters: dict[str, Any] | None = None,
    sort: str = "-occurred_at",
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """Interactions on customers ``actor`` may see, newest first; filters name their field when bad."""
    filters = clean_filters(filters, INTERACTION_FILTERS)
    if sort not in INTERACTION_SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    qs = Interaction.objects.visible_to(actor)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if "customer" in filters:
        qs = qs.filter(customer_id=filter_id(filters, "customer"))
    if "author" in filters:
        qs = qs.filter(created_by_id=filter_id(filters, "author"))
    if "channel" in filters:
        qs = qs.filter(channel__kind=OptionKind.CHANNEL, channel__code=filters["channel"])
    if "direction" in filters:
        if filters["direction"] not in Direction.values:
            raise ValidationError(
                _("筛选值“%(v)s”无效"), field="direction", params={"v": filters["direction"]}
            )
        qs = qs.filter(direction=filters["direction"])
    for key, lookup in (("date_from", "occurred_at__date__gte"), ("date_to", "occurred_at__date__lte")):
        if key in filters:
            qs = qs.filter(**{lookup: filter_date(filters, key)})
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(Q(summary__icontains=text) | Q(outcome__icontains=text) | Q(next_step__icontains=text))
    return paginate(
        _with_details(qs).order_by(sort, "-id" if sort.startswith("-") else "id"), limit=limit, offset=offset
    )


def interaction_get(*, actor: User, interaction_id: int) -> Interaction:
    interaction = _with_details(Interaction.objects.visible_to(actor)).filter(pk=interaction_id).first()
    if interaction is None:
        raise NotFound(_("跟进记录不存在或您无权查看"), field="id")
    return interaction


def attachment_get(*, actor: User, attachment_id: int) -> InteractionAttachment:
    """An attachment, only for those who can see its customer (SEC-1); others get NotFound."""
    attachment = (
        InteractionAttachment.objects.filter(
            pk=attachment_id, interaction__in=Interaction.objects.visible_to(actor)
        )
        .select_related("interaction")
        .first()
    )
    if attachment is None:
        raise NotFound(_("附件不存在或您无权查看"), field="id")
    return attachment


def interaction_count(actor: User, customer: Customer) -> int:
    return Interaction.objects.visible_to(actor).filter(customer=customer).count()


def timeline_entries(actor: User, customer_ids: list[int], limit: int) -> list[TimelineEntry]:
    """Interactions on the 360° timeline (registered with ``customers.extensions`` in apps.py)."""
    rows = _with_details(
        Interaction.objects.filter(customer_id__in=customer_ids, deleted_at__isnull=True)
    ).order_by("-occurred_at", "-id")[:limit]
    return [
        TimelineEntry(
            at=i.occurred_at,
            template="engagement/partials/_timeline_interaction.html",
            item=i,
            kind="interaction",
            data={
                "actor": i.created_by.label,
                "verb": "interaction",
                "subject_type": "interaction",
                "subject_id": i.pk,
                "subject_label": f"{i.channel.display} · {i.get_direction_display()}",
                "summary": i.summary,
                "changes": {},
            },
        )
        for i in rows
    ]


# --- P&A tasks (ENG-3) ------------------------------------------------------------------------------

TASK_SCENES = {
    "mine": _("我负责的"),
    "created": _("我布置的"),
    "team": _("下属的"),
    "all": _("全部"),
}
TASK_FILTERS = {"status", "overdue", "customer", "owner", "due_from", "due_to", "q"}
TASK_SORTS = {"due_on", "-due_on", "-created_at", "created_at"}


def task_list(
    *,
    actor: User,
    scene: str = "mine",
    customer: Customer | None = None,
    filters: dict[str, Any] | None = None,
    sort: str = "due_on",
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """P&A tasks ``actor`` may see: their own, those they set, and their team's (a supervisor sees the
    overdue ones of the people below them, ENG-3)."""

    from django.utils import timezone

    from kehu.access.scope import subordinate_ids

    filters = clean_filters(filters, TASK_FILTERS)
    if scene not in TASK_SCENES:
        raise ValidationError(_("场景“%(s)s”无效"), field="scene", params={"s": scene})
    if sort not in TASK_SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    qs = Task.objects.visible_to(actor)
    if scene == "mine":
        qs = qs.filter(owner=actor)
    elif scene == "created":
        qs = qs.filter(created_by=actor)
    elif scene == "team":
        qs = qs.filter(owner_id__in=sorted(subordinate_ids(actor))).exclude(owner=actor)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if "status" in filters:
        if filters["status"] not in TaskStatus.values:
            raise ValidationError(_("筛选值“%(v)s”无效"), field="status", params={"v": filters["status"]})
        qs = qs.filter(status=filters["status"])
    if str(filters.get("overdue", "")).lower() in ("1", "true", "yes", "on"):
        qs = qs.filter(status=TaskStatus.OPEN, due_on__lt=timezone.localdate())
    for key, field in (("customer", "customer_id"), ("owner", "owner_id")):
        if key in filters:
            qs = qs.filter(**{field: filter_id(filters, key)})
    for key, lookup in (("due_from", "due_on__gte"), ("due_to", "due_on__lte")):
        if key in filters:
            qs = qs.filter(**{lookup: filter_date(filters, key)})
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(Q(title__icontains=text) | Q(description__icontains=text) | Q(result__icontains=text))
    tie = "-id" if sort.startswith("-") else "id"
    rows = qs.select_related("owner", "customer", "created_by").order_by(sort, tie)
    return paginate(rows, limit=limit, offset=offset)


def task_get(*, actor: User, task_id: int) -> Task:
    task = (
        Task.objects.visible_to(actor)
        .select_related("owner", "customer", "created_by")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound(_("任务不存在或您无权查看"), field="id")
    return task


def task_count(actor: User, customer: Customer) -> int:
    """Open tasks on ``customer`` (the badge of its 任务 tab)."""
    return Task.objects.visible_to(actor).filter(customer=customer, status=TaskStatus.OPEN).count()


def task_assignees(*, actor: User) -> list[User]:
    """Whom ``actor`` may give a task: themself and the active users in their data scope."""
    from kehu.access.scope import owner_ids_in_scope
    from kehu.access.selectors import user_choices

    ids = owner_ids_in_scope(actor)
    users = user_choices() if ids is None else user_choices().filter(pk__in=sorted(ids | {actor.pk}))
    return list(users)
