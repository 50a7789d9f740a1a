"""Pure rules of sales targets (SAL-8): periods and their dates, completion, ranking. No database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError

from .choices import MONEY_METRICS, PeriodKind

MIN_YEAR, MAX_YEAR = 2000, 2100
PERIOD_NUMBERS = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}


@dataclass(frozen=True)
class TargetPeriod:
    """A month (number 1–12), a quarter (1–4) or a year (1) of ``year``."""

    kind: str
    year: int
    number: int

    @property
    def start(self) -> date:
        if self.kind == PeriodKind.MONTH:
            return date(self.year, self.number, 1)
        if self.kind == PeriodKind.QUARTER:
            return date(self.year, 3 * (self.number - 1) + 1, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """The last day of the period (included)."""
        if self.kind == PeriodKind.MONTH:
            months = 1
        elif self.kind == PeriodKind.QUARTER:
            months = 3
        else:
            months = 12
        first = self.start
        month_index = first.month - 1 + months
        following = date(first.year + month_index // 12, month_index % 12 + 1, 1)
        return following - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return str(_("%(y)s年%(n)s月") % {"y": self.year, "n": self.number})
        if self.kind == PeriodKind.QUARTER:
            return str(_("%(y)s年第%(n)s季度") % {"y": self.year, "n": self.number})
        return str(_("%(y)s年") % {"y": self.year})

    @property
    def key(self) -> str:
        """A stable text form for URLs and the API: 2026-12, 2026-Q4, 2026."""
        if self.kind == PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.year}-Q{self.number}"
        return f"{self.year}"


def period_of(kind: str, on: date) -> TargetPeriod:
    """The period of ``kind`` containing ``on``."""
    if kind == PeriodKind.MONTH:
        return TargetPeriod(kind, on.year, on.month)
    if kind == PeriodKind.QUARTER:
        return TargetPeriod(kind, on.year, (on.month - 1) // 3 + 1)
    return TargetPeriod(PeriodKind.YEAR, on.year, 1)


def clean_period(kind: Any, year: Any, number: Any) -> TargetPeriod:
    """A period from user input; each bad part names its field (``period_kind``, ``year``, ``number``)."""
    if kind not in PERIOD_NUMBERS:
        raise ValidationError(_("请选择目标周期：月度、季度或年度"), field="period_kind")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError(_("年份必须是整数"), field="year") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            _("年份须在 %(lo)s 到 %(hi)s 之间"), field="year", params={"lo": MIN_YEAR, "hi": MAX_YEAR}
        )
    if kind == PeriodKind.YEAR:
        number = 1
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise ValidationError(_("月份/季度必须是整数"), field="number") from None
    if not 1 <= number <= PERIOD_NUMBERS[kind]:
        raise ValidationError(
            _("月份/季度须在 1 到 %(hi)s 之间"), field="number", params={"hi": PERIOD_NUMBERS[kind]}
        )
    return TargetPeriod(kind, year, number)


def parse_period_key(key: str) -> TargetPeriod:
    """``2026-12`` / ``2026-Q4`` / ``2026`` → a period (field ``period`` when malformed)."""
    text = (key or "").strip().upper()
    try:
        if "-Q" in text:
            year, quarter = text.split("-Q")
            return clean_period(PeriodKind.QUARTER, year, quarter)
        if "-" in text:
            year, month = text.split("-")
            return clean_period(PeriodKind.MONTH, year, month)
        return clean_period(PeriodKind.YEAR, text, 1)
    except ValidationError:
        raise ValidationError(_("周期格式应为 2026-12、2026-Q4 或 2026"), field="period") from None


def clean_value(metric: str, value: Any) -> Decimal:
    """A target value: positive; money with two decimals, counts whole (field ``value``)."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except Exception:
        raise ValidationError(_("目标值必须是数字"), field="value") from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(_("目标值必须大于 0"), field="value")
    if amount >= Decimal("1e14"):
        raise ValidationError(_("目标值过大"), field="value")
    if metric not in MONEY_METRICS and amount != amount.to_integral_value():
        raise ValidationError(_("客户数和赢单数的目标必须是整数"), field="value")
    return amount.quantize(Decimal("0.01"))


def completion(actual: Decimal, target: Decimal) -> Decimal:
    """Actual over target as a percentage with one decimal (0 when the target is 0)."""
    if not target:
        return Decimal("0")
    return (Decimal(actual) * 100 / Decimal(target)).quantize(Decimal("0.1"))


def ranked(rows: list[Any], *, key: str = "percent") -> list[Any]:
    """Rows by completion, highest first; equal completion shares a rank (1, 2, 2, 4)."""
    ordered = sorted(rows, key=lambda r: (-getattr(r, key), getattr(r, "name", "")))
    rank, previous = 0, None
    for position, row in enumerate(ordered, start=1):
        value = getattr(row, key)
        if value != previous:
            rank, previous = position, value
        row.rank = rank
    return ordered


# ---- exchange rates -----------------------------------------------------------------------------------

RATE_MAX = Decimal("100000")


def clean_rate_input(currency: Any, month: Any, rate: Any) -> tuple[str, date, Decimal]:
    """A rate as entered: a 3-letter currency other than CNY, a month ``YYYY-MM`` and a positive rate with
    at most six decimals; each refusal names its field."""
    code = str(currency or "").strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationError(_("币种应为 3 位字母代码，如 USD"), field="currency")
    if code == "CNY":
        raise ValidationError(_("人民币不需要汇率"), field="currency")
    text = str(month or "").strip()
    try:
        year, number = (int(part) for part in text.split("-"))
        first = date(year, number, 1)
    except (TypeError, ValueError):
        raise ValidationError(_("月份应写成 2026-11 这样的格式"), field="month") from None
    if not MIN_YEAR <= first.year <= MAX_YEAR:
        raise ValidationError(
            _("年份应在 %(lo)s 到 %(hi)s 之间"), field="month", params={"lo": MIN_YEAR, "hi": MAX_YEAR}
        )
    try:
        value = Decimal(str(rate).strip())
    except (ArithmeticError, ValueError):
        raise ValidationError(_("汇率必须是数字"), field="rate") from None
    if not value.is_finite() or value <= 0 or value > RATE_MAX:
        raise ValidationError(_("汇率应大于 0 且不超过 %(max)s"), field="rate", params={"max": RATE_MAX})
    if value.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValidationError(_("汇率最多 6 位小数"), field="rate")
    return code, first, value


def rate_for(rates: dict[str, list[tuple[date, Decimal]]], currency: str, day: date) -> Decimal | None:
    """The CNY value of one unit of ``currency`` on ``day``: its month's rate, or the latest earlier
    month's; ``None`` when there is none (``rates``: per currency, (month, rate) in ascending months)."""
    if currency == "CNY":
        return Decimal(1)
    best = None
    for month, rate in rates.get(currency, ()):
        if month > day:
            break
        best = rate
    return best
