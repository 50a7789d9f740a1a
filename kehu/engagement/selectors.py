"""Reads of engagement. Every query starts from ``Interaction.objects.visible_to(actor)`` (SEC-1)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, paginate
from kehu.customers.choices import OptionKind
from kehu.customers.extensions import TimelineEntry
from kehu.customers.models import Customer, Option

from .choices import Direction
from .models import Interaction, InteractionAttachment

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
    for key in ("customer", "author"):
        if key in filters:
            try:
                value = int(filters[key])
            except (TypeError, ValueError) as exc:
                raise ValidationError(_("%(f)s 必须是数字ID"), field=key, params={"f": key}) from exc
            qs = qs.filter(**{"customer_id" if key == "customer" else "created_by_id": value})
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
            from datetime import date

            try:
                qs = qs.filter(**{lookup: date.fromisoformat(str(filters[key]))})
            except ValueError as exc:
                raise ValidationError(_("日期格式应为 YYYY-MM-DD"), field=key) from exc
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
