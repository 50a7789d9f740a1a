"""Interactions for tests, made through the real service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from kehu.engagement import services
from kehu.engagement.models import Interaction


def make_interaction(customer: Any, by: Any, *, days_ago: float = 0, **data: Any) -> Interaction:
    """``by`` records a phone call with ``customer`` ``days_ago`` days ago (fields in ``data`` override)."""
    payload = {
        "channel": "phone",
        "occurred_at": timezone.now() - timedelta(days=days_ago),
        "summary": "电话沟通，了解需求",
        **data,
    }
    return services.interaction_create(customer_id=customer.pk, data=payload, by=by)
