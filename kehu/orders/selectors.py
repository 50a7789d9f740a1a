"""Reads of contracts, orders, shipments, invoices, payments and receivables (SAL-6, SAL-7). Every
query starts from ``visible_to(actor)`` (SEC-1)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, FloatField, Max, Min, Prefetch, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm, ViewScope
from kehu.access.scope import can, view_scope_owner_ids, view_scopes
from kehu.core.errors import NotFound, PermissionDenied, ValidationError
from kehu.core.pagination import Page, clean_filters, clean_window, filter_date, filter_id, paginate
from kehu.customers.extensions import TimelineEntry
from kehu.customers.models import Customer

from .choices import (
    UNSHIPPED_ORDER_STATUSES,
    AgingBucket,
    AgingGroup,
    ContractStatus,
    DocumentKind,
    OrderStatus,
)
from .models import (
    Contract,
    Instalment,
    Invoice,
    Order,
    OrderDocument,
    OrderLine,
    PaymentMatch,
    PaymentRecord,
    Shipment,
)
from .rules import aging_bucket

ZERO = Decimal("0")
CENT = Decimal("0.01")


def _cents(value: Decimal | None) -> Decimal:
    """A database sum as money: SQLite's sums of decimals lose their scale."""
    return (value or ZERO).quantize(CENT)


def _sort(sort: str, allowed: set[str]) -> list[str]:
    if sort not in allowed:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    return [sort, "-id" if sort.startswith("-") else "id"]


def _choice(filters: dict[str, Any], key: str, values: list[str]) -> str:
    if filters[key] not in values:
        raise ValidationError(_("筛选值“%(v)s”无效"), field=key, params={"v": filters[key]})
    return str(filters[key])


# --- contracts -----------------------------------------------------------------------------------------

CONTRACT_FILTERS = {"status", "approval_status", "customer", "owner", "q", "signed_from", "signed_to"}
CONTRACT_SORTS = {
    "-created_at",
    "created_at",
    "-amount",
    "amount",
    "-signed_on",
    "signed_on",
    "number",
    "-number",
}


