"""What happens in the product catalogue; the audit log records these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ProductChanged(DomainEvent):
    """create / update / picture / deactivate / reactivate / import of a product (SAL-9)."""
