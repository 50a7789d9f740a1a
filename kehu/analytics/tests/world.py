"""A small company with a known order ledger for the analytics integration tests.

Orders are written in bulk (``Order.objects.bulk_create``: the refresh reads only the ledger's columns),
customers and interactions through the real services. Everything the refresh should compute is also
computed here by hand from the same plain figures (``expected``), independent of any database.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_customer
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order

_numbers = itertools.count(1)


@dataclass
class Buyer:
    """One customer of the world: its owner key and its orders (days before as_of, amount, cost, status)."""

    key: str
    owner: str | None
    orders: list[tuple[int, Decimal, Decimal | None, str]] = field(default_factory=list)
    customer: Customer | None = None

    def counted(self, as_of: dt.date) -> list[tuple[dt.date, Decimal, Decimal | None]]:
        return [
            (as_of - dt.timedelta(days=ago), amount, cost)
            for ago, amount, cost, status in self.orders
            if status != OrderStatus.CANCELLED and ago >= 0
        ]


def spec() -> list[Buyer]:
    """44 regular repeat buyers plus the special cases the tests name."""
    owners = ("rep_east", "rep_west", "rep_east2")
    buyers = []
    for i in range(44):
        k = 2 + i % 5
        gap = 15 + (i % 6) * 12
        last = 200 + 3 * i if i % 4 == 0 else 3 + i  # every fourth one lapsed long past its rhythm
        orders = []
        for j in range(k):
            amount = Decimal(f"{80 + 37 * i + 10 * j}.{(7 * i + j) % 100:02d}")
            cost = (amount * Decimal("0.6")).quantize(Decimal("0.01")) if i % 2 == 0 else None
            orders.append((last + j * gap, amount, cost, OrderStatus.DELIVERED.value))
        buyers.append(Buyer(f"regular{i}", owners[i % 3], orders))
    d, c = OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value
    buyers += [
        Buyer(
            "merge",
            "rep_east",
            [
                (10, Decimal("100.00"), Decimal("60.00"), d),
                (10, Decimal("50.00"), Decimal("30.00"), d),
                (40, Decimal("200.00"), Decimal("120.00"), d),
                (70, Decimal("300.00"), Decimal("200.00"), d),
                (400, Decimal("1000.00"), None, d),
                (5, Decimal("999.00"), Decimal("1.00"), c),  # cancelled: never counts
                (-3, Decimal("777.00"), Decimal("1.00"), d),  # after as_of: never counts
            ],
        ),
        Buyer("nocost", "rep_west", [(20, Decimal("500.00"), None, d), (90, Decimal("500.00"), None, d)]),
        Buyer("oneoff_recent", "rep_east", [(30, Decimal("120.00"), Decimal("100.00"), d)]),
        Buyer("oneoff_old", "rep_west", [(250, Decimal("80.00"), None, d)]),
        Buyer("oneoff_older", "rep_east2", [(500, Decimal("60.00"), None, d)]),
        Buyer("pool", None, [(300, Decimal("400.00"), None, d), (320, Decimal("400.00"), None, d)]),
        Buyer("prospect", "rep_east", []),
    ]
    return buyers


def write_orders(buyers: list[Buyer], *, as_of: dt.date, admin: Any, users: dict[str, Any]) -> None:
    """The buyers' orders, in bulk."""
    rows = []
    for b in buyers:
        assert b.customer is not None
        owner = users[b.owner] if b.owner else admin
        for ago, amount, cost, status in b.orders:
            rows.append(
                Order(
                    number=f"TA{next(_numbers):08d}",
                    customer_id=b.customer.pk,
                    order_date=as_of - dt.timedelta(days=ago),
                    status=status,
                    total_amount=amount,
                    cost_amount=cost,
                    owner=owner,
                    created_by=admin,
                )
            )
    Order.objects.bulk_create(rows, batch_size=500)


def build(
    cast: SimpleNamespace, *, as_of: dt.date | None = None, buyers: list[Buyer] | None = None
) -> SimpleNamespace:
    """Customers (through ``customer_create``) and their orders; the pool customer has no owner."""
    as_of = as_of or timezone.localdate()
    buyers = spec() if buyers is None else buyers
    users = {k: getattr(cast, k) for k in ("rep_east", "rep_west", "rep_east2", "manager_east")}
    for b in buyers:
        b.customer = make_customer(users[b.owner] if b.owner else cast.admin)
        if b.owner is None:
            Customer.objects.filter(pk=b.customer.pk).update(owner=None)
    write_orders(buyers, as_of=as_of, admin=cast.admin, users=users)
    return SimpleNamespace(as_of=as_of, buyers=buyers, by_key={b.key: b for b in buyers})


def expected(b: Buyer, as_of: dt.date) -> dict[str, Any]:
    """The per-customer figures of the refresh, by hand."""
    rows = b.counted(as_of)
    days = sorted({day for day, _a, _c in rows})
    costed = [(a, c) for _d, a, c in rows if c is not None]
    return {
        "orders": len(rows),
        "purchases": len(days),
        "first_purchase_on": days[0] if days else None,
        "last_purchase_on": days[-1] if days else None,
        "recency_days": (as_of - days[-1]).days if days else None,
        "revenue": sum((a for _d, a, _c in rows), Decimal("0.00")),
        "profit": sum((a - c for a, c in costed), Decimal("0.00")) if costed else None,
        "revenue_12m": sum((a for d, a, _c in rows if d > as_of - dt.timedelta(days=365)), Decimal("0.00")),
    }


def random_order_change(rng: Any, customers: list[Any], *, day: Any, near: Any, tag: str) -> None:
    """One random change to the orders of ``customers`` (through the ORM, so the orders table's triggers
    see it): a new order (a copy of one, for a random one of them, on ``day()``, of a random status), a
    deletion, an amount, a cost, a status, a date (``day()``), a move to another of them, or several
    orders moved to ``near()`` in one statement (on PostgreSQL their deltas are summed per customer and
    day). ``rng``: a NumPy generator; ``tag`` makes the new orders' numbers unique."""
    statuses = [OrderStatus.DELIVERED, OrderStatus.CONFIRMED, OrderStatus.CANCELLED]
    pool = list(Order.objects.filter(customer__in=customers).order_by("pk").values_list("pk", flat=True))
    pk = int(rng.choice(pool))
    kind = int(rng.integers(0, 8))
    orders = Order.objects.filter(pk=pk)
    if kind == 0:
        template = Order.objects.get(pk=pk)
        template.pk, template.number, template.version = None, f"{tag}-{next(_numbers)}", 1
        template.customer = customers[int(rng.integers(0, len(customers)))]
        template.order_date = day()
        template.status = statuses[int(rng.integers(0, 3))]
        template.save()
    elif kind == 1 and len(pool) > 20:
        orders.delete()
    elif kind == 2:
        orders.update(total_amount=Decimal(int(rng.integers(1, 10**7))) / 100)
    elif kind == 3:
        orders.update(cost_amount=None if rng.random() < 0.4 else Decimal(int(rng.integers(0, 10**6))) / 100)
    elif kind == 4:
        orders.update(status=statuses[int(rng.integers(0, 3))])
    elif kind == 5:
        orders.update(order_date=day())
    elif kind == 6:
        orders.update(customer=customers[int(rng.integers(0, len(customers)))])
    else:
        some = [int(p) for p in rng.choice(pool, size=min(5, len(pool)), replace=False)]
        Order.objects.filter(pk__in=some).update(order_date=near())
