"""Birthdays kept in the solar or the lunar calendar (MKT-3): rules, the services that store them as
lunar, the API and pages that show them, and the next-celebration date the reminders read."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kehu.core import lunar
from kehu.core.errors import ValidationError
from kehu.core.lunar import LunarDay
from kehu.customers import services
from kehu.customers.birthdays import birthday_refresh, upcoming_birthdays
from kehu.customers.models import Contact, Customer
from kehu.customers.rules import Birthday, birthday_label, next_birthday, next_solar_birthday

from .factories import make_contact, make_customer

# --- rules ----------------------------------------------------------------------------------------


def test_a_solar_birthday_comes_round_on_its_day_and_29_february_on_the_28th_in_common_years() -> None:
    assert next_solar_birthday(date(1980, 12, 3), on=date(2026, 12, 1)) == date(2026, 12, 3)
    assert next_solar_birthday(date(1980, 11, 30), on=date(2026, 12, 1)) == date(2027, 11, 30)
    assert next_solar_birthday(date(1988, 2, 29), on=date(2027, 1, 1)) == date(2027, 2, 28)
    assert next_solar_birthday(date(1988, 2, 29), on=date(2027, 3, 1)) == date(2028, 2, 29)


def test_a_lunar_birthday_is_shown_with_its_solar_date() -> None:
    mid_autumn = Birthday(lunar=LunarDay(8, 15))
    assert next_birthday(mid_autumn, on=date(2026, 9, 1)) == date(2026, 9, 25)
    assert birthday_label(mid_autumn, on=date(2026, 9, 1)) == "农历八月十五 (9月25日)"
    assert birthday_label(Birthday(solar=date(1980, 1, 1)), on=date(2026, 9, 1)) == ""
    assert next_birthday(Birthday(), on=date(2026, 9, 1)) is None


@given(
    born=st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)),
    on=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
)
def test_the_next_solar_birthday_is_within_a_year_on_the_same_month_day(born: date, on: date) -> None:
    when = next_solar_birthday(born, on=on)
    assert on <= when < on + timedelta(days=366)
    if (born.month, born.day) == (2, 29) and when.month == 2 and when.day == 28:
        assert not (when.year % 4 == 0 and (when.year % 100 != 0 or when.year % 400 == 0))
    else:
        assert (when.month, when.day) == (born.month, born.day)


# --- services -------------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_rep_records_a_contacts_lunar_birthday_and_it_is_stored_as_lunar(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    contact = make_contact(
        customer,
        cast.rep_east,
        name="农历生日的刘总",
        birthday_calendar="lunar",
        lunar_birth_month="8",
        lunar_birth_day="15",
    )
    contact.refresh_from_db()
    assert (contact.birthday_calendar, contact.lunar_birth_month, contact.lunar_birth_day) == ("lunar", 8, 15)
    assert contact.birthday is None and contact.lunar_birth_leap is False
    today = timezone.localdate()
    assert contact.birthday_next == lunar.next_on_or_after(LunarDay(8, 15), today)
    # Back to solar: the lunar fields are cleared.
    services.contact_update(
        contact_id=contact.pk,
        version=contact.version,
        data={"birthday_calendar": "solar", "birthday": "1979-05-04"},
        by=cast.rep_east,
    )
    contact.refresh_from_db()
    assert (contact.lunar_birth_month, contact.lunar_birth_day) == (None, None)
    assert contact.birthday_next == next_solar_birthday(date(1979, 5, 4), on=today)


@pytestmark_db
def test_an_individuals_lunar_birthday_can_come_from_the_solar_date_of_birth(cast: SimpleNamespace) -> None:
    person = make_customer(cast.rep_east, kind="individual", name="王阿姨")
    services.customer_update(
        customer_id=person.pk,
        version=person.version,
        data={"birthday": "1962-09-13", "birthday_calendar": "农历"},  # 1962-09-13 was 八月十五
        by=cast.rep_east,
    )
    person.refresh_from_db()
    assert (person.birthday_calendar, person.lunar_birth_month, person.lunar_birth_day) == ("lunar", 8, 15)
    assert person.birthday == date(1962, 9, 13)
    assert person.lunar_birthday_label.startswith("农历八月十五 (")


@pytestmark_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"birthday_calendar": "lunar"}, "lunar_birth_month"),
        ({"birthday_calendar": "lunar", "lunar_birth_month": 8}, "lunar_birth_day"),
        ({"birthday_calendar": "lunar", "lunar_birth_month": 13, "lunar_birth_day": 1}, "lunar_birth_month"),
        ({"birthday_calendar": "lunar", "lunar_birth_month": 1, "lunar_birth_day": 31}, "lunar_birth_day"),
        ({"birthday_calendar": "julian"}, "birthday_calendar"),
    ],
)
def test_a_bad_lunar_birthday_is_refused_naming_the_field_and_nothing_changes(
    cast: SimpleNamespace, nothing_changes: Any, data: dict[str, Any], field: str
) -> None:
    customer = make_customer(cast.rep_east)
    contact = make_contact(customer, cast.rep_east)
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        services.contact_update(contact_id=contact.pk, version=None, data=data, by=cast.rep_east)
    assert refused.value.field == field


@pytestmark_db
def test_the_api_takes_and_shows_a_lunar_birthday(cast: SimpleNamespace, api_as: Any) -> None:
    customer = make_customer(cast.rep_east)
    api = api_as(cast.rep_east)
    created = api.post(
        f"/api/v1/customers/{customer.pk}/contacts",
        {"name": "闰月生的赵总", "birthday_calendar": "lunar", "lunar_birth_month": 6,
         "lunar_birth_day": 30, "lunar_birth_leap": True},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["birthday_calendar"], body["lunar_birth_month"], body["lunar_birth_day"]) == ("lunar", 6, 30)
    assert body["lunar_birth_leap"] is True
    assert body["lunar_birthday_label"].startswith("农历闰六月三十 (")
    refused = api.patch(
        f"/api/v1/contacts/{body['id']}",
        {"version": body["version"], "birthday_calendar": "lunar", "lunar_birth_month": 0},
    )
    assert refused.status_code == 422 and refused.json()["field"] == "lunar_birth_month"


@pytestmark_db
def test_the_customer_page_shows_a_lunar_birthday_with_its_solar_date(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    customer = make_customer(cast.rep_east)
    make_contact(customer, cast.rep_east, name="刘总", birthday_calendar="lunar", lunar_birth_month=1,
                 lunar_birth_day=1)  # fmt: skip
    page = signed_in(cast.rep_east).get(f"/customers/{customer.pk}/?tab=contacts").content.decode()
    assert "农历正月初一 (" in page


@pytestmark_db
def test_the_contact_form_records_a_lunar_birthday(cast: SimpleNamespace, signed_in: Any) -> None:
    customer = make_customer(cast.rep_east)
    response = signed_in(cast.rep_east).post(
        f"/customers/{customer.pk}/contacts/new/",
        {"name": "表单里的孙总", "birthday_calendar": "lunar", "lunar_birth_month": "12",
         "lunar_birth_day": "30"},
    )  # fmt: skip
    assert response.status_code == 302
    contact = Contact.objects.get(name="表单里的孙总")
    assert (contact.lunar_birth_month, contact.lunar_birth_day) == (12, 30)


# --- the next-celebration date --------------------------------------------------------------------


@pytestmark_db
def test_the_daily_refresh_moves_passed_birthdays_on_and_a_second_run_changes_nothing(
    cast: SimpleNamespace,
) -> None:
    customer = make_customer(cast.rep_east)
    solar = make_contact(customer, cast.rep_east, birthday="1980-12-03")
    moon = make_contact(customer, cast.rep_east, birthday_calendar="lunar", lunar_birth_month=8,
                        lunar_birth_day=15)  # fmt: skip
    later = date(2030, 1, 1)
    assert birthday_refresh(today=later) == 2
    assert Contact.objects.get(pk=solar.pk).birthday_next == date(2030, 12, 3)
    assert Contact.objects.get(pk=moon.pk).birthday_next == lunar.to_solar(2030, LunarDay(8, 15))
    assert birthday_refresh(today=later) == 0
    call_command("birthdays", "--full", "--date", "2030-01-01", stdout=None)
    assert Contact.objects.get(pk=moon.pk).birthday_next == lunar.to_solar(2030, LunarDay(8, 15))


@pytestmark_db
def test_upcoming_birthdays_read_one_index_range_and_work_out_dates_that_have_passed(
    cast: SimpleNamespace,
) -> None:
    today = timezone.localdate()
    soon = today + timedelta(days=3)
    _year, soon_lunar = lunar.from_solar(soon)
    customer = make_customer(cast.rep_east)
    make_contact(customer, cast.rep_east, name="农历寿星", birthday_calendar="lunar",
                 lunar_birth_month=soon_lunar.month, lunar_birth_day=soon_lunar.day,
                 lunar_birth_leap=soon_lunar.leap)  # fmt: skip
    stale = make_contact(
        customer, cast.rep_east, name="没刷新的寿星", birthday=soon.replace(year=1985).isoformat()
    )
    Contact.objects.filter(pk=stale.pk).update(birthday_next=soon - timedelta(days=365))
    make_contact(
        customer,
        cast.rep_east,
        name="下个月的",
        birthday=(today + timedelta(days=40)).replace(year=1990).isoformat(),
    )
    with CaptureQueriesContext(connection) as queries:
        contacts, persons = upcoming_birthdays(actor=cast.rep_east, today=today)
    assert sorted(b.person.name for b in contacts) == ["农历寿星", "没刷新的寿星"]
    assert persons == []
    lunar_one = next(b for b in contacts if b.person.name == "农历寿星")
    assert lunar_one.on == soon and lunar_one.label == f"{soon_lunar.label} ({soon.month}月{soon.day}日)"
    ranges = [q["sql"] for q in queries.captured_queries if '"birthday_next" <=' in q["sql"]]
    assert len([sql for sql in ranges if 'FROM "customers_contact"' in sql]) == 1
    assert len([sql for sql in ranges if 'FROM "customers_customer"' in sql]) == 1
    assert not Customer.objects.filter(pk=customer.pk, birthday_next__isnull=False).exists()


@pytestmark_db
def test_a_merge_takes_the_dropped_customers_birthday_whole(cast: SimpleNamespace) -> None:
    keep = make_customer(cast.rep_east, kind="individual", name="张三")
    drop = make_customer(cast.rep_east, kind="individual", name="张三丰", birthday_calendar="lunar",
                         lunar_birth_month="闰四月", lunar_birth_day="初一")  # fmt: skip
    services.customer_merge(keep_id=keep.pk, drop_id=drop.pk, by=cast.manager_east)
    keep.refresh_from_db()
    assert (keep.birthday_calendar, keep.lunar_birth_month, keep.lunar_birth_day, keep.lunar_birth_leap) == (
        "lunar", 4, 1, True,
    )  # fmt: skip
    assert keep.birthday_next == lunar.next_on_or_after(LunarDay(4, 1, leap=True), timezone.localdate())
