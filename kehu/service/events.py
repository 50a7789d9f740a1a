"""What happens in customer service; the audit log records these (ADR 0001)."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TicketChanged(DomainEvent):
    """create / a transition verb / reply / note / assign / escalate / update of a ticket (subject "ticket")."""


@dataclass(frozen=True, kw_only=True)
class ServiceSettingsChanged(DomainEvent):
    """Teams, members, presence, SLA policies, escalation rules, calendar days and the service settings."""
