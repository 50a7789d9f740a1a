"""Pure rules of the customer archive: derived classification with reasons (CUS-2), search keys (CUS-6),
phone keys for finding a caller (SVC-3).

No database here: each rule takes plain values and returns a value *and* the
reason a user reads on the customer page ("近12个月成交额 ¥1,250,000 ≥ ¥1,000,000").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from kehu.core import lunar
from kehu.core.identity import digits_only
from kehu.core.pinyin import search_keys

from .choices import DealStatus, Loyalty, Status, Urgency, ValueTier

# Thresholds (CNY, last 12 months) for the value tier. Kept here so the rule and its reason agree.
VALUE_TIER_THRESHOLDS: list[tuple[Decimal, str]] = [
    (Decimal("1000000"), ValueTier.VIP),
    (Decimal("200000"), ValueTier.IMPORTANT),
    (Decimal("20000"), ValueTier.ORDINARY),
]
# A customer with an order within this many days is 现实客户; after it, 流失客户.
ACTIVE_DAYS = 365
# 忠诚客户: at least this many years since the first order and this many orders.
LOYAL_YEARS = 3
LOYAL_MIN_ORDERS = 6


@dataclass(frozen=True)
class Derived:
    """A derived classification value and the reason, as shown to the user."""

    value: str
    reason: str


@dataclass(frozen=True)
class OrderFacts:
    """What the classification rules read; the sales chain keeps these up to date."""

    first_order_date: date | None
    last_order_date: date | None
    order_count: int
    revenue_12m: Decimal
    screened: bool = False
    has_open_opportunity: bool = False


def _money(value: Decimal) -> str:
    return f"¥{value:,.0f}"


def derive_value_tier(facts: OrderFacts) -> Derived:
    """价值等级 from revenue in the last 12 months (CUS-2)."""
    for threshold, tier in VALUE_TIER_THRESHOLDS:
        if facts.revenue_12m >= threshold:
            return Derived(
                tier,
                str(
                    _("近12个月成交额 %(rev)s ≥ %(th)s")
                    % {"rev": _money(facts.revenue_12m), "th": _money(threshold)}
                ),
            )
    return Derived(
        ValueTier.SMALL,
        str(
            _("近12个月成交额 %(rev)s，低于 %(th)s")
            % {"rev": _money(facts.revenue_12m), "th": _money(VALUE_TIER_THRESHOLDS[-1][0])}
        ),
    )


def derive_loyalty(facts: OrderFacts, *, today: date) -> Derived:
    """忠诚度 from tenure: no order → 潜在; < 1 year since first order → 新; ≥ 3 years and ≥ 6 orders → 忠诚; else 老."""
    if not facts.first_order_date or facts.order_count == 0:
        return Derived(Loyalty.POTENTIAL, str(_("尚无成交记录")))
    days = (today - facts.first_order_date).days
    if days < 365:
        return Derived(Loyalty.NEW, str(_("首次成交于 %(d)s，不足一年") % {"d": facts.first_order_date}))
    if days >= LOYAL_YEARS * 365 and facts.order_count >= LOYAL_MIN_ORDERS:
        return Derived(
            Loyalty.LOYAL,
            str(_("合作 %(y)s 年以上且成交 %(n)s 次") % {"y": LOYAL_YEARS, "n": facts.order_count}),
        )
    return Derived(Loyalty.OLD, str(_("首次成交于 %(d)s，已超过一年") % {"d": facts.first_order_date}))


def derive_status(facts: OrderFacts, *, today: date) -> Derived:
    """客户状态 from orders and inactivity: recent order → 现实; old orders only → 流失; screened → 目标; else 潜在."""
    if facts.last_order_date:
        idle = (today - facts.last_order_date).days
        if idle <= ACTIVE_DAYS:
            return Derived(
                Status.CURRENT,
                str(_("最近成交于 %(d)s（%(n)s 天内）") % {"d": facts.last_order_date, "n": ACTIVE_DAYS}),
            )
        return Derived(
            Status.LOST, str(_("已 %(n)s 天没有成交（超过 %(lim)s 天）") % {"n": idle, "lim": ACTIVE_DAYS})
        )
    if facts.screened:
        return Derived(Status.TARGET, str(_("已通过初步筛选，尚未成交")))
    return Derived(Status.POTENTIAL, str(_("尚未通过初步筛选")))


def derive_deal_status(facts: OrderFacts) -> Derived:
    """成交状态: any order → 成交; an open opportunity → 意向 (正在谈判); else 潜在."""
    if facts.order_count > 0:
        return Derived(DealStatus.CLOSED, str(_("已成交 %(n)s 次") % {"n": facts.order_count}))
    if facts.has_open_opportunity:
        return Derived(DealStatus.INTENT, str(_("有进行中的商机")))
    return Derived(DealStatus.POTENTIAL, str(_("尚无成交，也没有进行中的商机")))


def derive_all(facts: OrderFacts, *, today: date) -> dict[str, Derived]:
    return {
        "value_tier": derive_value_tier(facts),
        "loyalty": derive_loyalty(facts, today=today),
        "status": derive_status(facts, today=today),
        "deal_status": derive_deal_status(facts),
    }


def customer_search_text(
    *,
    name: str,
    code: str,
    credit_code: str = "",
    mobile: str = "",
    phone: str = "",
    id_number: str = "",
    person: bool = False,
    contacts: Iterable[str] = (),
) -> str:
    """The lowercase text searched by substring (CUS-6): name, pinyin, initials, code, numbers — and
    the ``contact_search_text`` of each live contact, so that one test per customer also finds it by a
    contact's name or phone (no probe of the contacts table per customer)."""
    parts = [
        name.lower(),
        search_keys(name, person_name=person),
        code.lower(),
        credit_code.lower(),
        mobile,
        digits_only(phone),
    ]
    if id_number:
        parts.append(id_number.lower())
    parts.extend(contacts)
    # Queries never contain a space (normalize_query), so no match spans two keys or two contacts.
    return " ".join(p for p in parts if p)


