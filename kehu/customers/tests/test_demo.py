"""``kehu demo``: a deterministic, valid and varied demo company, and the shortcuts it takes for speed
give exactly what the services and rules would."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.validators import validate_email
from django.db import connection
from django.utils import timezone

from kehu.access.models import Department, User
from kehu.access.perms import DEFAULT_ROLES
from kehu.audit.models import AuditEvent
from kehu.core.identity import (
    birth_date_from_id,
    gender_from_id,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
)
from kehu.core.pinyin import pinyin_keys, search_keys
from kehu.customers import demo
from kehu.customers.choices import (
    DEFAULT_INDUSTRIES,
    DEFAULT_SOURCES,
    DERIVED_DIMENSIONS,
    DealStatus,
    Loyalty,
    NeedStatus,
    Relation,
    Size,
    Status,
    ValueTier,
)
from kehu.customers.dedupe_rules import normalize_company_name
from kehu.customers.models import Contact, Customer, Option
from kehu.customers.rules import OrderFacts, contact_search_text, customer_search_text, derive_all, phone_key

PASSWORD = "kehu-Demo-Pass-2026"
TODAY = date(2026, 6, 15)


def fake_context(**overrides) -> demo.DemoContext:
    """Ids as a database would hand them out; the generator never touches the database."""
    values = {
        "today": TODAY,
        "industry_ids": {code: i + 1 for i, (code, _zh, _en) in enumerate(DEFAULT_INDUSTRIES)},
        "source_ids": {code: i + 101 for i, (code, _zh, _en) in enumerate(DEFAULT_SOURCES)},
        "tag_ids": list(range(201, 213)),
        "reps_by_area": {"east": [3, 4], "south": [6], "north": [8]},
        "managers": {"east": (2, "陈静"), "south": (5, "黄志强"), "north": (7, "刘洋")},
        "rm_id": 11,
    }
    values.update(overrides)
    return demo.DemoContext(**values)


def generate(count: int, *, seed: int = 7, first_number: int = 1, contacts: int = 2, ctx=None) -> demo.Chunk:
    """A run of ``count`` customers, batch by batch as ``load_demo`` does."""
    generator = demo.CustomerGenerator(ctx or fake_context(), seed=seed, contacts_per_customer=contacts)
    out = demo.Chunk()
    for index, start in enumerate(range(0, count, demo.CHUNK)):
        numbers = range(first_number + start, first_number + min(count, start + demo.CHUNK))
        chunk = generator.chunk(index, numbers, 1 + start, 1 + start * contacts)
        for key in ("customers", "contacts", "tags", "collaborators"):
            getattr(out, key).extend(getattr(chunk, key))
    return out


def col(name: str) -> int:
    return demo.CUSTOMER_COLUMNS.index(name)


def contact_col(name: str) -> int:
    return demo.CONTACT_COLUMNS.index(name)


# --- the generator, without a database -------------------------------------------------------------


def test_the_same_seed_gives_the_same_customers_and_another_seed_others():
    first, second = generate(300), generate(300)
    assert first.customers == second.customers
    assert first.contacts == second.contacts
    other = generate(300, seed=8)
    assert [r[col("name")] for r in other.customers] != [r[col("name")] for r in first.customers]


def test_names_and_numbers_do_not_depend_on_database_ids():
    ids = fake_context(
        reps_by_area={"east": [30, 40, 41], "south": [60], "north": [80]},
        rm_id=99,
        tag_ids=list(range(1, 13)),
    )
    keys = ("code", "name", "credit_code", "id_number", "mobile")
    base = [tuple(r[col(k)] for k in keys) for r in generate(300).customers]
    assert [tuple(r[col(k)] for k in keys) for r in generate(300, ctx=ids).customers] == base


def test_identity_numbers_are_valid_and_unique():
    out = generate(3000)
    companies = [r for r in out.customers if r[col("kind")] == "company"]
    people = [r for r in out.customers if r[col("kind")] == "individual"]
    assert 0.7 < len(companies) / len(out.customers) < 0.9
    for row in companies:
        assert normalize_credit_code(row[col("credit_code")]) == row[col("credit_code")]
        assert not row[col("id_number")]
    for row in people:
        number = row[col("id_number")]
        assert normalize_id_number(number, today=TODAY) == number
        assert gender_from_id(number) == row[col("gender")]
        assert birth_date_from_id(number).isoformat() == row[col("birthday")]
    mobiles = [r[col("mobile")] for r in people] + [c[contact_col("mobile")] for c in out.contacts]
    assert all(normalize_mobile(m) == m for m in mobiles)
    assert len(mobiles) == len(set(mobiles))
    for rows, key in (
        (companies, "credit_code"),
        (companies, "name_normalized"),
        (people, "id_number"),
        (out.customers, "code"),
    ):
        values = [r[col(key)] for r in rows]
        assert len(values) == len(set(values)), key


def test_organisation_codes_carry_their_gb_11714_check_digit():
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    for number in (0, 1, 12345678, 99999999, 70000001, 31415926):
        body = f"{number:08d}"
        check = 11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
        assert demo.org_code(number) == body + ("X" if check == 10 else "0" if check == 11 else str(check))


def test_composed_pinyin_and_normalised_names_equal_what_the_rules_compute():
    generator = demo.CustomerGenerator(fake_context(), seed=3, contacts_per_customer=3)
    # Single-brand names first, then the two-brand names used beyond them.
    chunks = [
        generator.chunk(0, range(1, 1501), 1, 1),
        generator.chunk(1, range(generator.s1 - 200, generator.s1 + 1300), 10_001, 30_001),
    ]
    for chunk in chunks:
        contact_texts: dict[int, list[str]] = {}
        for contact in sorted(chunk.contacts):
            contact_texts.setdefault(contact[contact_col("customer_id")], []).append(
                contact[contact_col("search_text")]
            )
        for row in chunk.customers:
            person = row[col("kind")] == "individual"
            assert row[col("search_text")] == customer_search_text(
                name=row[col("name")],
                code=row[col("code")],
                credit_code=row[col("credit_code")],
                mobile=row[col("mobile")],
                phone=row[col("phone")],
                id_number=row[col("id_number")],
                person=person,
                contacts=contact_texts.get(row[col("id")], []),
            )
            assert row[col("name_normalized")] == normalize_company_name(row[col("name")])[:120]
            assert row[col("phone_key")] == phone_key(row[col("phone")])
            if row[col("email")]:
                validate_email(row[col("email")])
        for row in chunk.contacts:
            assert row[contact_col("search_text")] == contact_search_text(
                name=row[contact_col("name")],
                mobile=row[contact_col("mobile")],
                phone=row[contact_col("phone")],
                email=row[contact_col("email")],
                wechat=row[contact_col("wechat")],
            )
            assert row[contact_col("phone_key")] == phone_key(row[contact_col("phone")])
            if row[contact_col("email")]:
                validate_email(row[contact_col("email")])


def test_every_pair_of_adjacent_name_words_reads_the_same_together_and_apart():
    """Why composing per-word pinyin is safe: no word pair forms a phrase with another reading."""
    keys: dict[str, tuple[str, str]] = {}

    def k(text: str) -> tuple[str, str]:
        if text not in keys:
            keys[text] = pinyin_keys(text)
        return keys[text]

    regions = [r[0] for r in demo.REGIONS]
    businesses = [b[0] for b in demo.BUSINESSES]
    suffixes = sorted({s for group in demo.SUFFIXES_BY_SIZE.values() for s in group})
    bad = [
        (a, b)
        for left, right in (
            (regions, demo.BRANDS),
            (demo.BRANDS, demo.BRANDS),
            (demo.BRANDS, businesses),
            (businesses, suffixes),
        )
        for a in left
        for b in right
        if a != b and k(a + b) != (k(a)[0] + k(b)[0], k(a)[1] + k(b)[1])
    ]
    assert bad == []


def test_every_person_name_reads_as_its_surname_and_given_name_apart():
    """Why composing a person name's pinyin from its surname's and given name's is safe
    (于 + 思远 would not be: pypinyin reads 于思 as the phrase yúsāi)."""
    generator = demo.CustomerGenerator(fake_context(), seed=1)
    for index in range(generator.n_people):
        name, _gender, keys, full = generator.person_at(index)
        assert keys == search_keys(name, person_name=True), name
        assert full == keys.split()[0]


def test_classification_covers_every_value_and_derived_values_follow_the_rules():
    out = generate(300)
    seen = {
        dim: Counter(r[col(dim)] for r in out.customers)
        for dim in (
            "value_tier",
            "loyalty",
            "status",
            "deal_status",
            "need_status",
            "relation",
            "kind",
            "size",
            "industry_id",
            "source_id",
        )
    }
    assert set(seen["value_tier"]) == set(ValueTier.values)
    assert set(seen["loyalty"]) == set(Loyalty.values)
    assert set(seen["status"]) == set(Status.values)
    assert set(seen["deal_status"]) == set(DealStatus.values)
    assert set(seen["need_status"]) == set(NeedStatus.values)
    assert set(seen["relation"]) == set(Relation.values)
    assert set(seen["size"]) - {""} == set(Size.values)
    assert set(seen["industry_id"]) - {None} == set(fake_context().industry_ids.values())
    assert set(seen["source_id"]) == set(fake_context().source_ids.values())
    for row in out.customers:
        facts = OrderFacts(
            first_order_date=date.fromisoformat(row[col("first_order_date")])
            if row[col("first_order_date")]
            else None,
            last_order_date=date.fromisoformat(row[col("last_order_date")])
            if row[col("last_order_date")]
            else None,
            order_count=row[col("order_count")],
            revenue_12m=Decimal(row[col("revenue_12m")]),
            screened=row[col("screened")],
        )
        overridden = row[col("overrides")] != "{}"
        for dim, derived in derive_all(facts, today=TODAY).items():
            if not (overridden and f'"{dim}"' in row[col("overrides")]):
                assert row[col(dim)] == derived.value, (row[col("code")], dim)


def test_contacts_have_one_primary_and_report_to_the_boss_at_companies():
    out = generate(200, contacts=3)
    assert len(out.contacts) == 600
    by_customer: dict[int, list[tuple]] = {}
    for row in out.contacts:
        by_customer.setdefault(row[contact_col("customer_id")], []).append(row)
    kinds = {r[col("id")]: r[col("kind")] for r in out.customers}
    for customer_id, rows in by_customer.items():
        assert [r[contact_col("is_primary")] for r in rows] == [True, False, False]
        boss = rows[0][contact_col("id")]
        expected = [None, boss, boss] if kinds[customer_id] == "company" else [None, None, None]
        assert [r[contact_col("reports_to_id")] for r in rows] == expected


def test_sales_reps_for_big_demos():
    assert demo.rep_count(200) == 4
    assert demo.rep_count(100_000) == 50
    assert demo.rep_count(1_000_000) == 500


# --- the command, with a database ------------------------------------------------------------------


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_creates_the_company_with_valid_varied_customers():
    output = run_demo("--customers", "300", "--seed", "7", "--password", PASSWORD)

    users = {u.username: u for u in User.objects.prefetch_related("roles")}
    assert {
        "admin",
        "manager_east",
        "rep_east",
        "rep_east2",
        "manager_south",
        "rep_south",
        "manager_north",
        "rep_north",
        "agent",
        "marketing",
        "rm",
        "auditor",
    } <= set(users)
    assert {r.code for u in users.values() for r in u.roles.all()} == set(DEFAULT_ROLES)
    assert users["rep_east"].supervisor == users["manager_east"]
    assert users["rep_south"].department.name == "华南销售部"
    assert users["rep_south"].department.parent.name == "销售部"
    assert Department.objects.get(name="华东销售部").manager == users["manager_east"]
    assert users["auditor"].check_password(PASSWORD)
    assert "http://127.0.0.1:" in output and PASSWORD in output and "rep_east" in output
    assert "rows/s" in output

    customers = list(Customer.objects.all())
    assert len(customers) == 300 and Contact.objects.count() == 600
    # Same names, codes and credit codes as a run of the generator on another database would give.
    expected = generate(300, seed=7)
    assert sorted((c.code, c.name, c.credit_code) for c in customers) == sorted(
        (r[col("code")], r[col("name")], r[col("credit_code")]) for r in expected.customers
    )

    industries = set(Option.objects.filter(kind="industry").values_list("pk", flat=True))
    assert {c.industry_id for c in customers} - {None} == industries
    assert {c.status for c in customers} == set(Status.values)
    assert {c.deal_status for c in customers} == set(DealStatus.values)
    assert 0 < sum(c.owner_id is None for c in customers) < 45  # the public pool, ~5%
    today = timezone.localdate()
    for c in customers:
        facts = OrderFacts(c.first_order_date, c.last_order_date, c.order_count, c.revenue_12m, c.screened)
        for dim in DERIVED_DIMENSIONS:
            if dim in c.overrides:
                assert c.overrides[dim]["reason"]
            else:
                assert getattr(c, dim) == derive_all(facts, today=today)[dim].value
        assert c.search_text == customer_search_text(
            name=c.name,
            code=c.code,
            credit_code=c.credit_code,
            mobile=c.mobile,
            phone=c.phone,
            id_number=c.id_number,
            person=c.kind == "individual",
            contacts=c.contacts.filter(deleted_at__isnull=True)
            .order_by("id")
            .values_list("search_text", flat=True),
        )
        assert c.phone_key == phone_key(c.phone)
        assert isinstance(c.revenue_12m, Decimal)
    assert sum(bool(c.phone_key) for c in customers) > 150  # the companies' landlines, as written
    contact_keys = list(Contact.objects.exclude(phone="").values_list("phone", "phone_key"))
    assert contact_keys and all(key == phone_key(phone) and len(key) >= 11 for phone, key in contact_keys)
    assert AuditEvent.objects.filter(verb="demo_load", subject_type="system").count() == 1


@pytest.mark.django_db
def test_if_empty_does_nothing_once_there_are_users():
    run_demo("--if-empty", "--customers", "20", "--password", PASSWORD)
    counts = (User.objects.count(), Customer.objects.count(), Contact.objects.count())
    assert counts[1] == 20
    output = run_demo("--if-empty", "--customers", "20", "--password", PASSWORD)
    assert "skipped" in output
    assert (User.objects.count(), Customer.objects.count(), Contact.objects.count()) == counts


@pytest.mark.django_db
def test_a_second_demo_adds_customers_with_new_codes_and_keeps_the_users():
    run_demo("--customers", "30", "--password", PASSWORD)
    users = User.objects.count()
    output = run_demo("--customers", "30", "--password", "kehu-Another-Pass-1")
    assert User.objects.count() == users
    assert "password unchanged" in output
    codes = list(Customer.objects.values_list("code", flat=True))
    credit = [c for c in Customer.objects.values_list("credit_code", flat=True) if c]
    assert len(codes) == 60 == len(set(codes)) and len(credit) == len(set(credit))


@pytest.mark.django_db
def test_bulk_mode_and_worker_processes_load_the_same_rows(monkeypatch):
    """The paths a big load takes (indexes rebuilt at the end, rows generated in forked workers)."""
    monkeypatch.setattr(demo, "BULK_MIN", 10)
    result = demo.load_demo(customers=150, seed=5, password=PASSWORD, workers=2)
    assert (result.customers, result.contacts) == (150, 300)
    assert Customer.objects.count() == 150 and Contact.objects.count() == 300
    expected = generate(150, seed=5)
    assert sorted(Customer.objects.values_list("code", "name", "search_text")) == sorted(
        (r[col("code")], r[col("name")], r[col("search_text")]) for r in expected.customers
    )
    boss = Contact.objects.filter(is_primary=True).first()
    assert boss.customer.contacts.count() == 2
    with connection.cursor() as cursor:  # the indexes are back
        assert "customer_live_owner" in connection.introspection.get_constraints(cursor, "customers_customer")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--contacts-per-customer", "99"], "contacts-per-customer"),
        (["--customers", "-1"], "customers"),
        (["--password", "123"], "password"),
    ],
)
def test_bad_options_name_the_field_and_write_nothing(args, field):
    with pytest.raises(CommandError, match=field):
        run_demo(*args)
    assert not User.objects.exists() and not Customer.objects.exists()
