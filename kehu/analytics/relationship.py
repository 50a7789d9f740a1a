"""Relationship length, depth and breadth (关系长度·深度·广度, ANA-6) per period (month or quarter) and per
person (the order's owner) or department. The database reads the orders the reader may see as integer
arrays (:func:`read_ledger`: a few queries, days and cents, binary COPY on PostgreSQL); the rules are array
operations over them (:func:`tally`: sorts, running maxima, sums per cell — no Python per order), and
:func:`compute` runs the same rules on hand-built orders for the tests.

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
import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, Max, Min, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm, ViewScope
from kehu.access.scope import (
    can,
    every_owner_q,
    owner_ids_in_scope,
    require,
    view_scope_owner_ids,
    view_scopes,
)
from kehu.catalog.models import Product
from kehu.core.errors import ValidationError
from kehu.core.pagination import clean_filters
from kehu.core.periods import DateRange, Period, period_range
from kehu.customers.models import LIVE, Customer, customer_visible_q, live_customer_q, sees_every_customer
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order

from .facts import IntArray, Later, cents_sql, day_number, day_sql, int_sql, read_ints, start_bulk_ints
from .models import RelationshipCell, RelationshipPeriod

RELATIONSHIP_FILTERS = frozenset({"period", "from", "to", "scope", "bucket", "group", "lost_days", "live"})
BUCKETS = {"month": _("按月"), "quarter": _("按季度")}
GROUPS = {"owner": _("按负责人"), "department": _("按部门")}
DEFAULT_PERIOD = Period.YEAR
DEFAULT_LOST_DAYS = 365
LOST_DAYS_RANGE = (30, 1095)
REFERRAL_SOURCE = "referral"  # the 客户来源 option 客户推荐
# The stored periods (ADR 0019): the months and quarters of this calendar year and the last — 本月, 本季度,
# 本年 and any whole months or quarters of last year — as of the nightly refresh, for readers who see
# every order. A reader gets them while they are at most this old; otherwise the report is computed live.
STORED_YEARS = 2
STORED_MAX_AGE = dt.timedelta(days=1)
COMPANY_LEDGER = "all"  # RelationshipPeriod.ledger of the readers who see every order and customer
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
    """The figures of one row: a period × group, a period, a group over the range, or the whole.
    ``lengths`` are the relationship lengths in days counted in the row, as an integer array."""

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
    lengths: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

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
        n = len(self.lengths)
        return round(int(self.lengths.sum()) / n, 1) if n else None

    @property
    def median_days(self) -> float | None:
        n = len(self.lengths)
        if not n:
            return None
        middle = np.partition(self.lengths, [(n - 1) // 2, n // 2])
        return round((int(middle[(n - 1) // 2]) + int(middle[n // 2])) / 2, 1)

    @property
    def bands(self) -> dict[str, int]:
        edges = np.array([lo for _key, _label, lo, _hi in BANDS[1:]], dtype=np.int64)
        counts = np.bincount(np.searchsorted(edges, self.lengths, side="right"), minlength=len(BANDS))
        return {key: int(n) for (key, *_rest), n in zip(BANDS, counts, strict=True)}

    @property
    def empty(self) -> bool:
        return not (self.revenue or self.referrals or self.active)

    def add(self, other: Figures) -> None:
        """Add ``other``'s money and counts (the lengths are gathered by the caller: see :func:`_assemble`)."""
        for name in ("revenue", "repeat_revenue", "cross_sell", "up_sell", "referrals", "gained", "retained",
                     "won_back", "returning"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

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


@dataclass(frozen=True)
class Ledger:
    """The rows the rules read, as integer arrays: days are day numbers (``facts.day_number``), money is in
    cents, a product category is a code (-1: none or blank) and a missing owner or department is -1.

    * ``orders`` (n × 6): id, customer, day, amount, owner, department — every order from the start of the
      calendar period before the first bucket to the last bucket's end (the earlier ones are history only).
    * ``lines`` (n × 4): order id, category, unit price, line amount — the lines of those orders.
    * ``prior_days`` (n × 3): customer, first and last purchase day before ``orders`` (``FAR`` /
      ``NO_DAY``: none), at most one row per customer.
    * ``prior_tops`` (n × 3): customer, category, a unit price it paid in that category before ``orders``
      (the highest of a customer's rows of a category counts).
    * ``created`` (n × 2): customer, the day its record was created.
    * ``referrals`` (n × 3): day, owner, department of the referred customers."""

    orders: IntArray
    lines: IntArray
    prior_days: IntArray
    prior_tops: IntArray
    created: IntArray
    referrals: IntArray


NO_DAY = -(2**40)  # "no such purchase": before every day
FAR = 2**40  # "no such day": after every day


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _money(cents: Any) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


def _starts(*columns: IntArray) -> npt.NDArray[np.bool_]:
    """Rows sorted by ``columns`` that begin a run of equal values (in every column)."""
    n = columns[0].shape[0]
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
        for column in columns:
            new[1:] |= column[1:] != column[:-1]
    return new


def _packed(*columns: IntArray) -> IntArray | None:
    """The rows' values in ``columns`` packed into one 64-bit key that sorts like the columns in turn
    (first column first), or None when their ranges do not fit in 62 bits together."""
    n = columns[0].shape[0]
    lows, bits = [], []
    for column in columns:
        low = int(column.min()) if n else 0
        lows.append(low)
        bits.append((int(column.max()) - low).bit_length() if n else 0)
    if sum(bits) > 62:
        return None
    key = np.zeros(n, dtype=np.int64)
    for column, low, width in zip(columns, lows, bits, strict=True):
        key <<= width
        key |= column - low
    return key


def _sort_order(*columns: IntArray) -> IntArray:
    """The indices that sort the rows by ``columns`` (first column first): one quicksort of the packed
    key when it fits (several times faster than a lexsort), else a lexsort. Rows equal in every column
    come in no particular order."""
    key = _packed(*columns)
    return np.lexsort(columns[::-1]) if key is None else np.argsort(key)


def _dense(values: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct ``values`` ascending and each value's position among them (``np.unique`` with
    ``return_inverse``; through a table when the values span little more than their count)."""
    n = values.shape[0]
    low = int(values.min()) if n else 0
    span = int(values.max()) - low + 1 if n else 0
    if not n or span > 4 * n + 1024:
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.reshape(-1)
    present = np.zeros(span, dtype=bool)
    present[values - low] = True
    position = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, position[values - low]


def _rows_of(ids: IntArray, wanted: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """For each of ``wanted``: the row of ``ids`` (unique) holding it, and whether there is one."""
    n = ids.shape[0]
    if not n:
        return np.zeros(wanted.shape[0], dtype=np.int64), np.zeros(wanted.shape[0], dtype=bool)
    low, high = int(ids.min()), int(ids.max())
    if high - low + 1 <= 4 * n + 1024:  # dense ids: a table of rows
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[ids - low] = np.arange(n, dtype=np.int64)
        inside = (wanted >= low) & (wanted <= high)
        row = np.full(wanted.shape[0], -1, dtype=np.int64)
        row[inside] = table[wanted[inside] - low]
        return np.maximum(row, 0), row >= 0
    by_id = np.argsort(ids)
    pos = np.minimum(np.searchsorted(ids[by_id], wanted), n - 1)
    return by_id[pos], ids[by_id][pos] == wanted


def _running_max(group: IntArray, values: IntArray) -> IntArray:
    """The running maximum of ``values`` within each run of equal ``group`` (ascending): one
    ``maximum.accumulate`` over the values lifted by their group, so no group's values reach the next's."""
    low = int(values.min())
    levels = int(values.max()) - low + 1
    distinct = None
    if (int(group.max()) + 1) * levels >= 2**62:  # too wide: ranks instead of the values themselves
        distinct, inverse = np.unique(values, return_inverse=True)
        values, low, levels = inverse.reshape(-1), 0, distinct.shape[0]
    lift = group * levels
    running = np.maximum.accumulate(lift + (values - low)) - lift
    return running + low if distinct is None else distinct[running]


def _lookup(keys: IntArray, ids: IntArray, values: IntArray, fill: int) -> IntArray:
    """Per element of the sorted unique ``keys``: the value of its row in (``ids``, ``values``), else ``fill``."""
    out = np.full(keys.shape[0], fill, dtype=np.int64)
    if keys.shape[0] and ids.shape[0]:
        pos = np.minimum(np.searchsorted(keys, ids), keys.shape[0] - 1)
        found = keys[pos] == ids
        out[pos[found]] = values[found]
    return out


def _sums(index: IntArray, values: IntArray, size: int) -> IntArray:
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, index, values)
    return out


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
    """The figures per (bucket key, group key) of plain facts, by the rules of the module docstring: the
    facts as a :class:`Ledger` for :func:`tally`.

    ``orders`` run from the start of the calendar period before the first bucket (earlier ones are
    summarised in ``prior``) to the last bucket's end; those before the first bucket are history only.
    ``group(owner, department)`` gives a row's group key; ``counted(owner)`` whether the view scope counts
    an order of that owner. ``created`` is each customer's record creation day. Money has two places."""
    codes: dict[str, int] = {}

    def code(category: str) -> int:
        name = category.strip()
        return codes.setdefault(name, len(codes)) if name else -1

    def none(value: int | None) -> int:
        return -1 if value is None else value

    def table(rows: list[tuple[int, ...]], width: int) -> IntArray:
        return np.array(rows, dtype=np.int64).reshape(-1, width)

    ledger = Ledger(
        orders=table([(o.id, o.customer, day_number(o.day), _cents(o.amount), none(o.owner), none(o.department))
                      for o in orders], 6),
        lines=table([(order_id, code(line.category), _cents(line.unit_price), _cents(line.total))
                     for order_id, order_lines in lines.items() for line in order_lines], 4),
        prior_days=table([(c, day_number(p.first_day) if p.first_day else FAR,
                           day_number(p.last_day) if p.last_day else NO_DAY) for c, p in prior.items()], 3),
        prior_tops=table([(c, code(category), _cents(price)) for c, p in prior.items()
                          for category, price in p.top_price.items() if code(category) >= 0], 3),
        created=table([(c, day_number(day)) for c, day in created.items()], 2),
        referrals=table([(day_number(r.day), none(r.owner), none(r.department)) for r in referrals], 3),
    )  # fmt: skip
    return tally(ledger, buckets=buckets, bucket=bucket, group=group, counted=counted, lost_days=lost_days,
                 today=today)  # fmt: skip


class _Keys:
    """The group keys and scope of (owner, department) pairs, asking ``group`` and ``counted`` once per
    distinct pair: ``keys[code]`` is a group key."""

    def __init__(self, group: Callable[[int | None, int | None], Any], counted: Callable[[int | None], bool]):
        self.group, self.counted = group, counted
        self.codes: dict[Any, int] = {}

    @property
    def keys(self) -> list[Any]:
        return list(self.codes)

    def of(self, owner: IntArray, department: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Per row: the group key's code and whether the scope counts it."""
        span = int(department.max(initial=-1)) + 2
        pairs, inverse = _dense((owner + 1) * span + department + 1)
        key_codes = np.empty(pairs.shape[0], dtype=np.int64)
        is_counted = np.empty(pairs.shape[0], dtype=bool)
        for i, pair in enumerate(pairs.tolist()):
            o, d = pair // span - 1, pair % span - 1
            o_id, d_id = (None if o < 0 else o), (None if d < 0 else d)
            key_codes[i] = self.codes.setdefault(self.group(o_id, d_id), len(self.codes))
            is_counted[i] = bool(self.counted(o_id))
        return key_codes[inverse], is_counted[inverse]


def tally(
    ledger: Ledger,
    *,
    buckets: list[Bucket],
    bucket: str,
    group: Callable[[int | None, int | None], Any],
    counted: Callable[[int | None], bool],
    lost_days: int,
    today: dt.date,
) -> dict[tuple[str, Any], Figures]:
    """The figures per (bucket key, group key), by the rules of the module docstring, in array operations:
    the orders sorted by customer, day and id give each order the customer's last purchase day before
    its own day and whether it bought in the previous calendar period; the lines with the earlier
    history, sorted by customer, category and day, give each line the highest unit price of the earlier
    days (a running maximum per customer and category). Cells come in the order their first order (by
    day, then id) or referral makes them."""
    cells: dict[tuple[str, Any], Figures] = {}
    if not buckets:
        return cells
    first_day, last_day = day_number(buckets[0].start), day_number(buckets[-1].end)
    calendar = np.array([day_number(b.calendar_start) for b in buckets], dtype=np.int64)
    ends = np.array([day_number(min(b.end, today)) for b in buckets], dtype=np.int64)

    o = ledger.orders[_sort_order(ledger.orders[:, 1], ledger.orders[:, 2], ledger.orders[:, 0])]
    order_id, customer, day, amount, owner, department = (o[:, i] for i in range(6))
    n = order_id.shape[0]
    new_customer = _starts(customer)
    cust = np.cumsum(new_customer) - 1  # the customer's code: its position in ``customers``
    customers = customer[new_customer]

    # The last purchase day before each order's own day: the previous day of the customer's, or its history.
    prior_last = _lookup(customers, ledger.prior_days[:, 0], ledger.prior_days[:, 2], NO_DAY)
    new_day = _starts(customer, day)
    day_at = np.flatnonzero(new_day)
    before = prior_last[cust[day_at]]
    same = np.zeros(day_at.shape[0], dtype=bool)
    same[1:] = cust[day_at[1:]] == cust[day_at[:-1]]
    before[1:][same[1:]] = day[day_at[:-1]][same[1:]]
    last_before = before[np.cumsum(new_day) - 1]
    repeat = last_before != NO_DAY
    # The start of the relationship: the earlier of the first order and the record's creation.
    prior_first = _lookup(customers, ledger.prior_days[:, 0], ledger.prior_days[:, 1], FAR)
    made = _lookup(customers, ledger.created[:, 0], ledger.created[:, 1], FAR)
    began = np.minimum(np.minimum(prior_first, day[new_customer]), made)

    # Calendar periods (months or quarters since 1970-01): bought in the previous one?
    low = int(day.min()) if n else 0
    high = int(day.max()) + 1 if n else 0
    calendar_days = np.arange(low, high, dtype=np.int64)  # each day of the orders' span, turned into months
    months = calendar_days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)[day - low]
    period = months // 3 if bucket == "quarter" else months
    new_period = _starts(customer, period)
    period_at = np.flatnonzero(new_period)
    had_previous = np.zeros(period_at.shape[0], dtype=bool)
    had_previous[1:] = (cust[period_at[1:]] == cust[period_at[:-1]]) & (
        period[period_at[1:]] == period[period_at[:-1]] + 1
    )
    bought_previous = had_previous[np.cumsum(new_period) - 1]

    in_range = (day >= first_day) & (day <= last_day)
    b_of = np.searchsorted(calendar, day, side="right") - 1
    keys = _Keys(group, counted)
    key = np.zeros(n, dtype=np.int64)
    counts = np.zeros(n, dtype=bool)
    inside = np.flatnonzero(in_range)
    key[inside], counts[inside] = keys.of(owner[inside], department[inside])
    r_day = ledger.referrals[:, 0]
    r_in = (r_day >= first_day) & (r_day <= last_day)
    r_key, _r_counted = keys.of(ledger.referrals[r_in, 1], ledger.referrals[r_in, 2])  # not scoped here
    width = len(keys.keys)

    # The highest unit price per customer and category before each line's day (history rows first).
    line_rows = ledger.lines
    row, known = _rows_of(order_id, line_rows[:, 0])
    known &= line_rows[:, 1] >= 0
    row = row[known]
    category, price, line_total = line_rows[known, 1], line_rows[known, 2], line_rows[known, 3]
    tops = ledger.prior_tops[ledger.prior_tops[:, 1] >= 0]
    top_code = np.full(tops.shape[0], -1, dtype=np.int64)  # the customer's code; -1: not among the orders
    if tops.shape[0] and customers.shape[0]:
        pos_t = np.minimum(np.searchsorted(customers, tops[:, 0]), customers.shape[0] - 1)
        top_code = np.where(customers[pos_t] == tops[:, 0], pos_t, -1)
    tops = tops[top_code >= 0]
    top_code = top_code[top_code >= 0]
    h_cust = np.concatenate([top_code, cust[row]])
    h_cat = np.concatenate([tops[:, 1], category])
    h_day = np.concatenate([np.full(tops.shape[0], low - 1, dtype=np.int64), day[row]])  # history: before all
    h_order = _sort_order(h_cust, h_cat, h_day)
    new_pair = _starts(h_cust[h_order], h_cat[h_order])
    new_pair_day = new_pair | _starts(h_day[h_order])
    triple_at = np.flatnonzero(new_pair_day)  # a (customer, category, day) starts
    has_top = np.zeros(triple_at.shape[0], dtype=bool)  # per triple: a price of an earlier day
    top = np.zeros(triple_at.shape[0], dtype=np.int64)  # and the highest of them
    if triple_at.shape[0]:
        day_top = np.maximum.reduceat(np.concatenate([tops[:, 2], price])[h_order], triple_at)
        pair = (np.cumsum(new_pair) - 1)[triple_at]
        running = _running_max(pair, day_top)
        has_top[1:] = pair[1:] == pair[:-1]
        top[1:][has_top[1:]] = running[:-1][has_top[1:]]
    triple_of = np.empty(h_order.shape[0], dtype=np.int64)
    triple_of[h_order] = np.cumsum(new_pair_day) - 1
    line_triple = triple_of[tops.shape[0] :]
    cross = ~has_top[line_triple]
    up = ~cross & (price > top[line_triple])

    # The figures per cell (bucket × group key).
    cell = b_of * width + key
    size = len(buckets) * width
    money = in_range & counts
    revenue = _sums(cell[money], amount[money], size)
    money &= repeat
    repeat_revenue = _sums(cell[money], amount[money], size)
    line_counts = money[row]
    cross_sell = _sums(cell[row][line_counts & cross], line_total[line_counts & cross], size)
    up_sell = _sums(cell[row][line_counts & up], line_total[line_counts & up], size)

    first_in_period = in_range.copy()
    first_in_period[1:] &= ~(in_range[:-1] & ~new_period[1:])  # the customer's first order in the bucket
    classed = first_in_period & counts
    lost = (day - last_before) > lost_days
    kinds = {
        "gained": classed & ~repeat,
        "won_back": classed & repeat & lost,
        "retained": classed & repeat & ~lost & bought_previous,
        "returning": classed & repeat & ~lost & ~bought_previous,
    }
    tallies = {name: np.bincount(cell[mask], minlength=size) for name, mask in kinds.items()}
    lengths = ends[b_of[classed]] - began[cust[classed]]
    length_cell = cell[classed]
    length_order = np.argsort(length_cell, kind="stable")
    length_cell, lengths = length_cell[length_order], lengths[length_order]

    r_cell = (np.searchsorted(calendar, r_day[r_in], side="right") - 1) * width + r_key
    referrals = np.bincount(r_cell, minlength=size)

    # Which cells exist, in the order their first counted order (by day, then id) or referral made them.
    first_seen = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    order_rank = _packed(day, order_id)
    if order_rank is None:  # ids too far apart to pack: rank the orders
        order_rank = np.empty(n, dtype=np.int64)
        order_rank[np.lexsort((order_id, day))] = np.arange(n, dtype=np.int64)
    counted_rows = in_range & counts
    np.minimum.at(first_seen, cell[counted_rows], order_rank[counted_rows])
    after = int(order_rank.max()) + 1 if n else 0  # referrals' cells come after every order's
    np.minimum.at(first_seen, r_cell, after + np.arange(r_cell.shape[0], dtype=np.int64))
    present = np.flatnonzero(first_seen < np.iinfo(np.int64).max)
    present = present[np.argsort(first_seen[present], kind="stable")]
    bounds = (
        np.searchsorted(length_cell, present, side="left"),
        np.searchsorted(length_cell, present, side="right"),
    )
    group_keys = keys.keys
    for c, lo, hi in zip(present.tolist(), bounds[0].tolist(), bounds[1].tolist(), strict=True):
        b = buckets[c // width]
        cells[(b.key, group_keys[c % width])] = Figures(
            key=b.key, label=b.label, revenue=_money(revenue[c]), repeat_revenue=_money(repeat_revenue[c]),
            cross_sell=_money(cross_sell[c]), up_sell=_money(up_sell[c]), referrals=int(referrals[c]),
            gained=int(tallies["gained"][c]), retained=int(tallies["retained"][c]),
            won_back=int(tallies["won_back"][c]), returning=int(tallies["returning"][c]), lengths=lengths[lo:hi],
        )  # fmt: skip
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
    # Read from the stored periods (ADR 0019): the day they count to and when they were computed;
    # None for a report computed live, to today.
    as_of: dt.date | None = None
    computed_at: dt.datetime | None = None
    live: bool = False  # computed live because the request asked (``live=1``)

    @property
    def empty(self) -> bool:
        return self.total.empty

    @property
    def stored(self) -> bool:
        return self.as_of is not None


@dataclass
class _Filters:
    scope: str
    owner_ids: set[int] | None
    span: DateRange
    bucket: str
    group: str
    lost_days: int
    live: bool = False


_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off", ""})


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
    live_value = str(f.get("live") or "").strip().lower()
    if live_value not in _YES | _NO:
        raise ValidationError(_("“实时计算”应为 1 或 0"), field="live")
    return _Filters(scope, owner_ids, span, bucket, group, lost_days, live=live_value in _YES)


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


def reads_everything(actor: User) -> bool:
    """Whether ``actor``'s :func:`visible_orders` are :func:`company_orders` — the 全部 data scope with the
    order and customer view permissions — so that the stored periods are this reader's figures."""
    return sees_every_customer(actor) and can(actor, Perm.ORDER_VIEW)


def company_orders() -> QuerySet:
    """:func:`visible_orders` of a reader who :func:`reads_everything`, built from the same rules
    (``every_owner_q`` is ``owner_scope_q`` of 全部, ``live_customer_q`` is ``customer_visible_q`` of 全部):
    what the stored periods count."""
    return (
        Order.objects.filter(every_owner_q())
        .filter(live_customer_q())
        .exclude(status=OrderStatus.CANCELLED)
        .order_by()
    )


def ledger_querysets(actor: User | None) -> tuple[QuerySet, QuerySet, QuerySet]:
    """What the report reads for ``actor`` (None: a reader who :func:`reads_everything`): the orders
    (:func:`visible_orders`), the customers whose creation days count (``customer_visible_q``) and the
    customers whose referrals may count (``visible_to``; a view scope keeps those its people own)."""
    if actor is None:
        return company_orders(), Customer.objects.filter(live_customer_q("pk")), Customer.objects.filter(LIVE)
    return (
        visible_orders(actor),
        Customer.objects.filter(customer_visible_q(actor, "pk")),
        Customer.objects.visible_to(actor),
    )


def ledger_of(actor: User) -> str | None:
    """Which stored periods answer ``actor``'s report (ADR 0019): :data:`COMPANY_LEDGER` for a reader who
    :func:`reads_everything`; for a reader of more than one owner's orders (a team or department manager)
    the SHA-256 of the SQL and parameters of :func:`ledger_querysets`. The owners in the reader's data
    scope are parameters: when they change (a new member, another department) no store has written the
    digest, and the report is computed live until the next store. The rows the subqueries read (the
    reader's collaborations, the deleted customers) are data, like the orders: they count from the next
    store. Readers whose rules compile to the same SQL share a digest (the collaborations subquery names
    its reader, so in practice each manager has their own).

    None for a reader of one owner's orders (a rep) and for one who reads no orders: live takes about a
    second, or nothing, and is not worth a store each."""
    if reads_everything(actor):
        return COMPANY_LEDGER
    owners = owner_ids_in_scope(actor)
    if not can(actor, Perm.ORDER_VIEW) or (owners is not None and len(owners) <= 1):
        return None
    digest = hashlib.sha256()
    for queryset in ledger_querysets(actor):
        try:
            sql, params = queryset.query.sql_with_params()
        except EmptyResultSet:  # a rule that reads nothing (no customer view): nothing to store
            return None
        digest.update(f"{sql}\n{params!r}\n".encode())
    return digest.hexdigest()


def stored_ledgers() -> dict[str, User | None]:
    """The ledgers :func:`store_periods` writes, each with one of its readers: the company's, then each
    distinct :func:`ledger_of` among the active users who may read the report and orders."""
    found: dict[str, User | None] = {COMPANY_LEDGER: None}
    for user in User.objects.filter(is_active=True).select_related("department").order_by("pk"):
        if not can(user, Perm.ANALYTICS_VIEW):
            continue
        key = ledger_of(user)
        if key is not None and key not in found:
            found[key] = user
    return found


def _ints(
    query: QuerySet,
    columns: list[str],
    pool: Executor | None = None,
    *,
    django_sql: bool = False,
    here: bool = False,
) -> Later[IntArray]:
    """The rows of a ``values()`` query as integers: ``columns`` are SQL integer expressions over its
    columns (``t.<alias>``). Read as the refresh reads (:func:`facts.start_bulk_ints`): outside a
    transaction through ADBC into Arrow — on its own connection, in one of ``pool``'s threads, so the
    ledger's queries run side by side — and inside one on the request's connection. ``django_sql``:
    the query calls functions Django registers on its own SQLite connections (``TruncDate`` becomes
    ``django_datetime_cast_date``), so on SQLite the request's connection reads it. ``here``: the
    request's connection reads it in any case (a small ledger)."""
    sql, params = query.query.sql_with_params()
    named = ", ".join(f"{c} AS c{i}" for i, c in enumerate(columns))
    if here or (django_sql and connection.vendor == "sqlite"):
        block = read_ints(f"SELECT {named} FROM ({sql}) t", list(params), len(columns))
        return lambda: block
    return start_bulk_ints(f"SELECT {named} FROM ({sql}) t", list(params), len(columns), pool)


def _category_codes() -> tuple[IntArray, IntArray]:
    """Every product id (ascending) and its category's code (-1: blank), categories compared stripped."""
    codes: dict[str, int] = {}
    ids, out = [], []
    for pk, category in Product.objects.order_by("pk").values_list("pk", "category"):
        name = (category or "").strip()
        ids.append(pk)
        out.append(codes.setdefault(name, len(codes)) if name else -1)
    return np.array(ids, dtype=np.int64), np.array(out, dtype=np.int64)


def _categories(products: tuple[IntArray, IntArray], product: IntArray) -> IntArray:
    """The category code of each ``product`` id (-1: none)."""
    ids, codes = products
    out = np.full(product.shape[0], -1, dtype=np.int64)
    if ids.shape[0]:
        pos = np.minimum(np.searchsorted(ids, product), ids.shape[0] - 1)
        found = ids[pos] == product
        out[found] = codes[pos[found]]
    return out


def read_ledger(orders: QuerySet, *, read_from: dt.date, read_to: dt.date, start: dt.date,
                referred: QuerySet, customers: QuerySet, here: bool = False) -> Ledger:  # fmt: skip
    """The :class:`Ledger` of ``orders`` (the reader's :func:`visible_orders`) from ``read_from`` to
    ``read_to`` with the history before it of the customers active from ``start``, the creation days of
    those customers (among ``customers``, those the reader sees) and the ``referred`` customers — a few
    queries whose rows come as integers (days, cents), never one Python object a row.

    Each query reads once through its table: the history is read for every customer and kept here for
    the active ones. Selecting the active customers in SQL (``customer_id IN`` the window's orders) made
    each history query pass over the whole order table a second time, and a set of ids sent in one
    parameter led PostgreSQL to probe the (customer, date) index once per customer — both measured
    slower on 10M orders (bench/analytics_analysis.md).

    ``here``: every query on the request's connection, one after another (see :func:`_ints`)."""
    window = orders.filter(order_date__gte=read_from, order_date__lte=read_to)
    earlier = orders.filter(order_date__lt=read_from)
    products = _category_codes()
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="relationship-read") as pool:
        later_orders = _ints(
            window.values(k_id=F("id"), k_c=F("customer_id"), k_d=F("order_date"), k_m=F("total_amount"),
                          k_o=F("owner_id"), k_p=F("department_id")),
            [int_sql("t.k_id"), int_sql("t.k_c"), day_sql("t.k_d"), cents_sql("t.k_m"),
             int_sql("COALESCE(t.k_o, -1)"), int_sql("COALESCE(t.k_p, -1)")],
            pool, here=here,
        )  # fmt: skip
        later_lines = (
            _ints(  # the lines joined to the window's orders (rather than IN: one scan of the orders)
                window.filter(lines__isnull=False).values(
                    k_o=F("id"), k_p=F("lines__product_id"), k_u=F("lines__unit_price"), k_t=F("lines__total")
                ),
                [int_sql("t.k_o"), int_sql("COALESCE(t.k_p, -1)"), cents_sql("t.k_u"), cents_sql("t.k_t")],
                pool,
                here=here,
            )
        )
        later_prior_days = _ints(
            earlier.values(k_c=F("customer_id")).annotate(k_f=Min("order_date"), k_l=Max("order_date")),
            [int_sql("t.k_c"), day_sql("t.k_f"), day_sql("t.k_l")],
            pool,
            here=here,
        )
        later_tops = (
            _ints(  # per product (the catalogue's categories are read apart), then per category in tally
                earlier.filter(lines__product__isnull=False)
                .values(k_c=F("customer_id"), k_p=F("lines__product_id"))
                .annotate(k_u=Max("lines__unit_price")),
                [int_sql("t.k_c"), int_sql("t.k_p"), cents_sql("t.k_u")],
                pool,
                here=here,
            )
        )
        later_created = _ints(
            customers.order_by().values(k_c=F("pk"), k_d=TruncDate("created_at")),
            [int_sql("t.k_c"), day_sql("t.k_d")],
            pool,
            django_sql=True,
            here=here,
        )
        later_referrals = _ints(
            referred.order_by().values(
                k_d=TruncDate("created_at"), k_o=F("owner_id"), k_p=F("owner__department_id")
            ),
            [day_sql("t.k_d"), int_sql("COALESCE(t.k_o, -1)"), int_sql("COALESCE(t.k_p, -1)")],
            pool,
            django_sql=True,
            here=here,
        )
        window_orders = later_orders()
        active = np.unique(window_orders[window_orders[:, 2] >= day_number(start), 1])

        def of_active(rows: IntArray) -> IntArray:
            return rows[np.isin(rows[:, 0], active)]

        lines = later_lines()
        lines[:, 1] = _categories(products, lines[:, 1])
        prior_days = of_active(later_prior_days())
        tops = of_active(later_tops())
        tops[:, 1] = _categories(products, tops[:, 1])
        created = of_active(later_created())
        referrals = later_referrals()
    return Ledger(orders=window_orders, lines=lines, prior_days=prior_days, prior_tops=tops, created=created,
                  referrals=referrals)  # fmt: skip


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
    owner_ids = f.owner_ids

    def group_key(owner: int | None, department: int | None) -> Any:
        return department if f.group == "department" else owner

    def counted(owner: int | None) -> bool:
        return owner_ids is None or owner in owner_ids

    stored_as = None if f.live else ledger_of(actor)
    if stored_as is not None:
        stored = _stored_cells(f, buckets, today=today, group=group_key, counted=counted, ledger=stored_as)
        if stored is not None:
            cells, period = stored
            return _assemble(actor, f, buckets, cells, as_of=period.as_of, computed_at=period.computed_at)
    read_from = previous_start(buckets[0].calendar_start, f.bucket)
    read_to = min(f.span.end, today)
    start, end = f.span.bounds()
    referred = scope_customers(actor, f.scope).filter(
        source__code=REFERRAL_SOURCE, created_at__gte=start, created_at__lt=end
    )
    # The customers' rule in its one-union form (customer_visible_q): visible_to's OR beside a subquery
    # made PostgreSQL walk a department's 294,000 ids per customer.
    customers = Customer.objects.filter(customer_visible_q(actor, "pk"))
    # One owner's ledger (a rep's) on SQLite is read on the request's connection: starting the ADBC
    # child processes cost more than its few thousand rows (1.6 s against 0.7 s at 10M orders).
    in_scope = owner_ids_in_scope(actor)
    here = connection.vendor == "sqlite" and in_scope is not None and len(in_scope) <= 1
    ledger = read_ledger(visible_orders(actor), read_from=read_from, read_to=read_to, start=f.span.start,
                         referred=referred, customers=customers, here=here)  # fmt: skip
    cells = tally(ledger, buckets=buckets, bucket=f.bucket, group=group_key, counted=counted,
                  lost_days=f.lost_days, today=today)  # fmt: skip
    return _assemble(actor, f, buckets, cells)


# --- the stored periods (ADR 0019) -------------------------------------------------------------------------


def _calendar_end(b: Bucket, bucket: str) -> dt.date:
    return _next_start(b.calendar_start, bucket) - dt.timedelta(days=1)


def _stored_cells(
    f: _Filters,
    buckets: list[Bucket],
    *,
    today: dt.date,
    group: Callable[[int | None, int | None], Any],
    counted: Callable[[int | None], bool],
    ledger: str,
) -> tuple[dict[tuple[str, Any], Figures], RelationshipPeriod] | None:
    """The report's cells summed from the stored periods, or None when they do not answer it: the
    default lost-customer gap, every period of the range that has begun a whole calendar month or
    quarter (the last one may end at or after the day the periods count to), all stored by one run at
    most ``STORED_MAX_AGE`` ago. A stored cell counts when its order owner is in the view scope — as an
    order or a referred customer does live — and goes to the group of its owner or department."""
    if f.lost_days != DEFAULT_LOST_DAYS:
        return None
    begun = [b for b in buckets if b.start <= today]
    periods = {
        p.start: p
        for p in RelationshipPeriod.objects.filter(
            ledger=ledger, bucket=f.bucket, start__in=[b.calendar_start for b in begun]
        )
    }
    if not begun or len(periods) != len(begun):
        return None
    as_of = {p.as_of for p in periods.values()}
    computed = {p.computed_at for p in periods.values()}
    if len(as_of) != 1 or len(computed) != 1 or not today - STORED_MAX_AGE <= min(as_of) <= today:
        return None  # mixed, too old, or stored as of a later day (``--as-of``) than the reader's today
    day = min(as_of)
    for b in begun:
        if b.start != b.calendar_start or (b.end != _calendar_end(b, f.bucket) and b.end < day):
            return None
    bucket_of = {periods[b.calendar_start].pk: b for b in begun}
    cells: dict[tuple[str, Any], Figures] = {}
    lengths: dict[tuple[str, Any], list[IntArray]] = {}
    rows = (
        RelationshipCell.objects.filter(period_id__in=list(bucket_of))
        .order_by("pk")
        .values_list("period_id", "owner_id", "department_id", "revenue_cents", "repeat_revenue_cents",
                     "cross_sell_cents", "up_sell_cents", "referrals", "gained", "retained", "won_back",
                     "returning", "lengths")
    )  # fmt: skip
    for period_id, owner, department, revenue, repeat, cross, up, referrals, *breadth, blob in rows:
        if not counted(owner):
            continue
        b = bucket_of[period_id]
        key = (b.key, group(owner, department))
        figures = cells.get(key)
        if figures is None:
            figures = cells[key] = Figures(key=b.key, label=b.label)
        figures.add(Figures(key=b.key, label=b.label, revenue=_money(revenue), repeat_revenue=_money(repeat),
                            cross_sell=_money(cross), up_sell=_money(up), referrals=referrals, gained=breadth[0],
                            retained=breadth[1], won_back=breadth[2], returning=breadth[3]))  # fmt: skip
        lengths.setdefault(key, []).append(np.frombuffer(bytes(blob), dtype="<i4").astype(np.int64))
    for key, parts in lengths.items():
        cells[key].lengths = np.concatenate(parts)
    return cells, next(iter(periods.values()))


def store_periods(
    *, today: dt.date | None = None, progress: Callable[[int, str], None] | None = None
) -> dict[str, Any]:
    """Compute the months and quarters of the last ``STORED_YEARS`` calendar years of every stored ledger
    (:func:`stored_ledgers`: the company's, as a reader who :func:`reads_everything` sees it, and each
    team or department manager's own) as of today — with the default lost-customer gap, per (order owner,
    order department) — and replace the stored periods with them in one transaction. Run by the nightly
    analytics refresh after the scores; the report reads them (:func:`_stored_cells`). One year of one
    ledger is read at a time (the company's year of ten million orders is the admin's 本年 report)."""
    today = today or timezone.localdate()
    computed_at = timezone.now()
    periods: list[RelationshipPeriod] = []
    cells: list[tuple[int, RelationshipCell]] = []  # (index into periods, cell)
    years = list(range(today.year - STORED_YEARS + 1, today.year + 1))
    ledgers = stored_ledgers()
    seconds: dict[str, float] = {}
    for k, (ledger, reader) in enumerate(ledgers.items()):
        began = timezone.now()
        for i, year in enumerate(years):
            if progress:
                done = int(100 * (k * len(years) + i) / (len(ledgers) * len(years)))
                who = str(_("全公司")) if reader is None else reader.label
                progress(done, str(_("关系分析：汇总 %(who)s 的 %(year)s 年") % {"who": who, "year": year}))
            _store_year(
                ledger, reader, year, today=today, computed_at=computed_at, periods=periods, cells=cells
            )
        seconds[ledger if reader is None else reader.username] = round(
            (timezone.now() - began).total_seconds(), 3
        )
    if progress:
        progress(100, str(_("关系分析：保存汇总")))
    with transaction.atomic():
        RelationshipCell.objects.all().delete()
        RelationshipPeriod.objects.all().delete()
        RelationshipPeriod.objects.bulk_create(periods)
        for i, cell in cells:
            cell.period_id = periods[i].pk
        RelationshipCell.objects.bulk_create([cell for _i, cell in cells], batch_size=2000)
    return {"as_of": today.isoformat(), "ledgers": len(ledgers), "periods": len(periods), "cells": len(cells),
            "seconds": round((timezone.now() - computed_at).total_seconds(), 3),
            "seconds_by_ledger": seconds}  # fmt: skip


def _store_year(
    ledger: str, reader: User | None, year: int, *, today: dt.date, computed_at: dt.datetime,
    periods: list[RelationshipPeriod], cells: list[tuple[int, RelationshipCell]],
) -> None:  # fmt: skip
    """One calendar year of one ledger tallied by month and by quarter, appended to ``periods`` and
    ``cells``. The rows read are the reader's (:func:`ledger_querysets`), as the live report reads them."""
    span = DateRange(Period.CUSTOM.value, dt.date(year, 1, 1), dt.date(year, 12, 31))
    start, end = span.bounds()
    orders, customers, referable = ledger_querysets(reader)
    referred = referable.filter(source__code=REFERRAL_SOURCE, created_at__gte=start, created_at__lt=end)
    read_to = min(span.end, today)
    # From the start of the quarter before the year: the history a quarter's report reads, which holds
    # the month's (December) too, so one ledger serves both.
    ledger_rows = read_ledger(orders, read_from=previous_start(span.start, "quarter"), read_to=read_to,
                              start=span.start, referred=referred, customers=customers)  # fmt: skip
    for bucket in BUCKETS:
        begun = [b for b in buckets_of(span, bucket) if b.start <= read_to]
        index = {}
        for b in begun:
            index[b.key] = len(periods)
            periods.append(RelationshipPeriod(ledger=ledger, bucket=bucket, start=b.calendar_start, as_of=today,
                                              lost_days=DEFAULT_LOST_DAYS, computed_at=computed_at))  # fmt: skip
        found = tally(ledger_rows, buckets=begun, bucket=bucket, group=lambda o, d: (o, d),
                      counted=lambda _o: True, lost_days=DEFAULT_LOST_DAYS, today=today)  # fmt: skip
        for (bucket_key, (owner, department)), c in found.items():
            cells.append((index[bucket_key], RelationshipCell(
                owner_id=owner, department_id=department, revenue_cents=_cents(c.revenue),
                repeat_revenue_cents=_cents(c.repeat_revenue), cross_sell_cents=_cents(c.cross_sell),
                up_sell_cents=_cents(c.up_sell), referrals=c.referrals, gained=c.gained, retained=c.retained,
                won_back=c.won_back, returning=c.returning, lengths=c.lengths.astype("<i4").tobytes(),
            )))  # fmt: skip


def _assemble(
    actor: User,
    f: _Filters,
    buckets: list[Bucket],
    cells: dict[tuple[str, Any], Figures],
    *,
    as_of: dt.date | None = None,
    computed_at: dt.datetime | None = None,
) -> Relationship:
    labels = _labels(f.group, {k for _b, k in cells})
    periods = {b.key: Figures(key=b.key, label=b.label) for b in buckets}
    groups: dict[Any, Figures] = {}
    total = Figures(key="", label=str(_("合计")))
    rows: list[tuple[Figures, Figures]] = []
    lengths: dict[int, list[IntArray]] = {}  # by id() of the row
    for b in buckets:
        for (bucket_key, group_key), c in sorted(
            ((k, v) for k, v in cells.items() if k[0] == b.key), key=lambda kv: labels.get(kv[0][1], "")
        ):
            label = labels.get(group_key, str(group_key))
            g = groups.setdefault(
                group_key, Figures(key="" if group_key is None else str(group_key), label=label)
            )
            for row in (periods[bucket_key], g, total):
                row.add(c)
                lengths.setdefault(id(row), []).append(c.lengths)
            rows.append((periods[bucket_key], Figures(**{**c.__dict__, "key": g.key, "label": label})))
    for row in (*periods.values(), *groups.values(), total):  # each row's lengths joined once
        if id(row) in lengths:
            row.lengths = np.concatenate(lengths[id(row)])
    ordered = sorted(groups.values(), key=lambda g: (-g.revenue, -g.active, g.label))
    return Relationship(
        scope=f.scope, scopes=view_scopes(actor), range=f.span, bucket=f.bucket, group=f.group,
        lost_days=f.lost_days, total=total, periods=list(periods.values()), groups=ordered, cells=rows,
        as_of=as_of, computed_at=computed_at, live=f.live,
    )  # fmt: skip
