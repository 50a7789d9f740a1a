"""``kehu demo`` with the sales chain plugged in (ADR 0009): contracts with payment plans, orders with
lines, shipments, approved payments — and an overdue instalment for the aging and the reminders."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.utils import timezone

from kehu.customers import demo
from kehu.orders.models import Contract, Instalment, Order, OrderLine, PaymentMatch, PaymentRecord, Shipment

pytestmark = pytest.mark.django_db


def test_the_demo_has_contracts_orders_shipments_payments_and_an_overdue_instalment() -> None:
    loaded = demo.load_demo(customers=120, seed=5, password="kehu-Demo-Pass-2026")
    assert loaded.extra["contracts"] == Contract.objects.count() >= 3
    assert loaded.extra["orders"] == Order.objects.count() >= 1
    assert loaded.extra["payments"] == PaymentRecord.objects.count() == PaymentMatch.objects.count()
    assert Shipment.objects.count() == loaded.extra["shipments"]
    today = timezone.localdate()
    overdue = Instalment.objects.filter(receivable=True, outstanding__gt=0, due_on__lt=today)
    assert overdue.exists()
    for c in Contract.objects.all():
        planned = Instalment.objects.filter(contract=c).aggregate(s=Sum("amount"))["s"]
        assert planned == c.amount
    for o in Order.objects.all():
        assert OrderLine.objects.filter(order=o).aggregate(s=Sum("total"))["s"] == o.total_amount
    for i in Instalment.objects.all():
        paid = PaymentMatch.objects.filter(instalment=i).aggregate(s=Sum("amount"))["s"] or 0
        assert (i.received, i.outstanding) == (paid, i.amount - paid)