def contract_list(
    *, actor: User, customer: Customer | None = None, filters: dict[str, Any] | None = None,
    sort: str = "-created_at", limit: Any = None, offset: Any = None,
) -> Page:  # fmt: skip
    """Contracts whose owner is in the actor's scope (SAL-6)."""
    from kehu.approvals.choices import ApprovalStatus

    filters = clean_filters(filters, CONTRACT_FILTERS)
    qs = Contract.objects.visible_to(actor)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if "status" in filters:
        qs = qs.filter(status=_choice(filters, "status", ContractStatus.values))
    if "approval_status" in filters:
        qs = qs.filter(approval_status=_choice(filters, "approval_status", ApprovalStatus.values))
    for key in ("customer", "owner"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    if "signed_from" in filters:
        qs = qs.filter(signed_on__gte=filter_date(filters, "signed_from"))
    if "signed_to" in filters:
        qs = qs.filter(signed_on__lte=filter_date(filters, "signed_to"))
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(
            Q(number__icontains=text) | Q(title__icontains=text) | Q(customer__name__icontains=text)
        )
    rows = qs.select_related("customer", "owner").order_by(*_sort(sort, CONTRACT_SORTS))
    return paginate(rows, limit=limit, offset=offset)


def contract_get(*, actor: User, contract_id: int) -> Contract:
    c = (
        Contract.objects.visible_to(actor)
        .select_related("customer", "owner", "department", "opportunity", "created_by")
        .filter(pk=contract_id)
        .first()
    )
    if c is None:
        raise NotFound(_("合同不存在或您无权查看"), field="id")
    return c


def contract_instalments(*, contract: Contract) -> list[Instalment]:
    """The payment plan of a contract the caller already holds through ``contract_get``."""
    return list(Instalment.objects.filter(contract=contract).order_by("seq"))


def contract_choices(*, actor: User, customer_id: int, receivable_only: bool = False) -> list[Contract]:
    qs = (
        Contract.objects.visible_to(actor)
        .filter(customer_id=customer_id)
        .exclude(status=ContractStatus.TERMINATED)
    )
    if receivable_only:
        qs = qs.filter(status__in=[ContractStatus.IN_FORCE, ContractStatus.COMPLETED])
    return list(qs.order_by("-created_at")[:100])


def won_opportunities(*, actor: User, customer_id: int) -> list[Any]:
    """Won opportunities of a customer a contract can be drawn up from."""
    from kehu.sales.choices import OpportunityStatus
    from kehu.sales.models import Opportunity

    return list(
        Opportunity.objects.visible_to(actor)
        .filter(customer_id=customer_id, status=OpportunityStatus.WON)
        .order_by("-closed_at", "-id")[:50]
    )


def accepted_quotes(*, actor: User, customer_id: int) -> list[Any]:
    """The customer's accepted quotes (newest revisions) a contract can be drawn up from (SAL-6)."""
    from kehu.sales.quotes.choices import QuoteStatus
    from kehu.sales.quotes.models import Quote

    return list(
        Quote.objects.visible_to(actor)
        .filter(customer_id=customer_id, status=QuoteStatus.ACCEPTED)
        .order_by("-id")[:50]
    )


def contract_documents(*, contract: Contract) -> list[OrderDocument]:
    return list(OrderDocument.objects.filter(contract=contract).order_by("-uploaded_at", "-id"))


# --- orders --------------------------------------------------------------------------------------------

ORDER_FILTERS = {"status", "customer", "contract", "owner", "late", "q", "date_from", "date_to"}
ORDER_SORTS = {
    "-order_date",
    "order_date",
    "-total_amount",
    "total_amount",
    "promised_ship_on",
    "-promised_ship_on",
}


def order_list(
    *, actor: User, customer: Customer | None = None, filters: dict[str, Any] | None = None,
    sort: str = "-order_date", limit: Any = None, offset: Any = None,
) -> Page:  # fmt: skip
    """The business ledger (业务明细, SAL-6): orders whose owner is in scope; ``late`` keeps those past
    their promised ship date and not fully shipped (售中服务)."""
    filters = clean_filters(filters, ORDER_FILTERS)
    qs = Order.objects.visible_to(actor)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if "status" in filters:
        qs = qs.filter(status=_choice(filters, "status", OrderStatus.values))
    for key in ("customer", "contract", "owner"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    if str(filters.get("late", "")).lower() in ("1", "true", "yes", "on"):
        qs = qs.filter(
            status__in=[s.value for s in UNSHIPPED_ORDER_STATUSES], promised_ship_on__lt=timezone.localdate()
        )
    if "date_from" in filters:
        qs = qs.filter(order_date__gte=filter_date(filters, "date_from"))
    if "date_to" in filters:
        qs = qs.filter(order_date__lte=filter_date(filters, "date_to"))
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(
            Q(number__icontains=text) | Q(customer__name__icontains=text)
            | Q(pk__in=OrderLine.objects.filter(Q(product_name__icontains=text) | Q(model__icontains=text)).values("order_id"))
        )  # fmt: skip
    rows = qs.select_related("customer", "owner", "contract").order_by(*_sort(sort, ORDER_SORTS))
    return paginate(rows, limit=limit, offset=offset)


def order_get(*, actor: User, order_id: int) -> Order:
    o = (
        Order.objects.visible_to(actor)
        .select_related("customer", "owner", "contract", "department", "created_by")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("position")),
            Prefetch(
                "shipments",
                queryset=Shipment.objects.prefetch_related("lines__order_line", "documents").order_by(
                    "shipped_at", "id"
                ),
            ),
        )
        .filter(pk=order_id)
        .first()
    )
    if o is None:
        raise NotFound(_("订单不存在或您无权查看"), field="id")
    return o


def shipment_get(*, actor: User, shipment_id: int) -> Shipment:
    s = (
        Shipment.objects.visible_to(actor)
        .select_related("order", "customer")
        .prefetch_related("lines__order_line", "documents")
        .filter(pk=shipment_id)
        .first()
    )
    if s is None:
        raise NotFound(_("发货单不存在或您无权查看"), field="id")
    return s


def product_choices(*, actor: User) -> list[Any]:
    from kehu.catalog.models import Product

    return list(Product.objects.visible_to(actor).active().order_by("name")[:500])


