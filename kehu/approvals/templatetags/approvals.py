"""Template tags of the approval engine: the panel a document page includes, the nav badge."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def approval_panel(context: Any, document_type: str, object_id: int) -> str:
    """``{% approval_panel "contract" contract.pk %}``: status, submit/withdraw and history of one
    document, for a viewer who may see it."""
    from kehu.approvals.views import render_panel

    return mark_safe(
        render_panel(context["request"], document_type, int(object_id))
    )  # a rendered template, escaped there


@register.simple_tag(takes_context=True)
def pending_approvals(context: Any) -> int:
    """How many requests wait for the signed-in user's decision (the 审批 badge in the nav)."""
    from kehu.approvals.selectors import pending_count

    request = context.get("request")
    user = getattr(request, "user", None)
    return pending_count(actor=user) if user is not None else 0


@register.filter
def doc_type_label(key: str) -> str:
    """A document type's label (合同, 发票, …) from its key."""
    from kehu.approvals.registry import document_type_label

    return document_type_label(key)