def contact_search_text(
    *, name: str, mobile: str = "", phone: str = "", email: str = "", wechat: str = ""
) -> str:
    parts = [
        name.lower(),
        search_keys(name, person_name=True),
        mobile,
        digits_only(phone),
        email.lower(),
        wechat.lower(),
    ]
    return " ".join(p for p in parts if p)[:300]


def normalize_query(q: str) -> str:
    """Search input as stored: trimmed, lowercase, full-width folded, phone separators dropped."""
    import unicodedata

    q = unicodedata.normalize("NFKC", q or "").strip().lower()
    if q and all(c.isdigit() or c in " -+()" for c in q):
        return digits_only(q)
    return q.replace(" ", "")


# --- telephone numbers for matching a caller (SVC-3) -----------------------------------------------

# An extension and whatever follows it: 转 123, 分机 123, ext. 123, x123, #123 ("ext"/"x" not inside a
# word, so "Fax: 021-…" keeps its number).
_EXTENSION = re.compile(r"(?:转|分机|#|(?<![a-z])(?:ext|x)).*", re.IGNORECASE | re.DOTALL)
_MOBILE_KEY = re.compile(r"1[3-9]\d{9}", re.ASCII)
# With the trunk 0 in front: 010 and 020–029 take 8-digit local numbers, 3-digit area codes
# (0310–0999) 7 or 8 digits. No area code begins 01 other than 010, nor 00 (the international prefix).
_LANDLINE_KEY = re.compile(r"0(?:(?:10|2\d)\d{8}|[3-9]\d{2}\d{7,8})", re.ASCII)
# 400/800 numbers (nationwide, 10 digits) and the short service numbers: 95xxx (nationwide), 96xxx
# (local), 1xxxx (carriers and hotlines: 10086, 12345). No subscriber number begins 95 or 96.
_SERVICE_KEY = re.compile(r"[48]00\d{7}|9[56]\d{3,6}|1\d{4}", re.ASCII)
_LOCAL_KEY = re.compile(r"[1-9]\d{6,7}", re.ASCII)
_AREA_CODE = re.compile(r"0?(10|2\d|[3-9]\d{2})", re.ASCII)
_MIN_DIGITS, _MAX_DIGITS = 5, 15  # shorter is no telephone number; longer is none in E.164


def area_code_key(code: str) -> str:
    """The area code as a key prefix: "021", "21", "0571" → "021", "021", "0571"; "" for blank.

    Raises ``ValueError`` for anything else (a configuration error, not a caller's number)."""
    code = unicodedata.normalize("NFKC", code or "").strip()
    if not code:
        return ""
    match = _AREA_CODE.fullmatch(code)
    if match is None:
        raise ValueError(f"not a mainland area code: {code!r}")
    return "0" + match.group(1)


def _national_key(digits: str) -> str:
    """The key of a number already in national form, or "" when it is not one."""
    if _MOBILE_KEY.fullmatch(digits) or _LANDLINE_KEY.fullmatch(digits) or _SERVICE_KEY.fullmatch(digits):
        return digits
    if digits[:1] == "0" and _MOBILE_KEY.fullmatch(digits[1:]):
        return digits[1:]  # a mobile from another city, shown with the trunk 0 by many exchanges
    return ""


