"""The sales chain's part of ``kehu demo`` (registered into ``customers.extensions``, ADR 0009):
contracts with their payment plans, orders with lines, shipments, approved payments — and, for a
contract signed long enough ago, an overdue instalment, so the aging and the reminders have
something to show. About one owned customer in sixteen has a contract. Deterministic for a seed;
inserted in bulk through ``DemoLoad.insert`` (parents first, then their ids read back by number)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kehu.access.models import User
from kehu.approvals.choices import ApprovalStatus
from kehu.catalog.models import Product
from kehu.core.sequences import next_values
from kehu.customers.extensions import DemoLoad
from kehu.customers.models import Customer

from .choices import ContractStatus, OrderStatus, PaymentMethod
from .models import (
    Contract,
    Instalment,
    Order,
    OrderLine,
    PaymentMatch,
    PaymentRecord,
    Shipment,
    ShipmentLine,
)

BATCH = 2000  # contracts per round
SHARE = 0.06
ALWAYS = 3
OUR_PARTY = "客户科技（演示）有限公司"
# fmt: off
TITLES = ["设备采购合同", "年度供货框架合同", "技术服务合同", "系统集成项目合同", "备件采购合同", "软件许可及实施合同"]
ITEMS = [("工业控制器", "KC-200", "台", "12800"), ("伺服电机", "SM-750", "台", "3650"), ("传感器模块", "TS-08", "个", "420"),
         ("安装调试服务", "", "次", "8000"), ("软件许可", "V3 企业版", "套", "56000"), ("备件包", "BP-1", "套", "1900")]
CARRIERS = ["顺丰速运", "德邦物流", "京东物流", "中通快递"]
# fmt: on
CONTRACT_COLUMNS = (
    "number",
    "title",
    "customer_id",
    "our_party",
    "their_party",
    "amount",
    "currency",
    "signed_on",
    "starts_on",
    "ends_on",
    "payment_terms",
    "terms",
    "status",
    "approval_status",
    "end_reason",
    "owner_id",
    "department_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
    "our_signatory",
    "their_signatory",
)  # fmt: skip
INSTALMENT_COLUMNS = (
    "contract_id", "seq", "due_on", "amount", "remind_days", "notes", "received", "outstanding", "receivable",
    "customer_id", "owner_id", "department_id", "created_at", "updated_at", "version",
)  # fmt: skip
ORDER_COLUMNS = (
    "number", "customer_id", "contract_id", "order_date", "promised_ship_on", "status", "total_amount", "cost_amount",
    "currency", "notes", "cancel_reason", "owner_id", "department_id", "created_by_id", "created_at", "updated_at", "version",
)  # fmt: skip
LINE_COLUMNS = ("order_id", "position", "product_id", "product_name", "model", "unit", "unit_price", "quantity", "total",
                "unit_cost", "shipped_quantity", "notes")  # fmt: skip
SHIPMENT_COLUMNS = ("number", "order_id", "customer_id", "owner_id", "carrier", "tracking_number", "shipped_at",
                    "delivered_at", "notes", "created_by_id", "created_at")  # fmt: skip
PAYMENT_COLUMNS = (
    "number", "contract_id", "customer_id", "received_on", "amount", "currency", "method", "payer", "reference", "notes",
    "approval_status", "owner_id", "department_id", "created_by_id", "created_at", "updated_at", "version",
)  # fmt: skip
CENT = Decimal("0.01")


def _ids(model: Any, numbers: list[str]) -> dict[str, int]:
    return dict(model.objects.filter(number__in=numbers).values_list("number", "pk"))


def _at(day: Any, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _totals(lines: list[tuple[Any, ...]]) -> tuple[Decimal, Decimal | None]:
    """An order's amount and its cost (None unless every line's unit cost is known), from demo lines
    ``(pos, product, name, model, unit, price, qty, total, unit_cost)``."""
    amount = sum((line[7] for line in lines), Decimal("0"))
    if any(line[8] is None for line in lines):
        return amount, None
    return amount, sum(((line[8] * line[6]).quantize(CENT) for line in lines), Decimal("0"))


def contribute(load: DemoLoad) -> dict[str, int]:
    rng = random.Random(f"kehu-demo-orders-{load.seed}-{load.first_customer_id}")
    r = rng.random
    today, now = load.today, timezone.now()
    departments = dict(User.objects.values_list("pk", "department_id"))
    products: list[tuple[Any, ...]] = [
        (p.pk, p.name, p.model, p.unit, p.price, p.cost if p.cost > 0 else None)
        for p in Product.objects.filter(is_active=True).order_by("pk")[:50]
    ] or [(None, n, m, u, Decimal(p), (Decimal(p) * Decimal("0.62")).quantize(CENT)) for n, m, u, p in ITEMS]
    customers = (
        Customer.objects.filter(pk__gte=load.first_customer_id, pk__lt=load.first_customer_id + load.customers,
                                owner__isnull=False)
        .order_by("pk").values_list("pk", "name", "owner_id", "created_at")
    )  # fmt: skip
    # The first few owned customers always have a contract, so even a small demo shows the chain.
    chosen = [c for n, c in enumerate(customers.iterator(chunk_size=5000)) if n < ALWAYS or r() < SHARE]
    written = dict.fromkeys(("contracts", "instalments", "orders", "shipments", "payments"), 0)
    overdue_made = False
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start : start + BATCH]
        c_numbers = next_values("contract", len(batch))
        o_numbers = next_values("order", len(batch))
        contracts: list[tuple[Any, ...]] = []
        orders: list[tuple[Any, ...]] = []
        plans: dict[str, Any] = {}
        order_specs: dict[str, Any] = {}
        for n, ((pk, name, owner_id, created_at), cn, on) in enumerate(
            zip(batch, c_numbers, o_numbers, strict=True)
        ):
            first = start == 0 and n == 0  # in force for 100 days: its second instalment is overdue
            signed = (
                today - timedelta(days=100)
                if first
                else max(created_at.date(), today - timedelta(days=30 + int(r() * 400)))
            )
            if signed > today:
                signed = today
            roll = 0.5 if first else r()
            status, approval = (
                (ContractStatus.DRAFT, ApprovalStatus.DRAFT) if roll < 0.08
                else (ContractStatus.COMPLETED, ApprovalStatus.APPROVED) if roll < 0.25
                else (ContractStatus.IN_FORCE, ApprovalStatus.APPROVED)
            )  # fmt: skip
            lines = []
            for pos in range(1, 2 + int(r() * 3)):
                pid, pname, model, unit, price, unit_cost = products[int(r() * len(products))]
                qty = Decimal(1 + int(r() * 20))
                lines.append(
                    (pos, pid, pname, model, unit, price, qty, (price * qty).quantize(CENT), unit_cost)
                )
            amount, cost = _totals(lines)
            number = f"HT{today:%Y}{cn:06d}"
            dept = departments.get(owner_id)
            contracts.append((
                number, rng.choice(TITLES), pk, OUR_PARTY, name[:200], amount, "CNY", signed, signed,
                signed + timedelta(days=365), "合同签订后预付 30%，发货后付 60%，验收后付 10%", "甲方按期付款，乙方按期交货并提供一年质保。",
                status.value, approval.value, "", owner_id, dept, owner_id, now, now, 1, "", "",
            ))  # fmt: skip
            # 30 / 60 / 10 — the last absorbs the rounding.
            part1, part2 = (amount * Decimal("0.3")).quantize(CENT), (amount * Decimal("0.6")).quantize(CENT)
            plans[number] = (pk, owner_id, dept, status, [
                (1, signed + timedelta(days=7), part1), (2, signed + timedelta(days=60), part2),
                (3, signed + timedelta(days=150), amount - part1 - part2),
            ])  # fmt: skip
            if status != ContractStatus.DRAFT:
                onum = f"DD{today:%Y}{on:06d}"
                order_date = signed + timedelta(days=2)
                promised = order_date + timedelta(days=20 + int(r() * 20))
                if promised < today - timedelta(days=3):
                    ostatus = (
                        OrderStatus.IN_PRODUCTION if r() < 0.05 else OrderStatus.DELIVERED
                    )  # a few are late
                else:
                    ostatus = OrderStatus.CONFIRMED if r() < 0.5 else OrderStatus.IN_PRODUCTION
                orders.append((onum, pk, number, order_date, promised, ostatus.value, amount, cost, "CNY", "", "",
                               owner_id, dept, owner_id, now, now, 1))  # fmt: skip
                order_specs[onum] = (lines, ostatus, promised, pk, owner_id)
        written["contracts"] += load.insert(Contract, CONTRACT_COLUMNS, contracts)
        contract_ids = _ids(Contract, list(plans))
        instalments, payments, paid = [], [], {}
        p_numbers = iter(next_values("payment", 3 * len(plans)))
        for number, (pk, owner_id, dept, status, rows) in plans.items():
            cid = contract_ids[number]
            receivable = status in (ContractStatus.IN_FORCE, ContractStatus.COMPLETED)
            behind = False  # once an instalment is left unpaid, the later ones are too
            for seq, due, amt in rows:
                # Paid when due long enough ago; the first contract keeps one overdue for the demo.
                is_paid = (
                    receivable and not behind and due < today - timedelta(days=3)
                    and (overdue_made or seq == 1) and r() < 0.85
                )  # fmt: skip
                if receivable and due < today and not is_paid:
                    overdue_made = behind = True
                received = amt if is_paid else Decimal("0")
                instalments.append((cid, seq, due, amt, 7, "", received, amt - received, receivable, pk, owner_id,
                                    dept, now, now, 1))  # fmt: skip
                if is_paid:
                    pnum = f"HK{today:%Y}{next(p_numbers):06d}"
                    payments.append((pnum, cid, pk, due, amt, "CNY", PaymentMethod.TRANSFER.value, "", "", "",
                                     ApprovalStatus.APPROVED.value, owner_id, dept, owner_id, now, now, 1))  # fmt: skip
                    paid[pnum] = (cid, seq, amt)
        written["instalments"] += load.insert(Instalment, INSTALMENT_COLUMNS, instalments)
        written["payments"] += load.insert(PaymentRecord, PAYMENT_COLUMNS, payments)
        payment_ids = _ids(PaymentRecord, list(paid))
        seqs = {
            (c, s): i for i, c, s in Instalment.objects.filter(contract_id__in=list(contract_ids.values()))
            .values_list("pk", "contract_id", "seq")
        }  # fmt: skip
        load.insert(PaymentMatch, ("payment_id", "instalment_id", "amount"),
                    [(payment_ids[p], seqs[(c, s)], a) for p, (c, s, a) in paid.items()])  # fmt: skip
        orders = [(*o[:2], contract_ids[o[2]], *o[3:]) for o in orders]
        written["orders"] += load.insert(Order, ORDER_COLUMNS, orders)
        order_ids = _ids(Order, list(order_specs))
        line_rows = []
        for onum, (lines, ostatus, _promised, _pk, _owner) in order_specs.items():
            shipped = ostatus == OrderStatus.DELIVERED
            for pos, pid, pname, model, unit, price, qty, total, unit_cost in lines:
                line_rows.append((order_ids[onum], pos, pid, pname, model, unit, price, qty, total, unit_cost,
                                  qty if shipped else Decimal("0"), ""))  # fmt: skip
        load.insert(OrderLine, LINE_COLUMNS, line_rows)
        delivered = [n for n, spec in order_specs.items() if spec[1] == OrderStatus.DELIVERED]
        s_numbers = next_values("shipment", len(delivered)) if delivered else range(0)
        shipments, shipment_of = [], {}
        for onum, sn in zip(delivered, s_numbers, strict=True):
            _lines, _st, promised, pk, owner_id = order_specs[onum]
            snum = f"FH{today:%Y}{sn:06d}"
            shipped_at = _at(promised - timedelta(days=int(r() * 3)))
            shipments.append((snum, order_ids[onum], pk, owner_id, rng.choice(CARRIERS), f"SF{rng.randrange(10**11, 10**12)}",
                              shipped_at, shipped_at + timedelta(days=2), "", owner_id, now))  # fmt: skip
            shipment_of[snum] = order_ids[onum]
        written["shipments"] += load.insert(Shipment, SHIPMENT_COLUMNS, shipments)
        shipment_ids = _ids(Shipment, list(shipment_of))
        lines_of: dict[int, list[tuple[int, Decimal]]] = {}
        for lid, oid, qty in OrderLine.objects.filter(order_id__in=list(shipment_of.values())).values_list(
            "pk", "order_id", "quantity"
        ):
            lines_of.setdefault(oid, []).append((lid, qty))
        load.insert(ShipmentLine, ("shipment_id", "order_line_id", "quantity"),
                    [(shipment_ids[s], lid, q) for s, oid in shipment_of.items() for lid, q in lines_of.get(oid, [])])  # fmt: skip
        load.progress(f"  orders: {written['contracts']:,} contracts, {written['orders']:,} orders")
    written["orders"] += _purchase_history(load, products, departments)
    return written


HISTORY_SHARE = 0.6  # owned customers with a purchase history …
HISTORY_CAP = 20_000  # … among the first this many (a million-customer demo stays quick)
HISTORY_DAYS = 1000


def _purchase_history(load: DemoLoad, products: list[tuple[Any, ...]], departments: dict[int, Any]) -> int:
    """Delivered orders without a contract (历史订单) over the last ~3 years, so that RFM, lifetime value,
    churn and lifecycle (ANA-1 … ANA-5) have repeat buyers, lapsed buyers and one-off buyers to tell apart.
    Each buyer follows the BG/NBD story: a purchase rate drawn from a gamma distribution, a chance to drop
    out after every purchase drawn from a beta distribution, and a spend level of its own. A separate random
    stream keeps the contracts above unchanged for a seed."""
    rng = random.Random(f"kehu-demo-history-{load.seed}-{load.first_customer_id}")
    r = rng.random
    today, now = load.today, timezone.now()
    customers = (
        Customer.objects.filter(pk__gte=load.first_customer_id,
                                pk__lt=load.first_customer_id + min(load.customers, HISTORY_CAP), owner__isnull=False)
        .order_by("pk").values_list("pk", "owner_id", "created_at")
    )  # fmt: skip
    specs: list[tuple[int, int, Any, list[tuple[Any, ...]]]] = []
    for pk, owner_id, created_at in customers.iterator(chunk_size=5000):
        if r() >= HISTORY_SHARE:
            continue
        weekly_rate = rng.gammavariate(0.9, 0.09)  # ≈ 4 purchases a year on average, very uneven
        dropout = rng.betavariate(0.9, 3.5)
        spend = rng.gammavariate(2.0, 0.5)  # the customer's usual basket, × quantity
        day = max(created_at.date(), today - timedelta(days=HISTORY_DAYS))
        while True:
            # A rate drawn near zero gives a gap of millions of years (timedelta overflows): any gap past
            # today ends the story the same way, so it is capped there.
            gap = min(rng.expovariate(weekly_rate) * 7, (today - day).days + 1)
            day += timedelta(days=max(1, round(gap)))
            if day >= today:
                break
            lines = []
            for pos in range(1, 2 + int(r() * 2)):
                pid, pname, model, unit, price, unit_cost = products[int(r() * len(products))]
                qty = Decimal(max(1, round(spend * (0.5 + r()) * 4)))
                lines.append(
                    (pos, pid, pname, model, unit, price, qty, (price * qty).quantize(CENT), unit_cost)
                )
            specs.append((pk, owner_id, day, lines))
            if r() < dropout:
                break
    written = 0
    for start in range(0, len(specs), BATCH):
        batch = specs[start : start + BATCH]
        numbers = [f"DD{today:%Y}{n:06d}" for n in next_values("order", len(batch))]
        orders = []
        for number, (pk, owner_id, day, lines) in zip(numbers, batch, strict=True):
            amount, cost = _totals(lines)
            orders.append((number, pk, None, day, day + timedelta(days=10), OrderStatus.DELIVERED.value, amount, cost,
                           "CNY", "历史订单（演示）", "", owner_id, departments.get(owner_id), owner_id, now, now, 1))  # fmt: skip
        written += load.insert(Order, ORDER_COLUMNS, orders)
        ids = _ids(Order, numbers)
        load.insert(OrderLine, LINE_COLUMNS, [
            (ids[number], pos, pid, pname, model, unit, price, qty, total, unit_cost, qty, "")
            for number, (_pk, _owner, _day, lines) in zip(numbers, batch, strict=True)
            for pos, pid, pname, model, unit, price, qty, total, unit_cost in lines
        ])  # fmt: skip
        load.progress(f"  orders: {written:,} orders of purchase history")
    return written
