"""Turns domain events into audit rows, in the same transaction as the change they record."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from kehu.core.bulk import insert_values
from kehu.core.events import DomainEvent

from .models import AuditEvent


def record(events: list[DomainEvent]) -> None:
    """Subscriber for every ``DomainEvent``: one INSERT per batch (bulk operations stay cheap)."""
    if not events:
        return
    now = timezone.now()
    actor_ids = {e.actor_id for e in events if e.actor_id}
    names = (
        {
            pk: display or username
            for pk, display, username in get_user_model()
            .objects.filter(pk__in=actor_ids)
            .values_list("pk", "display_name", "username")
        }
        if actor_ids
        else {}
    )
    # insert_values, not bulk_create: an import or the nightly pool return records thousands at once.
    insert_values(
        AuditEvent,
        [
            {
                "at": now,
                "actor_id": e.actor_id,
                "actor_name": names.get(e.actor_id, "") if e.actor_id else "system",
                "verb": e.verb,
                "subject_type": e.subject_type,
                "subject_id": e.subject_id,
                "subject_label": e.subject_label[:200],
                "customer_id": e.customer_id,
                "changes": e.changes,
                "ip": e.ip,
            }
            for e in events
        ],
    )
