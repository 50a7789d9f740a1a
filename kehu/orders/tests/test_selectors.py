"""Reads of SAL-6/SAL-7: the receivables aging against hand-computed figures, scopes, the CUS-2
figures, the customer's documents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.core.errors import PermissionDenied
from kehu.orders import selectors, services
from kehu.orders.choices import AgingGroup

from .factories import PDF, D, contract, customer, order, payment, plan

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def days(n: int):
    return TODAY + timedelta(days=n)


@pytest.fixture
def books(finance, rep_east, rep_east2, rep_west):
    """Three customers' receivables, by hand:

    甲 (rep_east):  due +10 → 1000 open (未到期); due −10 → 800 of which 300 paid (approved) → 500 (1–30);
                    due −45 → 700, a pending payment of 700 does not count → 700 (31–60)
    乙 (rep_east2): due −75 → 400 (61–90); due −120 → 900 (90+)
    丙 (rep_west):  due −1 → 250 (1–30)
    a draft contract of 甲 with an overdue instalment: not receivable, not counted.
    """
    a, b, c = customer(rep_east, "甲公司"), customer(rep_east2, "乙公司"), customer(rep_west, "丙公司")
    ka = contract(rep_east, a, amount="10000")
    _i1, i2, i3 = plan(finance, ka, (days(10), "1000"), (days(-10), "800"), (days(-45), "700"))
    payment(finance, ka, "300", {i2.pk: "300"})
    payment(finance, ka, "700", {i3.pk: "700"}, approve=False)
    kb = contract(rep_east2, b, amount="10000")
    plan(finance, kb, (days(-75), "400"), (days(-120), "900"))
    kc = contract(rep_west, c, amount="10000")
    plan(finance, kc, (days(-1), "250"))
    draft = contract(rep_east, a, amount="10000", approve=False)
    plan(finance, draft, (days(-5), "999"))
    return {"a": a, "b": b, "c": c}


def test_the_aging_by_customer_matches_the_hand_computed_figures(books, finance) -> None:
    aging = selectors.receivables_aging(actor=finance, scope="all")
    rows = {r.label: r for r in aging.rows}
    assert rows["甲公司"].buckets == {"current": D("1000"), "d1_30": D("500"), "d31_60": D("700"), "d61_90": 0,
                                     "d90_plus": 0}  # fmt: skip
    assert (rows["甲公司"].total, rows["甲公司"].overdue) == (D("2200"), D("1200"))
    assert (rows["乙公司"].buckets["d61_90"], rows["乙公司"].buckets["d90_plus"]) == (D("400"), D("900"))
    assert rows["丙公司"].buckets["d1_30"] == D("250")
    assert aging.totals == {"current": D("1000"), "d1_30": D("750"), "d31_60": D("700"), "d61_90": D("400"),
                            "d90_plus": D("900")}  # fmt: skip
    assert (aging.total, aging.overdue, aging.count) == (D("3750"), D("2750"), 3)
    assert [r.label for r in aging.rows] == ["甲公司", "乙公司", "丙公司"]  # largest first


def test_the_aging_groups_by_owner_and_by_department(books, finance, cast) -> None:
    by_owner = {
        r.label: r.total
        for r in selectors.receivables_aging(actor=finance, scope="all", group=AgingGroup.OWNER).rows
    }
    assert by_owner == {"张华东": D("2200"), "李华东": D("1300"), "陈华南": D("250")}
    by_dept = {r.key: r.total for r in
               selectors.receivables_aging(actor=finance, scope="all", group=AgingGroup.DEPARTMENT).rows}  # fmt: skip
    assert by_dept == {cast.east.pk: D("3500"), cast.west.pk: D("250")}


def test_a_manager_sees_the_department_and_themself(books, manager_east) -> None:
    dept = selectors.receivables_aging(actor=manager_east, scope="dept")
    assert {r.label for r in dept.rows} == {"甲公司", "乙公司"} and dept.total == D("3500")
    assert selectors.receivables_aging(actor=manager_east, scope="mine").rows == []
    with pytest.raises(PermissionDenied):
        selectors.receivables_aging(actor=manager_east, scope="all")


def test_a_rep_without_the_receivables_permission_sees_no_aging(books, rep_east) -> None:
    with pytest.raises(PermissionDenied):
        selectors.receivables_aging(actor=rep_east, scope="mine")


def test_the_aging_is_four_queries_whatever_the_number_of_customers(books, finance) -> None:
    selectors.receivables_aging(actor=finance, scope="all")  # warm the role cache
    with CaptureQueriesContext(connection) as q:
        selectors.receivables_aging(actor=finance, scope="all")
    # the page's groups ranked by one sum (with the number of groups), their buckets, the totals, the
    # names of the page's customers
    assert len(q.captured_queries) == 4
    assert "OVER ()" in q.captured_queries[0]["sql"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-total", ["甲公司", "乙公司", "丙公司"]),
        ("total", ["丙公司", "乙公司", "甲公司"]),
        ("-overdue", ["乙公司", "甲公司", "丙公司"]),
        ("-d1_30", ["甲公司", "丙公司", "乙公司"]),  # an empty bucket sorts last (0, not NULL)
        ("-d90_plus", ["乙公司", "甲公司", "丙公司"]),  # ties by customer id
    ],
)
def test_the_aging_sorts_by_total_overdue_or_a_bucket(books, finance, sort, expected) -> None:
    aging = selectors.receivables_aging(actor=finance, scope="all", sort=sort)
    assert [r.label for r in aging.rows] == expected


def test_every_page_of_the_aging_carries_the_totals_of_all_groups(books, finance) -> None:
    second = selectors.receivables_aging(actor=finance, scope="all", limit=2, offset=2)
    assert [r.label for r in second.rows] == ["丙公司"]
    past = selectors.receivables_aging(actor=finance, scope="all", limit=2, offset=10)
    for aging in (second, past):
        assert (aging.total, aging.overdue, aging.count, aging.instalments) == (D("3750"), D("2750"), 3, 6)
        assert aging.totals == {"current": D("1000"), "d1_30": D("750"), "d31_60": D("700"),
                                "d61_90": D("400"), "d90_plus": D("900")}  # fmt: skip
    assert past.rows == []
    assert selectors.receivables_aging(actor=finance, scope="mine").instalments == 0


def test_the_list_under_the_aging_takes_its_count_from_it(books, finance) -> None:
    aging = selectors.receivables_aging(actor=finance, scope="all")
    with CaptureQueriesContext(connection) as q:
        page = selectors.receivable_list(actor=finance, scope="all", aging=aging, limit=4)
    assert (page.count, len(page.items)) == (6, 4)
    assert not any("COUNT(" in x["sql"] for x in q.captured_queries)
    # with a bucket (or another scope) it counts for itself
    bucket = selectors.receivable_list(actor=finance, scope="all", filters={"bucket": "d1_30"}, aging=aging)
    assert bucket.count == 2


def test_the_open_instalments_behind_a_bucket(books, finance) -> None:
    page = selectors.receivable_list(actor=finance, scope="all", filters={"bucket": "d1_30"})
    assert sorted((i.customer.name, i.outstanding, i.days_overdue) for i in page.items) == [
        ("丙公司", D("250"), 1), ("甲公司", D("500"), 10)]  # fmt: skip


def test_the_cus2_figures_of_a_customer(rep_east) -> None:
    a, b = customer(rep_east, "甲公司"), customer(rep_east, "乙公司")
    order(rep_east, a, ("x", "100", "1"), order_date=days(-500))
    order(rep_east, a, ("x", "250", "2"), order_date=days(-30))
    gone = order(rep_east, a, ("x", "999", "1"), order_date=days(-3))
    services.order_cancel(order_id=gone.pk, version=None, reason="客户取消", by=rep_east)
    stats = selectors.customer_order_stats(customer_ids=[a.pk, b.pk])
    assert stats[a.pk] == selectors.OrderStats(days(-500), 2, D("500"), days(-30))
    assert stats[b.pk] == selectors.OrderStats(None, 0, D("0"), None)


def test_lists_follow_the_owner_scope_and_finance_sees_all(
    books, finance, rep_east, rep_west, manager_east
) -> None:
    assert {p.customer.name for p in selectors.payment_list(actor=finance).items} == {"甲公司"}
    assert selectors.payment_list(actor=rep_west).count == 0
    assert selectors.contract_list(actor=rep_east).count == 2
    assert selectors.contract_list(actor=rep_west).count == 1
    assert selectors.contract_list(actor=manager_east).count == 3
    assert selectors.contract_list(actor=finance).count == 4


def test_the_documents_of_a_customer_are_found_by_number_and_date(finance, rep_east) -> None:
    a = customer(rep_east, "甲公司")
    k = contract(rep_east, a)
    services.contract_attachment_add(contract_id=k.pk, name="合同扫描件.pdf", data=PDF, by=rep_east)
    (i,) = plan(finance, k, (TODAY, "100"))
    p = payment(finance, k, "100", {i.pk: "100"}, on=days(-40))
    from kehu.orders import billing

    billing.payment_proof_add(payment_id=p.pk, name="银行回单.pdf", data=PDF, by=finance)
    everything = selectors.customer_documents(actor=finance, customer=a)
    assert {d.kind for d in everything.items} == {"contract", "payment"}
    found = selectors.customer_documents(actor=finance, customer=a, filters={"q": p.number})
    assert [d.name for d in found.items] == ["银行回单.pdf"]
    old = selectors.customer_documents(actor=finance, customer=a, filters={"date_to": days(-30).isoformat()})
    assert [d.kind for d in old.items] == ["payment"]
    assert selectors.customer_documents(actor=rep_east, customer=a, filters={"kind": "payment"}).count == 1


def test_equal_amounts_tie_by_id_however_their_cents_add_up(finance, rep_east) -> None:
    """Groups are ranked by a double-precision sum rounded to the cent: 0.10 + 0.20 ranks equal to
    0.30 (not above it, as 0.30000000000000004 would), and the tie goes by id."""
    first, second = customer(rep_east, "先建公司"), customer(rep_east, "后建公司")
    plan(finance, contract(rep_east, second, amount="100"), (days(5), "0.10"), (days(6), "0.20"))
    plan(finance, contract(rep_east, first, amount="100"), (days(5), "0.30"))
    for sort in ("-total", "total"):
        aging = selectors.receivables_aging(actor=finance, scope="all", sort=sort)
        assert [(r.label, r.total) for r in aging.rows] == [("先建公司", D("0.30")), ("后建公司", D("0.30"))]


def test_a_group_paid_off_between_the_ranking_and_its_buckets_shows_zeros(
    books, finance, monkeypatch
) -> None:
    """The aging reads in several statements; a payment approved between them must not fail the page."""
    monkeypatch.setattr(selectors, "_grouped", lambda *args: [])
    aging = selectors.receivables_aging(actor=finance, scope="all")
    assert [(r.label, r.total, r.overdue) for r in aging.rows] == [
        ("甲公司", D("0"), D("0")), ("乙公司", D("0"), D("0")), ("丙公司", D("0"), D("0"))]  # fmt: skip
    assert aging.total == D("3750")
