"""What happens to interactions; the audit log records these (the timeline shows the interactions)."""

from __future__ import annotations

from dataclasses import dataclass

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
