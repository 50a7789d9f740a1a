"""What happens to customers and contacts; the audit log and the 360° timeline are built from these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CustomerChanged(DomainEvent):
    """create / update / classify / transfer / delete / restore / purge / merge / reveal / collaborator_*."""


@dataclass(frozen=True, kw_only=True)
class ContactChanged(DomainEvent):
    """create / update / delete of a contact; ``customer_id`` ties it to the customer's timeline."""