def _key_of_digits(digits: str, *, international: bool, area: str) -> str:
    if international:
        if digits.startswith("86"):
            rest = digits[2:]
            # After +86 a landline drops its trunk 0 (+86 21 …); "+86 (0)21 …" keeps it.
            return _national_key(rest) or (_national_key("0" + rest) if rest[:1] != "0" else "")
        # Another country's number keeps its country code, so it never equals a mainland one.
        return "+" + digits if 7 <= len(digits) <= _MAX_DIGITS else ""
    key = _national_key(digits)
    if key:
        return key
    if digits.startswith("86") and len(digits) >= 12:
        # 86 without + or 00 in front: the country code only when a valid national number follows (a
        # national number never begins 86, so no real number is cut).
        rest = digits[2:]
        key = _national_key(rest) or _national_key("0" + rest)
        if key:
            return key
    if _LOCAL_KEY.fullmatch(digits):
        return area + digits  # a local call: no area code
    return ""


def needs_area_code(key: str) -> bool:
    """Whether ``key`` (``phone_key`` without an area code) is a local number of 7–8 digits, the one kind
    the settings' area code completes — so the screen pop reads the settings only for those."""
    return bool(_LOCAL_KEY.fullmatch(key))


def phone_key(raw: str, *, local_area_code: str = "") -> str:
    """The national form of a telephone number, for finding a caller (SVC-3): "021-5555 1234",
    "+86 21 5555 1234", "(021) 55551234 转 8" and "0086 21 55551234" all give "02155551234".

    Why: the telephony system hands over the caller's number in whatever form its exchange uses, and
    people type ``phone`` as they like. With both sides reduced to one form, finding the caller among
    a million customers and their contacts is one indexed equality lookup (``Customer.phone_key``,
    ``Contact.phone_key``, besides the indexed ``mobile``), not a substring scan.

    Rule:

    - full-width digits count; spaces, dashes, dots, brackets and words are ignored; an extension
      (转, 分机, ext, x, #) and what follows it are dropped;
    - a country prefix +86 / 0086 / 86 is dropped — 86 without + or 00 only when a valid national
      number follows; after it a landline gets back its trunk 0 ("+86 10 1234 5678" → "01012345678");
    - a mobile gives its 11 digits (also when an exchange puts a 0 in front: "013812345678");
    - a landline keeps its leading 0 and area code ("057188886666");
    - 400/800 numbers and the short service numbers (95xxx, 96xxx, 10086, 12345) stay as their digits;
    - a local number of 7–8 digits (no area code) gets ``local_area_code`` in front when one is given
      ("55551234" with "021" → "02155551234"), otherwise stays as it is;
    - another country's number (+ or 00 then not 86) gives "+" and its digits ("+14155550100");
    - when the whole is no number, the longest run of its leading digit groups that is one counts
      ("021-55551234-801", an extension written as a dash group; two numbers in one field: the first);
    - other digit strings of 5–15 digits stay as they are (they still match themselves); anything
      else, including text with no digits, gives "".

    ``local_area_code`` ("021", "21", "0571") must be an area code; ``ValueError`` otherwise.
    """
    area = area_code_key(local_area_code)
    text = unicodedata.normalize("NFKC", raw or "")
    text = _EXTENSION.sub("", text)
    groups = re.findall(r"[0-9]+", text)  # ASCII digits: NFKC folded the full-width ones
    if not groups:
        return ""
    # International when a + or the 00 prefix comes before the number (a landline never begins 00).
    international = "+" in text[: text.index(groups[0])] or groups[0].startswith("00")
    if groups[0].startswith("00"):
        groups[0] = groups[0][2:]
    digits = "".join(groups)
    key = _key_of_digits(digits, international=international, area=area)
    if key:
        return key
    for end in range(len(groups) - 1, 0, -1):
        key = _key_of_digits("".join(groups[:end]), international=international, area=area)
        if key:
            return key
    if international or not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        return ""
    return digits


# ENG-2: the upper bound, in days from today, of each urgency bucket with a date in the future.
URGENCY_DAYS = ((Urgency.URGENT, 7), (Urgency.SOON, 30), (Urgency.NOT_URGENT, 90))


def urgency_bucket(next_date: date | None, *, today: date) -> Urgency:
    """紧急 within a week, 缓急 a week to a month, 不紧急 one to three months, 可慢反应 beyond;
    a date already past is 已逾期, and no date at all is 未安排 (ENG-2)."""
    if next_date is None:
        return Urgency.NONE
    days = (next_date - today).days
    if days < 0:
        return Urgency.OVERDUE
    for bucket, limit in URGENCY_DAYS:
        if days <= limit:
            return bucket
    return Urgency.SLOW