# --- invoices ------------------------------------------------------------------------------------------

INVOICE_FILTERS = {
    "customer",
    "contract",
    "order",
    "kind",
    "approval_status",
    "q",
    "issued_from",
    "issued_to",
    "voided",
}
INVOICE_SORTS = {"-created_at", "created_at", "-amount", "amount", "-issued_on", "issued_on"}


def invoice_list(
    *, actor: User, customer: Customer | None = None, filters: dict[str, Any] | None = None,
    sort: str = "-created_at", limit: Any = None, offset: Any = None,
) -> Page:  # fmt: skip
    from kehu.approvals.choices import ApprovalStatus

    from .choices import InvoiceType

    filters = clean_filters(filters, INVOICE_FILTERS)
    qs = Invoice.objects.visible_to(actor)
    if customer is not None:
        qs = qs.filter(customer=customer)
    for key in ("customer", "contract", "order"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    if "kind" in filters:
        qs = qs.filter(kind=_choice(filters, "kind", InvoiceType.values))
    if "approval_status" in filters:
        qs = qs.filter(approval_status=_choice(filters, "approval_status", ApprovalStatus.values))
    if "voided" in filters:
        voided = str(filters["voided"])
        if voided not in ("0", "1"):
            raise ValidationError(_("筛选值“%(v)s”无效"), field="voided", params={"v": voided})
        qs = qs.filter(voided_at__isnull=voided == "0")
    if "issued_from" in filters:
        qs = qs.filter(issued_on__gte=filter_date(filters, "issued_from"))
    if "issued_to" in filters:
        qs = qs.filter(issued_on__lte=filter_date(filters, "issued_to"))
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(tax_number__icontains=text))
    rows = qs.select_related("customer", "contract", "order", "voided_by").order_by(
        *_sort(sort, INVOICE_SORTS)
    )
    return paginate(rows, limit=limit, offset=offset)


def invoice_get(*, actor: User, invoice_id: int) -> Invoice:
    i = (
        Invoice.objects.visible_to(actor)
        .select_related("customer", "contract", "order", "owner", "created_by", "voided_by")
        .prefetch_related("documents")
        .filter(pk=invoice_id)
        .first()
    )
    if i is None:
        raise NotFound(_("发票不存在或您无权查看"), field="id")
    return i


# --- payments ------------------------------------------------------------------------------------------

PAYMENT_FILTERS = {"customer", "contract", "approval_status", "method", "q", "date_from", "date_to"}
PAYMENT_SORTS = {"-received_on", "received_on", "-amount", "amount"}


