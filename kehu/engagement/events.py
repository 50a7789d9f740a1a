"""What happens to interactions; the audit log records these (the timeline shows the interactions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class InteractionChanged(DomainEvent):
    """create / update / delete of an interaction, attachment_add / attachment_remove."""


@dataclass(frozen=True, kw_only=True)
class TaskChanged(DomainEvent):
    """create / update / complete / cancel / reopen / delete of a P&A task."""


@dataclass(frozen=True, kw_only=True)
class MailChanged(DomainEvent):
    """receive / reply / no_reply / assign of an e-mail; create / update / token / fetch of a mailbox."""


def mail_event(
    verb: str,
    *,
    by: Any,
    subject_type: str,
    subject_id: int,
    label: str,
    customer_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> MailChanged:
    """A ``MailChanged`` by ``by`` (None: a job or a mailbox token)."""
    return MailChanged(
        actor_id=by.pk if by else None, verb=verb, subject_type=subject_type, subject_id=subject_id,
        subject_label=label[:200], customer_id=customer_id, changes=changes or {},
    )  # fmt: skip
