"""The public pool (公海, CUS-7) as the cast meets it: claiming within the limits, putting back with a
reason, assigning, locking, and the nightly return of customers nobody followed up — each move
audited, each refusal changing nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.customers import pool, selectors
from kehu.customers.models import Customer, Pool, PoolClaim
from kehu.customers.rules import PoolRule, pool_return_on

from .factories import make_customer

pytestmark = pytest.mark.django_db


def fresh(c: Customer) -> Customer:
    return Customer.objects.get(pk=c.pk)


def in_pool(cast: SimpleNamespace, name: str, **data: Any) -> Customer:
    return make_customer(cast.admin, name=name, owner=None, **data)


@pytest.fixture
def default(db: Any) -> Pool:
    return Pool.objects.get(is_default=True)


@pytest.fixture
def watched(nothing_changes: Any) -> Any:
    return lambda: nothing_changes(Customer, PoolClaim, AuditEvent)


def age(customer: Customer, *, held_days: int, contacted_days: int | None = None) -> Customer:
    """Pretend the owner got it ``held_days`` ago and last contacted it ``contacted_days`` ago."""
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        owner_since=now - timedelta(days=held_days),
        created_at=now - timedelta(days=held_days),
        last_contact_at=None if contacted_days is None else now - timedelta(days=contacted_days),
    )
    return fresh(customer)


# --- rules -----------------------------------------------------------------------------------------------


def test_the_return_date_counts_from_the_last_contact_or_from_when_the_owner_got_it() -> None:
    rule = PoolRule(no_follow_up_days=30, no_deal_days=90)
    day = timezone.localdate()
    args = {"last_order": None, "deal_status": "potential", "locked": False}
    assert pool_return_on(rule, held_since=day, last_contact=None, **args) == day + timedelta(days=30)
    later = day + timedelta(days=10)
    assert pool_return_on(rule, held_since=day, last_contact=later, **args) == later + timedelta(days=30)
    # Contacted before the current owner got it: the owner's 30 days start when they got it.
    assert pool_return_on(
        rule, held_since=day, last_contact=day - timedelta(days=50), **args
    ) == day + timedelta(30)
    assert pool_return_on(rule, held_since=day, last_contact=None, last_order=None, deal_status="closed",
                          locked=False) is None  # fmt: skip
    assert pool_return_on(rule, held_since=day, last_contact=None, last_order=None, deal_status="potential",
                          locked=True) is None  # fmt: skip
    assert pool_return_on(PoolRule(None, None), held_since=day, last_contact=None, **args) is None


# --- claiming ---------------------------------------------------------------------------------------------


def test_rep_east_claims_a_pool_customer(cast: SimpleNamespace, default: Pool) -> None:
    c = in_pool(cast, "公海里的机会有限公司")
    claimed = pool.customer_claim(customer_id=c.pk, by=cast.rep_east)
    assert (claimed.owner, fresh(c).owner) == (cast.rep_east, cast.rep_east)
    assert fresh(c).owner_since is not None
    event = AuditEvent.objects.get(verb="claim")
    assert (event.actor, event.customer_id) == (cast.rep_east, c.pk)
    assert "公海里的机会有限公司" in {
        x.name for x in selectors.customer_list(actor=cast.rep_east, scene="mine").items
    }


def test_a_customer_already_taken_cannot_be_claimed_again(
    cast: SimpleNamespace, default: Pool, watched: Any
) -> None:
    c = in_pool(cast, "抢手客户有限公司")
    pool.customer_claim(customer_id=c.pk, by=cast.rep_east)
    with watched(), pytest.raises(NotFound):
        pool.customer_claim(customer_id=c.pk, by=cast.rep_east2)


def test_the_daily_claim_limit_and_the_holding_cap(
    cast: SimpleNamespace, default: Pool, watched: Any
) -> None:
    default.daily_claim_limit, default.holding_cap = 2, 10
    default.save()
    customers = [in_pool(cast, f"每日上限{i}号有限公司") for i in range(3)]
    for c in customers[:2]:
        pool.customer_claim(customer_id=c.pk, by=cast.rep_east)
    with watched(), pytest.raises(ValidationError) as limited:
        pool.customer_claim(customer_id=customers[2].pk, by=cast.rep_east)
    assert limited.value.code == "claim_limit" and "2" in limited.value.text()

    default.daily_claim_limit, default.holding_cap = None, 2
    default.save()
    with watched(), pytest.raises(ValidationError) as capped:
        pool.customer_claim(customer_id=customers[2].pk, by=cast.rep_east)
    assert capped.value.code == "holding_cap"
    # Closed customers do not count toward the cap unless the pool says so.
    Customer.objects.filter(pk=customers[0].pk).update(deal_status="closed")
    pool.customer_claim(customer_id=customers[2].pk, by=cast.rep_east)


def test_putting_back_needs_a_reason_and_the_cooldown_keeps_the_old_owner_away(
    cast: SimpleNamespace, default: Pool, watched: Any
) -> None:
    default.cooldown_days = 7
    default.save()
    c = in_pool(cast, "退回再领有限公司")
    pool.customer_claim(customer_id=c.pk, by=cast.rep_east)
    with watched(), pytest.raises(ValidationError) as no_reason:
        pool.customer_release(customer_id=c.pk, reason=" ", by=cast.rep_east)
    assert no_reason.value.field == "reason"
    pool.customer_release(customer_id=c.pk, reason="客户暂无需求", by=cast.rep_east)
    released = fresh(c)
    assert (released.owner, released.previous_owner) == (None, cast.rep_east) and released.released_at
    assert AuditEvent.objects.get(verb="release").changes["reason"] == [None, "客户暂无需求"]
    with watched(), pytest.raises(ValidationError) as cooling:
        pool.customer_claim(customer_id=c.pk, by=cast.rep_east)
    assert cooling.value.code == "cooldown"
    pool.customer_claim(customer_id=c.pk, by=cast.rep_east2)  # someone else may
    pool.customer_release(customer_id=c.pk, reason="也不需要", by=cast.rep_east2)
    with watched(), pytest.raises(Conflict) as already:
        pool.customer_release(customer_id=c.pk, reason="再退一次", by=cast.admin)
    assert already.value.code == "already_in_pool"


def test_members_only_a_pool_with_members_is_invisible_to_others(cast: SimpleNamespace) -> None:
    west_pool = pool.pool_create(
        data={"name": "华南公海", "member_departments": [cast.west.pk]}, by=cast.admin
    )
    c = in_pool(cast, "华南线索有限公司")
    Customer.objects.filter(pk=c.pk).update(pool=west_pool)
    assert "华南线索有限公司" in {
        x.name for x in selectors.customer_list(actor=cast.rep_west, scene="pool").items
    }
    assert "华南线索有限公司" not in {
        x.name for x in selectors.customer_list(actor=cast.rep_east, scene="pool").items
    }
    with pytest.raises(NotFound):
        pool.customer_claim(customer_id=c.pk, by=cast.rep_east)
    pool.customer_claim(customer_id=c.pk, by=cast.rep_west)


def test_a_pool_admin_assigns_and_a_rep_may_not(cast: SimpleNamespace, default: Pool, watched: Any) -> None:
    c = in_pool(cast, "待分配有限公司")
    with watched(), pytest.raises(PermissionDenied):
        pool.customer_assign(customer_id=c.pk, to_user=cast.rep_east2.pk, by=cast.rep_east)
    default.admins.add(cast.rep_east)
    assigned = pool.customer_assign(customer_id=c.pk, to_user=cast.rep_east2.pk, by=cast.rep_east)
    assert assigned.owner == cast.rep_east2
    assert AuditEvent.objects.get(verb="assign").changes["owner"] == [None, cast.rep_east2.label]


def test_bad_pool_settings_are_refused_naming_the_field(cast: SimpleNamespace) -> None:
    for data, field in (
        ({"name": ""}, "name"),
        ({"name": "x", "no_follow_up_days": -1}, "no_follow_up_days"),
        ({"name": "x", "holding_cap": "many"}, "holding_cap"),
        ({"name": "x", "members": [999999]}, "members"),
        ({"name": "x", "level_rules": {"platinum": {}}}, "level_rules"),
        ({"name": "默认公海"}, "name"),
        ({"name": "x", "colour": "blue"}, "colour"),
    ):
        with pytest.raises(ValidationError) as refused:
            pool.pool_create(data=data, by=cast.admin)
        assert refused.value.field == field, data
    with pytest.raises(PermissionDenied):
        pool.pool_create(data={"name": "销售自建"}, by=cast.rep_east)


# --- the nightly return -----------------------------------------------------------------------------------


def test_the_nightly_return_takes_back_forgotten_customers_and_spares_the_exempt(
    cast: SimpleNamespace, default: Pool
) -> None:
    pool.pool_update(
        pool_id=default.pk,
        version=default.version,
        data={"no_follow_up_days": 30, "level_rules": {"vip": {"no_follow_up_days": 90}}},
        by=cast.admin,
    )
    forgotten = age(make_customer(cast.rep_east, name="久未联系有限公司"), held_days=60, contacted_days=45)
    fresh_one = age(make_customer(cast.rep_east, name="刚联系过有限公司"), held_days=60, contacted_days=5)
    new_claim = age(make_customer(cast.rep_east, name="刚领取有限公司"), held_days=10)
    vip = age(make_customer(cast.rep_east, name="贵宾客户有限公司"), held_days=60, contacted_days=45)
    Customer.objects.filter(pk=vip.pk).update(value_tier="vip")
    closed = age(make_customer(cast.rep_east, name="已成交有限公司"), held_days=60, contacted_days=45)
    Customer.objects.filter(pk=closed.pk).update(deal_status="closed")
    locked = age(make_customer(cast.rep_east, name="已锁定有限公司"), held_days=60, contacted_days=45)
    pool.customer_pool_lock(customer_id=locked.pk, locked=True, by=cast.admin)

    result = pool.pool_recycle()
    assert result.returned == 1
    back = fresh(forgotten)
    assert (back.owner, back.previous_owner) == (None, cast.rep_east) and back.released_at
    for kept in (fresh_one, new_claim, vip, closed, locked):
        assert fresh(kept).owner == cast.rep_east, kept.name
    event = AuditEvent.objects.get(verb="pool_return")
    assert event.actor is None and event.customer_id == forgotten.pk
    assert pool.pool_recycle().returned == 0  # twice is harmless


def test_the_owner_is_warned_before_and_the_list_shows_days_until_return(
    cast: SimpleNamespace, default: Pool, signed_in: Any
) -> None:
    pool.pool_update(pool_id=default.pk, version=default.version, data={"no_follow_up_days": 30, "warn_days": 5},
                     by=cast.admin)  # fmt: skip
    soon = age(make_customer(cast.rep_east, name="快到期有限公司"), held_days=40, contacted_days=27)
    age(make_customer(cast.rep_east, name="还早有限公司"), held_days=40, contacted_days=2)
    assert [c.name for c in pool.pool_warnings(actor=cast.rep_east)] == [soon.name]
    page = selectors.customer_list(actor=cast.rep_east, scene="mine", sort="name")
    days = {c.name: c.days_to_pool for c in page.items}
    assert days == {"快到期有限公司": 3, "还早有限公司": 28}
    assert next(c for c in page.items if c.name == soon.name).pool_due_soon
    html = signed_in(cast.rep_east).get(reverse("customers:list"), {"scene": "mine"}).content.decode()
    assert 'data-testid="days-to-pool"' in html and "badge-red" in html


def test_the_recycle_command_reports_what_it_returned(cast: SimpleNamespace, default: Pool) -> None:
    Pool.objects.filter(pk=default.pk).update(no_follow_up_days=30)
    age(make_customer(cast.rep_east, name="命令回收有限公司"), held_days=60)
    out = io.StringIO()
    call_command("recycle", stdout=out)
    assert "returned 1 customer" in out.getvalue()


# --- pages and API ----------------------------------------------------------------------------------------


def test_a_rep_claims_from_the_pool_scene_and_puts_back_from_the_customer_page(
    cast: SimpleNamespace, default: Pool, signed_in: Any
) -> None:
    c = in_pool(cast, "页面领取有限公司")
    client = signed_in(cast.rep_east)
    listed = client.get(reverse("customers:list"), {"scene": "pool"}).content.decode()
    assert 'data-testid="claim"' in listed
    assert client.post(reverse("customers:claim", args=[c.pk])).status_code == 302
    assert fresh(c).owner == cast.rep_east
    detail = client.get(reverse("customers:detail", args=[c.pk]), {"tab": "team"}).content.decode()
    assert 'data-testid="release"' in detail and 'data-testid="pool-info"' in detail
    refused = client.post(reverse("customers:release", args=[c.pk]), {"reason": ""})
    assert refused.status_code == 302 and fresh(c).owner == cast.rep_east
    client.post(reverse("customers:release", args=[c.pk]), {"reason": "不在我的区域"})
    assert fresh(c).owner is None


def test_the_pool_admin_pages_create_and_change_a_pool(cast: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(cast.admin)
    assert "默认公海" in client.get(reverse("customers:pools")).content.decode()
    created = client.post(
        reverse("customers:pool_create"),
        {"name": "大客户公海", "is_active": "on", "no_follow_up_days": "15", "warn_days": "3", "cooldown_days": "0",
         "admins": [str(cast.manager_east.pk)], "level_vip_no_follow_up_days": "60"},
    )  # fmt: skip
    assert created.status_code == 302, created.content.decode()[:500]
    made = Pool.objects.get(name="大客户公海")
    assert made.no_follow_up_days == 15 and list(made.admins.all()) == [cast.manager_east]
    assert made.level_rules.get().no_follow_up_days == 60
    bad = client.post(reverse("customers:pool_create"), {"name": "", "warn_days": "3"})
    assert 'data-error-for="name"' in bad.content.decode()
    assert signed_in(cast.rep_east).get(reverse("customers:pools")).status_code == 403


def test_the_pool_api(cast: SimpleNamespace, default: Pool, api_as: Any) -> None:
    admin = api_as(cast.admin)
    made = admin.post(
        "/api/v1/pools",
        {"name": "API公海", "no_follow_up_days": 20, "level_rules": {"vip": {"no_follow_up_days": 45}}},
    )
    assert made.status_code == 201 and made.json()["level_rules"]["vip"]["no_follow_up_days"] == 45
    patched = admin.patch(
        f"/api/v1/pools/{made.json()['id']}", {"version": made.json()["version"], "holding_cap": 100}
    )
    assert patched.status_code == 200 and patched.json()["holding_cap"] == 100
    c = in_pool(cast, "接口领取有限公司")
    rep = api_as(cast.rep_east)
    assert rep.post(f"/api/v1/customers/{c.pk}/claim").json()["owner"]["id"] == cast.rep_east.pk
    again = api_as(cast.rep_east2).post(f"/api/v1/customers/{c.pk}/claim")
    assert again.status_code == 404
    back = rep.post(f"/api/v1/customers/{c.pk}/release", {"reason": "重复线索"})
    assert back.status_code == 200 and back.json()["in_pool"]
    assert admin.post("/api/v1/pools/recycle").json()["returned"] == 0
    assert rep.post("/api/v1/pools/recycle").status_code == 403
