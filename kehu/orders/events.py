"""What happens to contracts, orders, shipments, invoices and payments; the audit log and the customer
timeline record these (SAL-6, SAL-7)."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ContractChanged(DomainEvent):
    """create / update / put_in_force / complete / terminate / approval / attachment_add / attachment_remove."""


@dataclass(frozen=True, kw_only=True)
class OrderChanged(DomainEvent):
    """create / update / start_production / cancel / ship / deliver of an order or its shipments."""


@dataclass(frozen=True, kw_only=True)
class BillingChanged(DomainEvent):
    """invoice create / update / approval; instalment add / update / delete; payment create / update /
    delete / approval."""
