"""Builders for the orders tests: everything through the real services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from kehu.approvals.choices import ApprovalStatus
from kehu.customers.services import customer_create
from kehu.orders import billing, services

PDF = b"%PDF-1.4 proof"


def customer(by: Any, name: str = "杭州示例机械有限公司") -> Any:
    return customer_create(data={"name": name}, by=by, confirm_duplicates=True)


def contract(by: Any, cust: Any, *, amount: str = "100000", approve: bool = True, **data: Any) -> Any:
    """A contract of ``by``; approved (and so in force) unless ``approve=False``."""
    c = services.contract_create(
        data={"customer": cust.pk, "title": "设备采购合同", "our_party": "本公司", "amount": amount, **data},
        by=by,
    )
    if approve:
        services.contract_set_approval_status(contract=c, status=ApprovalStatus.APPROVED, by=None)
        c.refresh_from_db()
    return c


def plan(by: Any, c: Any, *rows: tuple[date, str]) -> list[Any]:
    return [billing.instalment_add(contract_id=c.pk, data={"due_on": d, "amount": a}, by=by) for d, a in rows]


def payment(
    by: Any, c: Any, amount: str, matches: dict[int, str], *, approve: bool = True, on: date | None = None
) -> Any:
    p = billing.payment_create(
        contract_id=c.pk, data={"received_on": on or date.today(), "amount": amount}, matches=matches, by=by
    )
    if approve:
        billing.payment_set_approval_status(payment=p, status=ApprovalStatus.APPROVED, by=None)
    return p


def order(by: Any, cust: Any, *lines: tuple[str, str, str], **data: Any) -> Any:
    """An order with (name, unit price, quantity) lines."""
    return services.order_create(
        data={"customer": cust.pk, **data},
        lines=[{"product_name": n, "unit_price": p, "quantity": q} for n, p, q in lines],
        by=by,
    )


D = Decimal