def payment_list(
    *, actor: User, customer: Customer | None = None, filters: dict[str, Any] | None = None,
    sort: str = "-received_on", limit: Any = None, offset: Any = None,
) -> Page:  # fmt: skip
    """Payments (回款记录) of contracts whose owner is in scope; finance sees all (全部)."""
    from kehu.approvals.choices import ApprovalStatus

    from .choices import PaymentMethod

    filters = clean_filters(filters, PAYMENT_FILTERS)
    qs = PaymentRecord.objects.visible_to(actor)
    if customer is not None:
        qs = qs.filter(customer=customer)
    for key in ("customer", "contract"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    if "approval_status" in filters:
        qs = qs.filter(approval_status=_choice(filters, "approval_status", ApprovalStatus.values))
    if "method" in filters:
        qs = qs.filter(method=_choice(filters, "method", PaymentMethod.values))
    if "date_from" in filters:
        qs = qs.filter(received_on__gte=filter_date(filters, "date_from"))
    if "date_to" in filters:
        qs = qs.filter(received_on__lte=filter_date(filters, "date_to"))
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(Q(number__icontains=text) | Q(payer__icontains=text) | Q(reference__icontains=text))
    rows = qs.select_related("customer", "contract").order_by(*_sort(sort, PAYMENT_SORTS))
    return paginate(rows, limit=limit, offset=offset)


def payment_get(*, actor: User, payment_id: int) -> PaymentRecord:
    p = (
        PaymentRecord.objects.visible_to(actor)
        .select_related("customer", "contract", "owner", "created_by")
        .prefetch_related(
            Prefetch(
                "matches",
                queryset=PaymentMatch.objects.select_related("instalment").order_by("instalment__seq"),
            ),
            "documents",
        )
        .filter(pk=payment_id)
        .first()
    )
    if p is None:
        raise NotFound(_("回款记录不存在或您无权查看"), field="id")
    return p


# --- documents (单据) ------------------------------------------------------------------------------------

DOCUMENT_FILTERS = {"kind", "q", "date_from", "date_to"}


def customer_documents(
    *,
    actor: User,
    customer: Customer,
    filters: dict[str, Any] | None = None,
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """Every invoice, shipment proof, payment proof and contract attachment of a customer, newest
    first, searchable by number, file name and date (SAL-7: found within seconds)."""
    filters = clean_filters(filters, DOCUMENT_FILTERS)
    qs = OrderDocument.objects.visible_to(actor).filter(customer=customer)
    if "kind" in filters:
        qs = qs.filter(kind=_choice(filters, "kind", DocumentKind.values))
    if "date_from" in filters:
        qs = qs.filter(on__gte=filter_date(filters, "date_from"))
    if "date_to" in filters:
        qs = qs.filter(on__lte=filter_date(filters, "date_to"))
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(Q(number__icontains=text) | Q(name__icontains=text))
    return paginate(qs.select_related("uploaded_by").order_by("-on", "-id"), limit=limit, offset=offset)


def document_get(*, actor: User, document_id: int) -> OrderDocument:
    doc = OrderDocument.objects.visible_to(actor).filter(pk=document_id).first()
    if doc is None:
        raise NotFound(_("单据不存在或您无权查看"), field="id")
    return doc


# --- the customer's 360° page --------------------------------------------------------------------------


def customer_contract_count(actor: User, customer: Customer) -> int:
    return Contract.objects.visible_to(actor).filter(customer=customer).count()


def customer_order_count(actor: User, customer: Customer) -> int:
    return Order.objects.visible_to(actor).filter(customer=customer).count()


def customer_payment_count(actor: User, customer: Customer) -> int:
    return PaymentRecord.objects.visible_to(actor).filter(customer=customer).count()


def customer_document_count(actor: User, customer: Customer) -> int:
    return OrderDocument.objects.visible_to(actor).filter(customer=customer).count()


def customer_instalments(*, actor: User, customer: Customer) -> list[Instalment]:
    return list(
        Instalment.objects.visible_to(actor)
        .filter(customer=customer)
        .select_related("contract")
        .order_by("due_on", "id")[:100]
    )


def timeline_entries(actor: User, customer_ids: list[int], limit: int) -> list[TimelineEntry]:
    """Orders on the 360° timeline (registered in apps.py): when, how much, how far along."""
    # Orders show to those who may see them (owner in scope), not to everyone who sees the customer.
    rows = (
        Order.objects.visible_to(actor)
        .filter(customer_id__in=customer_ids)
        .select_related("owner")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            at=o.created_at,
            template="orders/partials/_timeline_order.html",
            item=o,
            kind="order",
            data={
                "actor": o.owner.label,
                "verb": "order",
                "subject_type": "order",
                "subject_id": o.pk,
                "subject_label": f"{o.number} · {o.get_status_display()}",
                "summary": f"{o.total_amount} {o.currency}",
                "changes": {},
            },
        )
        for o in rows
    ]


@dataclass(frozen=True)
class OrderStats:
    """What CUS-2 derives tenure, value tier and status from (the customers domain reads this)."""

    first_order_on: date | None
    orders: int
    revenue_12m: Decimal
    last_order_on: date | None


def customer_order_stats(*, customer_ids: list[int], today: date | None = None) -> dict[int, OrderStats]:
    """Per customer: first and last order date, number of orders and revenue of the last 12 months
    (cancelled orders do not count). One aggregate query over the ``order_customer_date`` index. It
    reads for the system's derivation of classifications (CUS-2), not for a person: no actor."""
    today = today or timezone.localdate()
    since = today - timedelta(days=365)
    rows = (
        Order.objects.filter(customer_id__in=customer_ids)
        .exclude(status=OrderStatus.CANCELLED)
        .values("customer_id")
        .annotate(
            first=Min("order_date"),
            last=Max("order_date"),
            n=Count("id"),
            revenue=Sum("total_amount", filter=Q(order_date__gt=since, order_date__lte=today)),
        )
        .order_by()
    )
    stats = {r["customer_id"]: OrderStats(r["first"], r["n"], _cents(r["revenue"]), r["last"]) for r in rows}
    empty = OrderStats(None, 0, _cents(ZERO), None)
    return {cid: stats.get(cid, empty) for cid in customer_ids}


def customer_order_figures(*, actor: User, customer: Customer) -> OrderStats:
    """The CUS-2 figures of one customer for someone who may see orders and this customer's orders."""
    if not can(actor, Perm.ORDER_VIEW):
        raise PermissionDenied(
            _("您没有“%(perm)s”权限"), code="permission_denied", params={"perm": Perm.ORDER_VIEW.label}
        )
    return customer_order_stats(customer_ids=[customer.pk])[customer.pk]


# --- receivables aging (SAL-7) --------------------------------------------------------------------------

BUCKETS = [b.value for b in AgingBucket]
AGING_SORTS = {"-total", "total", "-overdue", *(f"-{b}" for b in BUCKETS)}


@dataclass
class AgingRow:
    key: int | None
    label: str
    buckets: dict[str, Decimal]
    total: Decimal
    overdue: Decimal


@dataclass
class Aging:
    scope: str
    group: str
    today: date
    rows: list[AgingRow]
    totals: dict[str, Decimal]
    total: Decimal
    overdue: Decimal
    count: int
    limit: int
    offset: int
    scopes: list[str] = field(default_factory=list)
    instalments: int = 0  # the open instalments behind all groups (the list's count without a bucket)

    @property
    def page(self) -> Page:
        return Page(items=self.rows, count=self.count, limit=self.limit, offset=self.offset)


def _bucket_conditions(today: date) -> dict[str, Q]:
    d30, d60, d90 = (today - timedelta(days=n) for n in (30, 60, 90))
    return {
        AgingBucket.CURRENT.value: Q(due_on__gte=today),
        AgingBucket.D1_30.value: Q(due_on__lt=today, due_on__gte=d30),
        AgingBucket.D31_60.value: Q(due_on__lt=d30, due_on__gte=d60),
        AgingBucket.D61_90.value: Q(due_on__lt=d60, due_on__gte=d90),
        AgingBucket.D90_PLUS.value: Q(due_on__lt=d90),
    }


def _bucket_sums(today: date) -> dict[str, Any]:
    return {bucket: Sum("outstanding", filter=cond) for bucket, cond in _bucket_conditions(today).items()}


def _rank_value(sort: str, today: date) -> Any:
    """The one sum the groups are ranked by: all outstanding, the overdue part or one bucket's — 0 for
    none (not NULL), so empty ones sort last on both databases. Added up as double precision: only
    the order comes from it (the amounts shown are the exact decimal sums of ``_grouped``), and
    PostgreSQL adds ~78,000 floats in ~20 ms less than numerics. ``_ranked_keys`` sorts by it rounded
    to the cent, so equal amounts tie exactly whatever order they were added in."""
    name = sort.lstrip("-")
    amount = Cast("outstanding", FloatField())
    if name == "total":
        return Sum(amount)
    cond = Q(due_on__lt=today) if name == "overdue" else _bucket_conditions(today)[name]
    return Coalesce(Sum(amount, filter=cond), Value(0.0), output_field=FloatField())


def _open_receivables(actor: User, scope: str) -> Any:
    if not can(actor, Perm.RECEIVABLES_VIEW):
        raise PermissionDenied(
            _("您没有“%(perm)s”权限"), code="permission_denied", params={"perm": Perm.RECEIVABLES_VIEW.label}
        )
    owners = view_scope_owner_ids(actor, scope)
    qs = Instalment.objects.visible_to(actor).filter(receivable=True, outstanding__gt=0)
    if owners is not None:
        qs = qs.filter(owner_id__in=sorted(owners))
    return qs


def receivables_aging(
    *, actor: User, scope: str | None = None, group: str = AgingGroup.CUSTOMER, sort: str = "-total",
    today: date | None = None, limit: Any = None, offset: Any = None,
) -> Aging:  # fmt: skip
    """Outstanding receivables (due − received, approved payments only) of the view ``scope`` (本人 /
    本人及下属 / 部门 / 全部), bucketed 未到期 / 1–30 / 31–60 / 61–90 / 90+ days overdue and grouped by
    customer, owner or department (SAL-7). Three reads over the partial covering index
    ``instalment_open_aging`` (open receivables by owner and due date): the page's groups in order
    (``_ranked_keys``), their buckets, and the totals; plus the page's names."""
    scopes = view_scopes(actor)
    scope = scope or (
        ViewScope.ALL.value
        if ViewScope.ALL.value in scopes
        else (scopes[-1] if scopes else ViewScope.MINE.value)
    )
    if group not in AgingGroup.values:
        raise ValidationError(_("分组方式“%(g)s”无效"), field="group", params={"g": group})
    if sort not in AGING_SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    lim, off = clean_window(limit, offset)
    today = today or timezone.localdate()
    qs = _open_receivables(actor, scope)
    key = f"{group}_id"
    sums = _bucket_sums(today)
    keys, groups = _ranked_keys(
        qs, key, _rank_value(sort, today), ascending=sort == "total", lim=lim, off=off
    )
    by_key = {r[key]: r for r in _grouped(qs, key, keys, sums)}
    totals = qs.aggregate(**sums, instalments=Count("*"))
    if groups is None:  # a page past the last group: count them on their own
        groups = qs.aggregate(n=Count(key, distinct=True))["n"] + (
            1 if qs.filter(**{key: None}).exists() else 0
        )
    labels = _labels(group, keys)
    rows = []
    for k in keys:
        # A group paid off between the ranking and this read (a payment approved meanwhile) has no
        # open instalment left: it shows as zeros on this page rather than failing it.
        buckets = {b: _cents(by_key[k][b] if k in by_key else None) for b in BUCKETS}
        total = sum(buckets.values(), ZERO)
        rows.append(AgingRow(key=k, label=labels.get(k, "—"), buckets=buckets, total=total,
                             overdue=total - buckets[AgingBucket.CURRENT.value]))  # fmt: skip
    bucket_totals = {b: _cents(totals[b]) for b in BUCKETS}
    total = sum(bucket_totals.values(), ZERO)
    return Aging(
        scope=scope, group=group, today=today, rows=rows, totals=bucket_totals, total=total,
        overdue=total - bucket_totals[AgingBucket.CURRENT.value], count=groups,
        instalments=totals["instalments"] or 0, limit=lim, offset=off, scopes=scopes,
    )  # fmt: skip


def _ranked_keys(
    qs: Any, key: str, rank: Any, *, ascending: bool, lim: int, off: int
) -> tuple[list[Any], int | None]:
    """The page's group keys in rank order, and the number of groups (``None`` for a page past the
    last one). The groups are ranked by ONE sum, the number of groups is a window count over them:
    grouping the open instalments is the expensive part (a department has ~78,000 of ~42,000
    customers, issue-4 benchmark), so it is done once, with as little to add up as possible; the
    page's five buckets and the totals are read afterwards (``_grouped``, one aggregate)."""
    quote = connection.ops.quote_name
    inner, params = qs.values(key).annotate(rank_value=rank).order_by().query.sql_with_params()
    sql = (
        f"SELECT g.{quote(key)}, COUNT(*) OVER () FROM ({inner}) g "
        f"ORDER BY ROUND(g.{quote('rank_value')} * 100) {'ASC' if ascending else 'DESC'}, g.{quote(key)} ASC "
        "LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, lim, off))
        fetched = cursor.fetchall()
    return [r[0] for r in fetched], (int(fetched[0][1]) if fetched else (0 if off == 0 else None))


def _grouped(qs: Any, key: str, keys: list[Any], sums: dict[str, Any]) -> Any:
    """The five bucket sums of the page's groups only (a few dozen keys: an index lookup each)."""
    if not keys:
        return []
    wanted = Q(**{f"{key}__in": [k for k in keys if k is not None]})
    if None in keys:  # 无部门
        wanted |= Q(**{f"{key}__isnull": True})
    return qs.filter(wanted).values(key).annotate(**sums).order_by()


def _labels(group: str, ids: list[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    if group == AgingGroup.CUSTOMER:
        return dict(Customer.objects.filter(pk__in=wanted).values_list("pk", "name"))
    if group == AgingGroup.OWNER:
        return {u.pk: u.label for u in User.objects.filter(pk__in=wanted)}
    out: dict[int | None, str] = dict(Department.objects.filter(pk__in=wanted).values_list("pk", "name"))
    out[None] = str(_("（无部门）"))
    return out


RECEIVABLE_FILTERS = {"bucket", "customer", "owner", "department"}
# What a row of the list shows of its contract, customer and owner (their rows are wide).
RECEIVABLE_ROW_FIELDS = [
    *(f.attname for f in Instalment._meta.concrete_fields),
    "contract__number", "customer__name", "owner__display_name", "owner__username",
]  # fmt: skip


def receivable_list(
    *, actor: User, scope: str | None = None, filters: dict[str, Any] | None = None, today: date | None = None,
    limit: Any = None, offset: Any = None, aging: Aging | None = None,
) -> Page:  # fmt: skip
    """The open instalments behind the aging, oldest due first; ``bucket`` keeps one aging bucket.
    Given the ``aging`` of the same scope, an unfiltered list takes its count from it."""
    scopes = view_scopes(actor)
    scope = scope or (
        ViewScope.ALL.value
        if ViewScope.ALL.value in scopes
        else (scopes[-1] if scopes else ViewScope.MINE.value)
    )
    filters = clean_filters(filters, RECEIVABLE_FILTERS)
    today = today or timezone.localdate()
    qs = _open_receivables(actor, scope)
    for key in ("customer", "owner", "department"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    if "bucket" in filters:
        bucket = _choice(filters, "bucket", BUCKETS)
        d30, d60, d90 = (today - timedelta(days=n) for n in (30, 60, 90))
        qs = qs.filter({
            "current": Q(due_on__gte=today), "d1_30": Q(due_on__lt=today, due_on__gte=d30),
            "d31_60": Q(due_on__lt=d30, due_on__gte=d60), "d61_90": Q(due_on__lt=d60, due_on__gte=d90),
            "d90_plus": Q(due_on__lt=d90),
        }[bucket])  # fmt: skip
    # The page's ids first, from the covering index alone (a department has tens of thousands of open
    # instalments: sorting their full rows with the joins took seconds on SQLite), then those rows.
    known = aging.instalments if aging is not None and aging.scope == scope and not filters else None
    page = paginate(
        qs.order_by("due_on", "id").values_list("id", flat=True), limit=limit, offset=offset, count=known
    )
    rows = {
        i.pk: i
        for i in Instalment.objects.filter(pk__in=list(page.items))
        .select_related("contract", "customer", "owner")
        .only(*RECEIVABLE_ROW_FIELDS)
    }
    page = dataclasses.replace(page, items=[rows[pk] for pk in page.items])
    for i in page.items:
        i.bucket = aging_bucket(i.due_on, today)
        i.days_overdue = max((today - i.due_on).days, 0)
    return page


def late_order_count(*, actor: User) -> int:
    return (
        Order.objects.visible_to(actor)
        .filter(
            status__in=[s.value for s in UNSHIPPED_ORDER_STATUSES], promised_ship_on__lt=timezone.localdate()
        )
        .count()
    )


def contract_visible(*, actor: User, contract_id: int) -> bool:
    return Contract.objects.visible_to(actor).filter(pk=contract_id).exists()


def order_visible(*, actor: User, order_id: int) -> bool:
    return Order.objects.visible_to(actor).filter(pk=order_id).exists()


def transfer_choices(*, actor: User) -> list[User]:
    """Whom a contract or an order may be handed to: the active users (for those who may edit them)."""
    from kehu.access.selectors import user_choices

    if not (can(actor, Perm.CONTRACT_EDIT) or can(actor, Perm.ORDER_EDIT)):
        return []
    return list(user_choices())