def urgency_window(bucket: str, *, today: date) -> tuple[date | None, date | None] | None:
    """The next-follow-up dates (first, last; ``None`` = open) that fall in ``bucket``, for filters.

    ``None`` for 未安排 (no date). Inverse of ``urgency_bucket``: a date is in the window exactly when
    ``urgency_bucket`` puts it in ``bucket``.
    """
    from datetime import timedelta

    if bucket == Urgency.NONE:
        return None
    if bucket == Urgency.OVERDUE:
        return (None, today - timedelta(days=1))
    start = 0
    for name, limit in URGENCY_DAYS:
        if bucket == name:
            return (today + timedelta(days=start), today + timedelta(days=limit))
        start = limit + 1
    if bucket == Urgency.SLOW:
        return (today + timedelta(days=start), None)
    raise ValueError(bucket)


# --- the public pool (CUS-7) ---------------------------------------------------------------------

# Deal statuses that keep a customer from returning to the pool automatically: closed (已成交) and
# intent (意向: a deal under way — an open opportunity once the sales chain records them).
POOL_EXEMPT_DEAL_STATUSES = (DealStatus.CLOSED, DealStatus.INTENT)


@dataclass(frozen=True)
class PoolRule:
    """When an owned customer returns to its pool: after ``no_follow_up_days`` without a follow-up, or
    ``no_deal_days`` without a deal (``None`` = not by that measure); warned ``warn_days`` before."""

    no_follow_up_days: int | None
    no_deal_days: int | None
    warn_days: int = 3


def pool_return_on(
    rule: PoolRule,
    *,
    held_since: date,
    last_contact: date | None,
    last_order: date | None,
    deal_status: str,
    locked: bool,
) -> date | None:
    """The day the customer goes back to the pool if nothing happens first; ``None`` when it never
    does (locked, closed or in negotiation, or a pool without return rules). Counting starts from the
    last contact (or deal) — or from when the owner got it, if there was none since."""
    if locked or deal_status in POOL_EXEMPT_DEAL_STATUSES:
        return None
    candidates = []
    if rule.no_follow_up_days:
        candidates.append(
            max(filter(None, (last_contact, held_since))) + timedelta(days=rule.no_follow_up_days)
        )
    if rule.no_deal_days:
        candidates.append(max(filter(None, (last_order, held_since))) + timedelta(days=rule.no_deal_days))
    return min(candidates) if candidates else None


# --- birthdays (MKT-3) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Birthday:
    """A person's birthday as kept: a solar date, or a lunar month-day (``lunar``)."""

    solar: date | None = None
    lunar: lunar.LunarDay | None = None

    @property
    def known(self) -> bool:
        return self.solar is not None or self.lunar is not None


def birthday_of(
    *, calendar: str, solar: date | None, month: int | None, day: int | None, leap: bool = False
) -> Birthday:
    """The birthday a customer or contact row holds (``birthday_calendar`` and its fields)."""
    if calendar == "lunar" and month and day:
        return Birthday(lunar=lunar.LunarDay(month, day, leap))
    if calendar == "lunar":
        return Birthday()
    return Birthday(solar=solar)


def next_solar_birthday(born: date, *, on: date) -> date:
    """The first date on or after ``on`` with ``born``'s month and day; a 29 February birthday is kept
    on 28 February in a common year."""
    for year in (on.year, on.year + 1):
        try:
            candidate = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            candidate = date(year, 2, 28)
        if candidate >= on:
            return candidate
    raise AssertionError("unreachable: next year's birthday is after every date of this year")


def next_birthday(birthday: Birthday, *, on: date) -> date | None:
    """When the birthday is next celebrated, on or after ``on``, as a solar date: a lunar birthday on
    the day its lunar month-day falls this (lunar) year — in the ordinary month when a leap-month
    birth's year has no such leap month, on the 29th when its month has no 30th (``core.lunar``)."""
    if birthday.lunar is not None:
        return lunar.next_on_or_after(birthday.lunar, on)
    if birthday.solar is not None:
        return next_solar_birthday(birthday.solar, on=on)
    return None


def birthday_label(birthday: Birthday, *, on: date | None = None) -> str:
    """A lunar birthday with its solar date, e.g. "农历八月十五 (9月25日)"; "" for solar birthdays (their
    date says it all). ``on`` picks the celebration shown (the next one on or after it)."""
    if birthday.lunar is None:
        return ""
    if on is None:
        return birthday.lunar.label
    when = lunar.next_on_or_after(birthday.lunar, on)
    return str(
        _("%(lunar)s (%(month)s月%(day)s日)")
        % {"lunar": birthday.lunar.label, "month": when.month, "day": when.day}
    )
