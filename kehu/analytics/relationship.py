"""Relationship length, depth and breadth (关系长度·深度·广度, ANA-6) per period (month or quarter) and per
person (the order's owner) or department. The database reads the orders the reader may see; the rules are
one pure pass over them in date order (:func:`compute`), so they can be tested on hand-built orders.

Definitions (docs/how-to/analytics.md, "Relationship length, depth and breadth"):

* **Orders.** Orders the reader sees (``Order.objects.visible_to``) of customers the reader sees
  (``Customer.objects.visible_to``: live, not merged), not cancelled, dated on or before today. A
  customer's *history* is all such orders, whoever sold them; the view scope only decides which orders
  (by their owner) are *counted* in the figures. A *purchase day* is a day with an order of the customer;
  "earlier" always means an earlier day (orders of the same day are one purchase, as in the churn and
  lifecycle rules).
* **Periods.** The calendar months or quarters (Asia/Shanghai) that meet the report's range, cut to the
  range (a range from 15 January has a first period of 15–31 January). A customer is *active* in a
  period when it has an order in it.
* **Attribution.** Revenue belongs to each order's owner (person) or the order's department (copied
  onto the order when it was made). A customer's breadth class and relationship length in a period
  belong to the owner / department of its first order in the period (by date, then number); the customer
  is counted in a scope when that order's owner is one of the scope's people.

Depth (money, ``Decimal``, the orders' amounts as recorded):

* **Repeat-purchase revenue (重复购买收入).** Σ order amount of the orders of customers who had an order
  on an earlier day. The rest of the revenue is **first-purchase revenue (首购收入)**: the orders of a
  customer's first purchase day.
* **Cross-sell revenue (交叉销售收入).** Σ line amount of the lines of repeat orders whose product
  category (the catalogue's ``Product.category``) the customer had not bought on any earlier day.
* **Up-sell revenue (向上销售收入).** Σ line amount of the lines of repeat orders in a category the
  customer had bought before, whose unit price is higher than the highest unit price the customer paid
  in that category on any earlier day.
  Cross-sell and up-sell are parts of repeat-purchase revenue and never overlap; a line without a
  product or whose product has no category is neither. Repeat revenue − cross-sell − up-sell is shown as
  **other repeat revenue (其他重复购买收入)**.
* **Referrals (转介绍客户).** Customers created in the period (``Customer.created_at``) whose source is
  客户来源 “客户推荐” (option code ``referral``): Kehu records *that* a customer was referred, not by whom,
  so a referral belongs to the referred customer's owner (and that owner's department); of the customers
  the scope counts (``selectors.scope_customers``).

Breadth (customers active in the period, each in exactly one class, tried in this order):

1. **New customers gained (新客户).** The customer's first order is in the period.
2. **Lost customers won back (流失挽回).** The days from the customer's last purchase before the period to
   its first purchase in the period exceed ``lost_days`` (default 365, 30–1095): it had been lost.
3. **Old customers retained (老客户保留).** The customer also bought in the previous calendar month /
   quarter (the whole one, even when the range starts inside it).
4. **Other returning customers (其他回头客).** Everyone else: bought before, not in the previous period,
   not gone long enough to count as lost.

Length:

* **Relationship length (关系长度).** For each active customer, the days from the start of the
  relationship — the earlier of its first order and the day its record was created — to the end of the
  period (today for a period not yet over). Mean and median days, and the distribution in bands of
  365-day years: under 1, 1–2, 2–3, 3–5, 5 years and more.

The row of a person or department over the whole range adds up its periods (a customer retained in three
months counts three times; its length is counted once per period); the row of a period adds up its
people or departments.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm, ViewScope
from kehu.access.scope import require, view_scope_owner_ids, view_scopes
from kehu.core.errors import ValidationError
from kehu.core.pagination import clean_filters
from kehu.core.periods import DateRange, Period, period_range
from kehu.customers.models import Customer, customer_visible_q
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order, OrderLine

RELATIONSHIP_FILTERS = frozenset({"period", "from", "to", "scope", "bucket", "group", "lost_days"})
BUCKETS = {"month": _("按月"), "quarter": _("按季度")}
GROUPS = {"owner": _("按负责人"), "department": _("按部门")}
DEFAULT_PERIOD = Period.YEAR
DEFAULT_LOST_DAYS = 365
LOST_DAYS_RANGE = (30, 1095)
REFERRAL_SOURCE = "referral"  # the 客户来源 option 客户推荐
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# Relationship length bands: (key, label, from days, to days (excluded) or None).
BANDS: tuple[tuple[str, Any, int, int | None], ...] = (
    ("lt1", _("不足 1 年"), 0, 365),
    ("y1", _("1–2 年"), 365, 730),
    ("y2", _("2–3 年"), 730, 1095),
    ("y3", _("3–5 年"), 1095, 1825),
    ("y5", _("5 年及以上"), 1825, None),
)
DEPTH_LABELS = {
    "first_revenue": _("首购收入"),
    "other_repeat_revenue": _("其他重复购买收入"),
    "cross_sell": _("交叉销售收入"),
    "up_sell": _("向上销售收入"),
}
BREADTH_LABELS = {
    "gained": _("新客户"),
    "retained": _("老客户保留"),
    "won_back": _("流失挽回"),
    "returning": _("其他回头客"),
}


def band_of(days: int) -> str:
    for key, _label, lo, hi in BANDS:
        if days >= lo and (hi is None or days < hi):
            return key
    return BANDS[0][0]  # a negative length cannot happen (the start is never after the order)


@dataclass
class Figures:
    """The figures of one row: a period × group, a period, a group over the range, or the whole."""

    key: str
    label: str
    revenue: Decimal = ZERO
    repeat_revenue: Decimal = ZERO
    cross_sell: Decimal = ZERO
    up_sell: Decimal = ZERO
    referrals: int = 0
    gained: int = 0
    retained: int = 0
    won_back: int = 0
    returning: int = 0
    lengths: list[int] = field(default_factory=list, repr=False)

    @property
    def first_revenue(self) -> Decimal:
        return self.revenue - self.repeat_revenue

    @property
    def other_repeat_revenue(self) -> Decimal:
        return self.repeat_revenue - self.cross_sell - self.up_sell

    @property
    def active(self) -> int:
        return self.gained + self.retained + self.won_back + self.returning

    @property
    def mean_days(self) -> float | None:
        return round(statistics.fmean(self.lengths), 1) if self.lengths else None

    @property
    def median_days(self) -> float | None:
        return round(float(statistics.median(self.lengths)), 1) if self.lengths else None

    @property
    def bands(self) -> dict[str, int]:
        out = {key: 0 for key, *_rest in BANDS}
        for days in self.lengths:
            out[band_of(days)] += 1
        return out

    @property
    def empty(self) -> bool:
        return not (self.revenue or self.referrals or self.active)

    def add(self, other: Figures) -> None:
        for name in ("revenue", "repeat_revenue", "cross_sell", "up_sell", "referrals", "gained", "retained",
                     "won_back", "returning"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lengths.extend(other.lengths)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "revenue": self.revenue, "first_revenue": self.first_revenue,
            "repeat_revenue": self.repeat_revenue, "cross_sell": self.cross_sell, "up_sell": self.up_sell,
            "other_repeat_revenue": self.other_repeat_revenue, "referrals": self.referrals, "active": self.active,
            "gained": self.gained, "retained": self.retained, "won_back": self.won_back, "returning": self.returning,
            "mean_days": self.mean_days, "median_days": self.median_days, "length_bands": self.bands,
        }  # fmt: skip


# --- the pure rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """A period of the report: the calendar month / quarter starting ``calendar_start``, cut to the range."""

    key: str
    label: str
    calendar_start: dt.date
    start: dt.date
    end: dt.date


def calendar_start(day: dt.date, bucket: str) -> dt.date:
    if bucket == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def previous_start(start: dt.date, bucket: str) -> dt.date:
    """The first day of the calendar month / quarter before the one starting ``start``."""
    months = 3 if bucket == "quarter" else 1
    index = start.year * 12 + start.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _next_start(start: dt.date, bucket: str) -> dt.date:
    months = 3 if bucket == "quarter" else 1
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def buckets_of(span: DateRange, bucket: str) -> list[Bucket]:
    out = []
    first = calendar_start(span.start, bucket)
    while first <= span.end:
        following = _next_start(first, bucket)
        label = f"{first.year}Q{(first.month - 1) // 3 + 1}" if bucket == "quarter" else f"{first:%Y-%m}"
        out.append(Bucket(key=first.isoformat(), label=label, calendar_start=first, start=max(first, span.start),
                          end=min(following - dt.timedelta(days=1), span.end)))  # fmt: skip
        first = following
    return out


@dataclass(frozen=True)
class OrderFact:
    id: int
    customer: int
    day: dt.date
    amount: Decimal
    owner: int | None
    department: int | None


@dataclass(frozen=True)
class LineFact:
    category: str
    unit_price: Decimal
    total: Decimal


@dataclass
class Prior:
    """A customer's history before the orders :func:`compute` is given: its first and last purchase days
    and the highest unit price it paid per product category."""

    first_day: dt.date | None = None
    last_day: dt.date | None = None
    top_price: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Referral:
    day: dt.date
    owner: int | None
    department: int | None


@dataclass
class _State:
    """A customer's history as of the day being read: ``first_day``, ``last_day`` and ``top_price`` are of
    the earlier days only; the prices of the day's own orders wait in ``day_prices`` and join the history
    when an order of a later day comes (so orders of one day never count as each other's history)."""

    first_day: dt.date | None
    last_day: dt.date | None
    top_price: dict[str, Decimal]
    periods: set[dt.date] = field(default_factory=set)  # calendar starts of the periods it bought in
    day: dt.date | None = None
    day_prices: dict[str, Decimal] = field(default_factory=dict)

    def advance(self, day: dt.date) -> None:
        if self.day is not None and self.day != day:
            self._commit()
        self.day = day

    def _commit(self) -> None:
        assert self.day is not None
        if self.first_day is None:
            self.first_day = self.day
        self.last_day = self.day
        for category, price in self.day_prices.items():
            if price > self.top_price.get(category, Decimal("-1")):
                self.top_price[category] = price
        self.day_prices = {}

    def record(self, lines: Iterable[LineFact], period: dt.date) -> None:
        for line in lines:
            category = line.category.strip()
            if category and line.unit_price > self.day_prices.get(category, Decimal("-1")):
                self.day_prices[category] = line.unit_price
        self.periods.add(period)


def compute(
    *,
    buckets: list[Bucket],
    bucket: str,
    orders: Iterable[OrderFact],
    lines: dict[int, list[LineFact]],
    prior: dict[int, Prior],
    created: dict[int, dt.date],
    referrals: Iterable[Referral],
    group: Callable[[int | None, int | None], Any],
    counted: Callable[[int | None], bool],
    lost_days: int,
    today: dt.date,
) -> dict[tuple[str, Any], Figures]:
    """The figures per (bucket key, group key), by the rules of the module docstring.

    ``orders`` are in (day, id) order, from the start of the calendar period before the first bucket
    (earlier ones are summarised in ``prior``) to the last bucket's end; those before the first bucket are
    history only. ``group(owner, department)`` gives a row's group key; ``counted(owner)`` whether the
    view scope counts an order of that owner. ``created`` is each customer's record creation day."""
    cells: dict[tuple[str, Any], Figures] = {}
    if not buckets:
        return cells

    def cell(b: Bucket, key: Any) -> Figures:
        if (b.key, key) not in cells:
            cells[(b.key, key)] = Figures(key=b.key, label=b.label)
        return cells[(b.key, key)]

    by_start = {b.calendar_start: b for b in buckets}
    states: dict[int, _State] = {}
    seen: set[tuple[int, str]] = set()  # (customer, bucket key) already classed
    first_start = buckets[0].start
    for order in orders:
        state = states.get(order.customer)
        if state is None:
            p = prior.get(order.customer) or Prior()
            state = states[order.customer] = _State(p.first_day, p.last_day, dict(p.top_price))
        state.advance(order.day)
        period_start = calendar_start(order.day, bucket)
        order_lines = lines.get(order.id, [])
        b = by_start.get(period_start)
        if b is not None and order.day >= first_start and order.day <= b.end:
            key = group(order.owner, order.department)
            is_counted = counted(order.owner)
            repeat = state.last_day is not None  # a purchase on an earlier day
            if is_counted:
                c = cell(b, key)
                c.revenue += order.amount
                if repeat:
                    c.repeat_revenue += order.amount
                    for line in order_lines:
                        category = line.category.strip()
                        if not category:
                            continue
                        top = state.top_price.get(category)
                        if top is None:
                            c.cross_sell += line.total
                        elif line.unit_price > top:
                            c.up_sell += line.total
            if (order.customer, b.key) not in seen:
                seen.add((order.customer, b.key))
                if is_counted:
                    c = cell(b, key)
                    if state.last_day is None:
                        c.gained += 1
                    elif (order.day - state.last_day).days > lost_days:
                        c.won_back += 1
                    elif previous_start(b.calendar_start, bucket) in state.periods:
                        c.retained += 1
                    else:
                        c.returning += 1
                    starts = [d for d in (state.first_day, order.day, created.get(order.customer)) if d]
                    c.lengths.append((min(b.end, today) - min(starts)).days)
        state.record(order_lines, period_start)
    for r in referrals:
        b = by_start.get(calendar_start(r.day, bucket))
        if b is not None and b.start <= r.day <= b.end:
            cell(b, group(r.owner, r.department)).referrals += 1
    return cells


# --- reading the database --------------------------------------------------------------------------------


@dataclass
class Relationship:
    scope: str
    scopes: list[str]
    range: DateRange
    bucket: str
    group: str
    lost_days: int
    total: Figures
    periods: list[Figures]  # one per period, every group added up
    groups: list[Figures]  # one per person / department, every period added up
    cells: list[tuple[Figures, Figures]]  # (period, the group's figures in it), periods in order

    @property
    def empty(self) -> bool:
        return self.total.empty


@dataclass
class _Filters:
    scope: str
    owner_ids: set[int] | None
    span: DateRange
    bucket: str
    group: str
    lost_days: int


def _clean(actor: User, filters: dict[str, Any] | None, today: dt.date, default_scope: str) -> _Filters:
    f = clean_filters(filters, RELATIONSHIP_FILTERS)
    scope = str(f.get("scope") or default_scope)
    owner_ids = view_scope_owner_ids(actor, scope)  # names the field ``scope``
    span = period_range(f.get("period") or DEFAULT_PERIOD, today=today, start=f.get("from"), end=f.get("to"))
    bucket = str(f.get("bucket") or "month")
    if bucket not in BUCKETS:
        raise ValidationError(
            _("分组“%(v)s”无效（可选：month, quarter）"), field="bucket", params={"v": bucket}
        )
    group = str(f.get("group") or "owner")
    if group not in GROUPS:
        raise ValidationError(
            _("分组方式“%(v)s”无效（可选：owner, department）"), field="group", params={"v": group}
        )
    lost_days = DEFAULT_LOST_DAYS
    if "lost_days" in f:
        lo, hi = LOST_DAYS_RANGE
        try:
            lost_days = int(str(f["lost_days"]).strip())
        except ValueError:
            lost_days = -1
        if not lo <= lost_days <= hi:
            raise ValidationError(
                _("流失间隔应为 %(lo)s 到 %(hi)s 之间的整数天"),
                field="lost_days",
                params={"lo": lo, "hi": hi},
            )
    return _Filters(scope, owner_ids, span, bucket, group, lost_days)


def visible_orders(actor: User) -> QuerySet:
    """The orders the rules read: visible to the reader, of a customer the reader sees (the customers'
    rule for what hangs off a customer: in 全部 "not deleted or merged" rather than IN every customer),
    not cancelled."""
    return (
        Order.objects.visible_to(actor)
        .filter(customer_visible_q(actor))
        .exclude(status=OrderStatus.CANCELLED)
        .order_by()
    )


def _history(orders: QuerySet, before: dt.date, active: QuerySet) -> dict[int, Prior]:
    """The history before ``before`` of the customers active in the range: two GROUP BYs."""
    earlier = orders.filter(order_date__lt=before, customer_id__in=active)
    prior: dict[int, Prior] = {}
    for customer_id, first, last in (
        earlier.values("customer_id")
        .annotate(first=Min("order_date"), last=Max("order_date"))
        .values_list("customer_id", "first", "last")
    ):
        prior[customer_id] = Prior(first_day=first, last_day=last)
    tops = (
        OrderLine.objects.filter(order__in=earlier.values("pk"))
        .exclude(product__category="")
        .filter(product__isnull=False)
        .values("order__customer_id", "product__category")
        .annotate(top=Max("unit_price"))
        .values_list("order__customer_id", "product__category", "top")
    )
    for customer_id, category, top in tops:
        category = (category or "").strip()
        if category:
            p = prior.setdefault(customer_id, Prior())
            top = Decimal(top).quantize(CENT)  # an aggregate: SQLite's converter does not round it
            if top > p.top_price.get(category, Decimal("-1")):
                p.top_price[category] = top
    return prior


def _labels(group: str, keys: Iterable[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k is not None]
    labels: dict[Any, str] = {}
    if group == "department":
        labels.update((d.pk, d.name) for d in Department.objects.filter(pk__in=ids))
        labels[None] = str(_("（无部门）"))
    else:
        labels.update((u.pk, u.label) for u in User.objects.filter(pk__in=ids))
        labels[None] = str(_("公海（无负责人）"))
    return labels


def relationship(
    *, actor: User, filters: dict[str, Any] | None = None, default_scope: str = ViewScope.MINE.value,
    today: dt.date | None = None,
) -> Relationship:  # fmt: skip
    """Relationship length, depth and breadth of the orders ``actor`` sees, in a view scope and period."""
    from .selectors import scope_customers

    require(actor, Perm.ANALYTICS_VIEW)
    today = today or timezone.localdate()
    f = _clean(actor, filters, today, default_scope)
    buckets = buckets_of(f.span, f.bucket)
    read_from = previous_start(buckets[0].calendar_start, f.bucket)
    read_to = min(f.span.end, today)
    orders = visible_orders(actor)
    window = orders.filter(order_date__gte=read_from, order_date__lte=read_to)
    active = window.filter(order_date__gte=f.span.start).values("customer_id")
    prior = _history(orders, read_from, active)

    # Columns come as Decimals of two places (SQLite's converter rounds them); no per-row rounding here.
    facts = [
        OrderFact(*row)
        for row in window.order_by("order_date", "id").values_list(
            "id", "customer_id", "order_date", "total_amount", "owner_id", "department_id"
        )
    ]
    created = {
        pk: timezone.localtime(made).date()
        for pk, made in Customer.objects.filter(pk__in=active).values_list("pk", "created_at")
    }
    lines: dict[int, list[LineFact]] = defaultdict(list)
    for order_id, category, price, total in (
        OrderLine.objects.filter(order__in=window.values("pk"))
        .order_by()
        .values_list("order_id", "product__category", "unit_price", "total")
    ):
        lines[order_id].append(LineFact(category or "", price, total))

    start, end = f.span.bounds()
    referred = (
        scope_customers(actor, f.scope)
        .filter(source__code=REFERRAL_SOURCE, created_at__gte=start, created_at__lt=end)
        .order_by()
        .values_list("created_at", "owner_id", "owner__department_id")
    )
    referrals = [Referral(timezone.localtime(at).date(), owner, dept) for at, owner, dept in referred]

    owner_ids = f.owner_ids

    def group_key(owner: int | None, department: int | None) -> Any:
        return department if f.group == "department" else owner

    def counted(owner: int | None) -> bool:
        return owner_ids is None or owner in owner_ids

    cells = compute(
        buckets=buckets, bucket=f.bucket, orders=facts, lines=lines, prior=prior, created=created,
        referrals=referrals, group=group_key, counted=counted, lost_days=f.lost_days, today=today,
    )  # fmt: skip
    return _assemble(actor, f, buckets, cells)


def _assemble(
    actor: User, f: _Filters, buckets: list[Bucket], cells: dict[tuple[str, Any], Figures]
) -> Relationship:
    labels = _labels(f.group, {k for _b, k in cells})
    periods = {b.key: Figures(key=b.key, label=b.label) for b in buckets}
    groups: dict[Any, Figures] = {}
    total = Figures(key="", label=str(_("合计")))
    rows: list[tuple[Figures, Figures]] = []
    for b in buckets:
        for (bucket_key, group_key), c in sorted(
            ((k, v) for k, v in cells.items() if k[0] == b.key), key=lambda kv: labels.get(kv[0][1], "")
        ):
            periods[bucket_key].add(c)
            label = labels.get(group_key, str(group_key))
            g = groups.setdefault(
                group_key, Figures(key="" if group_key is None else str(group_key), label=label)
            )
            g.add(c)
            total.add(c)
            rows.append((periods[bucket_key], Figures(**{**c.__dict__, "key": g.key, "label": label})))
    ordered = sorted(groups.values(), key=lambda g: (-g.revenue, -g.active, g.label))
    return Relationship(
        scope=f.scope, scopes=view_scopes(actor), range=f.span, bucket=f.bucket, group=f.group,
        lost_days=f.lost_days, total=total, periods=list(periods.values()), groups=ordered, cells=rows,
    )  # fmt: skip
