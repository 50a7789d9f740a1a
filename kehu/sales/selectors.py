"""Reads of the sales pipeline, always starting from ``visible_to``."""

from __future__ import annotations

from kehu.access.models import Department, User
from kehu.core.errors import NotFound

from .models import Opportunity, Stage, StageGroup


def stage_group_for(department: Department | None) -> StageGroup:
    """The stage group a department sells by (SAL-3): its own, else its nearest ancestor's, else the
    company default."""
    node = department
    while node is not None:
        group = node.stage_groups.filter(is_active=True).order_by("pk").first()
        if group is not None:
            return group
        node = node.parent
    group = StageGroup.objects.filter(is_default=True, is_active=True).order_by("pk").first()
    if group is None:
        raise NotFound("没有可用的销售阶段组", field="stage_group", code="no_stage_group")
    return group


def first_open_stage(group: StageGroup) -> Stage:
    return group.stages.filter(kind="open").order_by("order").first() or group.stages.order_by("order")[0]


def opportunity_get(*, actor: User, opportunity_id: int) -> Opportunity:
    """One opportunity the actor may see; otherwise ``NotFound`` (never says it exists)."""
    found = (
        Opportunity.objects.visible_to(actor)
        .select_related("customer", "owner", "stage", "stage_group", "department")
        .filter(pk=opportunity_id)
        .first()
    )
    if found is None:
        raise NotFound("商机不存在或无权查看", field="opportunity", code="opportunity_not_found")
    return found
