"""Birthdays of individual customers and contacts (MKT-3): who celebrates soon, and keeping the
indexed next-celebration date (``birthday_next``) current.

Solar and lunar birthdays alike are looked up by ``birthday_next``, the solar date of the next
celebration on or after the day it was computed: the services set it on every save, and
``birthday_refresh`` (daily, ``kehu birthdays``) moves the ones that have passed on to the next year.
A lookup never trusts a date that has passed — it recomputes those rows — so a missed refresh costs
time, never a birthday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kehu.access.models import User

from .models import Contact, Customer
from .rules import Birthday, birthday_label, birthday_of, next_birthday

_BIRTHDAY_COLUMNS = (
    "birthday",
    "birthday_calendar",
    "lunar_birth_month",
    "lunar_birth_day",
    "lunar_birth_leap",
    "birthday_next",
)


def _birthday(row: Any) -> Birthday:
    return birthday_of(
        calendar=row.birthday_calendar,
        solar=row.birthday,
        month=row.lunar_birth_month,
        day=row.lunar_birth_day,
        leap=row.lunar_birth_leap,
    )


@dataclass(frozen=True)
class UpcomingBirthday:
    """A birthday within the window: the person, when (solar), and the lunar day it is if lunar."""

    person: Any  # a Contact (with .customer) or an individual Customer
    on: date
    label: str  # "农历八月十五 (9月25日)" for a lunar birthday, "" for a solar one


def _upcoming(rows: Any, *, today: date, end: date) -> list[UpcomingBirthday]:
    out = []
    for row in rows:
        birthday = _birthday(row)
        on = row.birthday_next
        if on is None or on < today:  # not refreshed since it passed: work it out for today
            on = next_birthday(birthday, on=today)
        if on is not None and today <= on <= end:
            out.append(UpcomingBirthday(person=row, on=on, label=birthday_label(birthday, on=today)))
    return out


def upcoming_birthdays(
    *, actor: User, today: date | None = None, days: int = 7
) -> tuple[list[UpcomingBirthday], list[UpcomingBirthday]]:
    """Birthdays from ``today`` through ``days - 1`` days later, solar and lunar, of the actor's own
    individual customers and of their customers' contacts: (contacts, customers).

    Each is one range over an index — ``customer_live_birthday`` (owner, birthday_next) and
    ``contact_birthday`` (birthday_next, customer) — of the next-celebration dates up to the window's
    end; rows whose date has already passed (a refresh not yet run) are worked out again here. The
    contact range covers the whole archive (birthdays are spread over the year, so a week holds about
    2% of them) and is filtered to the owner's customers before any row is read in full."""
    today = today or timezone.localdate()
    end = today + timedelta(days=days - 1)
    mine = Customer.objects.visible_to(actor, part="owned", owners={actor.pk})
    persons = mine.filter(kind="individual", birthday_next__lte=end).only("id", "name", *_BIRTHDAY_COLUMNS)
    # The contacts celebrating soon, archive-wide, from the contact_birthday index alone (a few thousand
    # at a million customers, whoever owns them), kept when their customer is one of the owner's (the
    # owner index); only those are read in full. A database left to join the two would rather walk
    # every contact of the owner's thousands of customers.
    my_ids = set(mine.order_by().values_list("id", flat=True))
    soon = Contact.objects.filter(birthday_next__lte=end, deleted_at__isnull=True).order_by()
    ids = [pk for pk, customer_id in soon.values_list("id", "customer_id") if customer_id in my_ids]
    contacts = (
        Contact.objects.filter(pk__in=ids)
        .select_related("customer")
        .only("id", "name", "customer_id", "customer__name", *_BIRTHDAY_COLUMNS)
    )
    return _upcoming(contacts, today=today, end=end), _upcoming(persons, today=today, end=end)


def birthday_refresh(*, today: date | None = None, full: bool = False, batch: int = 2000) -> int:
    """Move every ``birthday_next`` that has passed on to the next celebration (daily job, MKT-3);
    ``full`` recomputes every birthday (after a bulk load or an import that bypassed the services).
    Returns how many rows changed. Idempotent: a second run the same day changes nothing."""
    today = today or timezone.localdate()
    changed = 0
    cache: dict[Birthday, date | None] = {}
    models: tuple[Any, ...] = (Customer, Contact)
    for model in models:
        has_birthday = Q(birthday__isnull=False) | Q(lunar_birth_month__isnull=False)
        # Daily: only the dates that have passed (a range of birthday_next); full: every birthday.
        rows = model.objects.filter(has_birthday if full else Q(birthday_next__lt=today)).order_by("pk")
        last = 0
        while True:
            chunk = list(rows.filter(pk__gt=last).only("id", *_BIRTHDAY_COLUMNS)[:batch])
            if not chunk:
                break
            last = chunk[-1].pk
            updates: list[Any] = []
            for row in chunk:
                birthday = _birthday(row)
                if birthday not in cache:
                    cache[birthday] = next_birthday(birthday, on=today)
                if row.birthday_next != cache[birthday]:
                    row.birthday_next = cache[birthday]
                    updates.append(row)
            with transaction.atomic():
                model.objects.bulk_update(updates, ["birthday_next"], batch_size=500)
            changed += len(updates)
    return changed
