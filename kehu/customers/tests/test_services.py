"""Writes to the customer archive: validation (SEC-7), duplicates (CUS-5), optimistic locking (SEC-6),
classification overrides (CUS-2), transfer (CUS-7), recycle bin, merge, reveal (SEC-2) and contacts (CUS-3).

Every refused action also asserts that nothing changed (``nothing_changes`` in the root conftest).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from kehu.access.perms import DataScope, Perm
from kehu.access.services import role_create, user_create
from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.customers import selectors, services
from kehu.customers.errors import DuplicateFound
from kehu.customers.models import Contact, Customer, CustomerCollaborator

from .factories import credit_code, customer_data, id_number, make_contact, make_customer

pytestmark = pytest.mark.django_db


def fresh(customer: Customer) -> Customer:
    return Customer._base_manager.get(pk=customer.pk)


# --- create: validation ------------------------------------------------------------------------


def _bad_id_number() -> str:
    good = id_number()
    return good[:-1] + ("0" if good[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"credit_code": "91310000000000001A"}, "credit_code"),  # wrong check character
        ({"credit_code": "9131000000000000"}, "credit_code"),  # too short
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "23800138000"}, "mobile"),
        ({"kind": "individual", "id_number": "BAD"}, "id_number"),
        ({"kind": "individual", "id_number": "bad-check"}, "id_number"),
        ({"id_number": "valid-but-company"}, "id_number"),  # a company has no resident ID number
        ({"email": "not-an-email"}, "email"),
        ({"favourite_colour": "红"}, "favourite_colour"),  # unknown field
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "长" * 121}, "name"),
        ({"size": "gigantic"}, "size"),
        ({"industry": "no-such-industry"}, "industry"),
        ({"birthday": "2999-01-01"}, "birthday"),
        ({"phone": "call me"}, "phone"),
        ({"screened": "maybe"}, "screened"),
    ],
)
def test_create_refuses_bad_input_naming_the_field_and_writes_nothing(
    cast: SimpleNamespace, nothing_changes: Any, bad: dict[str, Any], field: str
) -> None:
    if bad.get("id_number") == "bad-check":
        bad = {**bad, "id_number": _bad_id_number()}
    if bad.get("id_number") == "valid-but-company":
        bad = {**bad, "id_number": id_number()}
    data = customer_data(**bad)

    with nothing_changes(), pytest.raises(ValidationError) as refused:
        services.customer_create(data=data, by=cast.rep_east)

    assert refused.value.field == field
    assert refused.value.code == "invalid"
    assert refused.value.text()


def test_create_makes_the_caller_the_owner_and_derives_code_search_keys_and_classification(
    cast: SimpleNamespace,
) -> None:
    customer = services.customer_create(
        data={
            "name": "华为技术（深圳）有限公司",
            "credit_code": credit_code(),
            "mobile": "+86 138-0013-8000",
            "tags": ["重点", "重点", "华东"],
        },
        by=cast.rep_east,
    )

    customer = fresh(customer)
    assert customer.owner == cast.rep_east
    assert customer.created_by == cast.rep_east
    assert customer.owner_since is not None
    assert customer.code.startswith("KH") and len(customer.code) == 10
    assert customer.mobile == "13800138000"
    assert customer.name_normalized == "华为技术"
    assert "huawei" in customer.search_text and "hwjs" in customer.search_text
    assert (customer.value_tier, customer.loyalty, customer.status, customer.deal_status) == (
        "small",
        "potential",
        "potential",
        "potential",
    )
    assert sorted(customer.tags.values_list("name", flat=True)) == ["华东", "重点"]
    assert customer.version == 1


def test_codes_are_unique_and_increasing(cast: SimpleNamespace) -> None:
    codes = [make_customer(cast.rep_east).code for _ in range(3)]
    assert codes == sorted(codes)
    assert len(set(codes)) == 3


def test_someone_without_the_create_permission_cannot_create(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    for who in (cast.agent, cast.auditor, cast.marketing):
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.customer_create(data=customer_data(), by=who)


def test_the_owner_given_on_create_must_be_an_active_user(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        services.customer_create(data=customer_data(owner=999999), by=cast.manager_east)
    assert refused.value.field == "owner"


def test_a_manager_may_create_a_customer_for_a_rep(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.manager_east, owner=cast.rep_east.pk)
    assert fresh(customer).owner == cast.rep_east


# --- create: duplicates (CUS-5) -------------------------------------------------------------------


def test_the_same_credit_code_blocks_even_when_duplicates_are_confirmed(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    code = credit_code()
    original = make_customer(cast.rep_east, name="上海明远精密机械有限公司", credit_code=code)

    with nothing_changes(), pytest.raises(DuplicateFound) as refused:
        services.customer_create(
            data=customer_data(name="完全不同的名字", credit_code=code),
            by=cast.rep_east,
            confirm_duplicates=True,
        )

    assert refused.value.blocking is True
    assert refused.value.code == "duplicate"
    assert refused.value.field == "credit_code"
    assert [m.customer_id for m in refused.value.matches] == [original.pk]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"name": "华为技术有限公司"}, {"name": "华为技术（深圳）有限公司"}),  # same after normalisation
        ({"name": "华为技术有限公司"}, {"name": "华为技术 有限公司"}),
        (
            {"name": "甲公司", "mobile": "13812345678"},
            {"name": "乙工厂", "mobile": "138 1234 5678"},
        ),  # same mobile
        ({"name": "深圳市腾飞电子科技有限公司"}, {"name": "深圳市腾飞电子科技发展有限公司"}),  # very similar
    ],
)
def test_likely_duplicates_warn_until_the_user_confirms(
    cast: SimpleNamespace, nothing_changes: Any, first: dict[str, Any], second: dict[str, Any]
) -> None:
    original = make_customer(cast.rep_east, **first)
    data = customer_data(**second)

    with nothing_changes(), pytest.raises(DuplicateFound) as warned:
        services.customer_create(data=data, by=cast.rep_east)

    assert warned.value.blocking is False
    assert warned.value.code == "duplicate"
    match = warned.value.matches[0]
    assert match.customer_id == original.pk
    assert match.visible and match.name == original.name
    assert match.reasons

    created = services.customer_create(data=data, by=cast.rep_east, confirm_duplicates=True)
    assert Customer.objects.filter(pk=created.pk).exists()


def test_a_rep_who_cannot_see_the_duplicate_learns_only_who_owns_it(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    make_customer(cast.rep_east, name="华为技术有限公司", mobile="13812345678")

    with nothing_changes(), pytest.raises(DuplicateFound) as warned:
        services.customer_create(data=customer_data(name="华为技术有限公司"), by=cast.rep_west)

    match = warned.value.matches[0]
    assert match.visible is False
    assert match.name is None
    assert match.code is None
    assert match.mobile_masked is None
    assert match.owner_name == cast.rep_east.label
    assert match.in_pool is False
    body = warned.value.as_dict()
    assert body["matches"][0]["customer_id"] is None
    assert "华为" not in str(body["matches"])


def test_a_user_who_cannot_see_the_pool_is_told_only_that_the_duplicate_is_in_the_pool(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    make_customer(cast.admin, name="公海里的华星光电", owner=None)
    role_create(
        code="creator",
        name="录入员",
        permissions=[Perm.CUSTOMER_VIEW, Perm.CUSTOMER_CREATE],
        data_scope=DataScope.OWN,
        by=cast.admin,
    )
    clerk = user_create(username="clerk", password=cast.password, role_codes=["creator"], by=None)

    with nothing_changes(), pytest.raises(DuplicateFound) as warned:
        services.customer_create(data=customer_data(name="公海里的华星光电"), by=clerk)

    match = warned.value.matches[0]
    assert (match.visible, match.name, match.in_pool, match.owner_name) == (False, None, True, None)


def test_deleted_and_merged_customers_do_not_count_as_duplicates(cast: SimpleNamespace) -> None:
    gone = make_customer(cast.rep_east, name="已删除的公司")
    services.customer_delete(customer_id=gone.pk, by=cast.manager_east)

    assert make_customer(cast.rep_east, name="已删除的公司")


def test_changing_the_name_to_a_duplicate_warns_too(cast: SimpleNamespace, nothing_changes: Any) -> None:
    make_customer(cast.rep_east, name="华为技术有限公司")
    other = make_customer(cast.rep_east, name="中兴通讯股份有限公司")

    with nothing_changes(), pytest.raises(DuplicateFound):
        services.customer_update(
            customer_id=other.pk, version=1, data={"name": "华为技术股份有限公司"}, by=cast.rep_east
        )


# --- update and optimistic locking (SEC-6) -------------------------------------------------------


def test_an_update_bumps_the_version_and_rederives_search_keys(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east, name="旧名字贸易")

    services.customer_update(
        customer_id=customer.pk, version=1, data={"name": "新名字贸易", "city": "杭州"}, by=cast.rep_east
    )

    customer = fresh(customer)
    assert (customer.name, customer.city, customer.version) == ("新名字贸易", "杭州", 2)
    assert "xinmingzi" in customer.search_text
    assert "jiumingzi" not in customer.search_text


def test_an_update_based_on_a_stale_version_is_refused_and_changes_nothing(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east, name="锁测试贸易")
    services.customer_update(customer_id=customer.pk, version=1, data={"notes": "第一次"}, by=cast.rep_east)

    with nothing_changes(), pytest.raises(Conflict) as refused:
        services.customer_update(customer_id=customer.pk, version=1, data={"notes": "覆盖"}, by=cast.rep_east)

    assert refused.value.code == "stale_version"
    assert refused.value.field == "version"
    assert fresh(customer).notes == "第一次"


def test_of_two_edits_made_from_the_same_version_only_the_first_is_saved(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    services.collaborator_set(customer_id=customer.pk, user=cast.rep_east2, can_edit=True, by=cast.rep_east)
    seen_by_both = fresh(customer).version

    services.customer_update(
        customer_id=customer.pk, version=seen_by_both, data={"needs": "甲的修改"}, by=cast.rep_east
    )
    with nothing_changes(), pytest.raises(Conflict):
        services.customer_update(
            customer_id=customer.pk, version=seen_by_both, data={"needs": "乙的修改"}, by=cast.rep_east2
        )

    assert fresh(customer).needs == "甲的修改"


def test_the_database_write_itself_refuses_a_stale_version(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    mine, theirs = fresh(customer), fresh(customer)
    mine.notes = "mine"
    mine.save_versioned(expected_version=1, fields=["notes"])

    theirs.notes = "theirs"
    with pytest.raises(Conflict):
        theirs.save_versioned(expected_version=1, fields=["notes"])
    assert fresh(customer).notes == "mine"


def test_the_owner_cannot_be_changed_by_an_update(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        services.customer_update(
            customer_id=customer.pk, version=1, data={"owner": cast.rep_west.pk}, by=cast.rep_east
        )
    assert refused.value.field == "owner"


def test_an_update_with_bad_input_names_the_field_and_changes_nothing(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    for data, field in (
        ({"mobile": "110"}, "mobile"),
        ({"email": "x@"}, "email"),
        ({"bogus": 1}, "bogus"),
        ({"name": ""}, "name"),
        ({"credit_code": "ABC"}, "credit_code"),
    ):
        with nothing_changes(), pytest.raises(ValidationError) as refused:
            services.customer_update(customer_id=customer.pk, version=1, data=data, by=cast.rep_east)
        assert refused.value.field == field


def test_a_rep_cannot_update_a_customer_outside_their_scope(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(NotFound):
        services.customer_update(customer_id=customer.pk, version=1, data={"notes": "x"}, by=cast.rep_west)


# --- classification overrides (CUS-2) --------------------------------------------------------------


def test_a_classification_override_needs_a_reason(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    for reason in ("", "   "):
        with nothing_changes(), pytest.raises(ValidationError) as refused:
            services.customer_classify(
                customer_id=customer.pk,
                version=1,
                dimension="value_tier",
                value="vip",
                reason=reason,
                by=cast.manager_east,
            )
        assert refused.value.field == "reason"


def test_a_classification_override_records_who_and_why_and_survives_rederivation(
    cast: SimpleNamespace,
) -> None:
    customer = make_customer(cast.rep_east)

    services.customer_classify(
        customer_id=customer.pk,
        version=1,
        dimension="value_tier",
        value="vip",
        reason="集团战略客户",
        by=cast.manager_east,
    )

    customer = fresh(customer)
    assert customer.value_tier == "vip"
    override = customer.overrides["value_tier"]
    assert override["value"] == "vip"
    assert override["reason"] == "集团战略客户"
    assert override["by"] == cast.manager_east.label
    assert override["by_id"] == cast.manager_east.pk
    assert override["at"]
    # A later edit re-derives the other dimensions but keeps the override.
    services.customer_update(
        customer_id=customer.pk, version=customer.version, data={"notes": "x"}, by=cast.rep_east
    )
    assert fresh(customer).value_tier == "vip"
    row = next(
        r for r in selectors.customer_classification(customer=fresh(customer)) if r.dimension == "value_tier"
    )
    assert row.overridden and "集团战略客户" in row.reason and row.derived_value == "small"


def test_clearing_an_override_returns_to_the_derived_value(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    services.customer_classify(
        customer_id=customer.pk,
        version=1,
        dimension="status",
        value="lost",
        reason="客户已倒闭",
        by=cast.manager_east,
    )

    services.customer_classify(
        customer_id=customer.pk, version=2, dimension="status", value=None, reason="", by=cast.manager_east
    )

    customer = fresh(customer)
    assert customer.status == "potential"
    assert "status" not in customer.overrides


@pytest.mark.parametrize(
    ("dimension", "value", "field"),
    [("favourite", "vip", "dimension"), ("value_tier", "platinum", "value"), ("loyalty", "vip", "value")],
)
def test_a_bad_classification_names_the_field(
    cast: SimpleNamespace, nothing_changes: Any, dimension: str, value: str, field: str
) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        services.customer_classify(
            customer_id=customer.pk,
            version=1,
            dimension=dimension,
            value=value,
            reason="理由",
            by=cast.manager_east,
        )
    assert refused.value.field == field


def test_a_rep_may_not_override_a_classification(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.customer_classify(
            customer_id=customer.pk,
            version=1,
            dimension="value_tier",
            value="vip",
            reason="我觉得是",
            by=cast.rep_east,
        )


# --- transfer (CUS-7) -------------------------------------------------------------------------------


def test_a_transfer_needs_a_reason(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        services.customer_transfer(
            customer_id=customer.pk, to_user=cast.rep_east2, reason=" ", by=cast.rep_east
        )
    assert refused.value.field == "reason"


def test_a_transfer_changes_the_owner_and_is_audited_with_old_and_new_owner(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)

    services.customer_transfer(
        customer_id=customer.pk, to_user=cast.rep_east2, reason="岗位调整", by=cast.manager_east
    )

    assert fresh(customer).owner == cast.rep_east2
    event = AuditEvent.objects.get(customer_id=customer.pk, verb="transfer")
    assert event.actor == cast.manager_east
    assert event.changes["owner"] == [cast.rep_east.label, cast.rep_east2.label]
    assert event.changes["reason"] == [None, "岗位调整"]


def test_a_customer_cannot_be_transferred_to_its_owner_or_by_someone_who_cannot_see_it(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes():
        with pytest.raises(ValidationError) as refused:
            services.customer_transfer(
                customer_id=customer.pk, to_user=cast.rep_east, reason="x", by=cast.rep_east
            )
        assert refused.value.field == "to_user"
        with pytest.raises(NotFound):
            services.customer_transfer(
                customer_id=customer.pk, to_user=cast.rep_west, reason="抢客户", by=cast.rep_west
            )


# --- recycle bin (SEC-6) -------------------------------------------------------------------------------


def test_a_deleted_customer_goes_to_the_recycle_bin_and_can_be_restored(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)

    services.customer_delete(customer_id=customer.pk, by=cast.manager_east)

    assert fresh(customer).deleted_at is not None
    assert fresh(customer).deleted_by == cast.manager_east
    assert not Customer.objects.visible_to(cast.rep_east).filter(pk=customer.pk).exists()
    assert [c.pk for c in selectors.recycle_bin(actor=cast.manager_east).items] == [customer.pk]
    with pytest.raises(PermissionDenied):  # a rep may not restore, so has no recycle bin
        selectors.recycle_bin(actor=cast.rep_east)

    services.customer_restore(customer_id=customer.pk, by=cast.manager_east)

    assert fresh(customer).deleted_at is None
    assert Customer.objects.visible_to(cast.rep_east).filter(pk=customer.pk).exists()


def test_a_rep_cannot_delete_and_a_manager_cannot_purge(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.customer_delete(customer_id=customer.pk, by=cast.rep_east)

    services.customer_delete(customer_id=customer.pk, by=cast.manager_east)
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.customer_purge(customer_id=customer.pk, by=cast.manager_east)


def test_only_a_recycled_customer_can_be_purged(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(NotFound):
        services.customer_purge(customer_id=customer.pk, by=cast.admin)


def test_purging_removes_the_customer_but_keeps_its_history(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    make_contact(customer, cast.rep_east, name="张三")
    services.customer_delete(customer_id=customer.pk, by=cast.manager_east)
    services.customer_restore(customer_id=customer.pk, by=cast.manager_east)
    services.customer_delete(customer_id=customer.pk, by=cast.admin)

    services.customer_purge(customer_id=customer.pk, by=cast.admin)

    assert not Customer._base_manager.filter(pk=customer.pk).exists()
    assert not Contact._base_manager.filter(customer_id=customer.pk).exists()
    verbs = list(
        AuditEvent.objects.filter(customer_id=customer.pk).order_by("id").values_list("verb", flat=True)
    )
    assert verbs == ["create", "create", "delete", "restore", "delete", "purge"]


# --- merge (CUS-5) -----------------------------------------------------------------------------------


@pytest.fixture
def pair(cast: SimpleNamespace) -> SimpleNamespace:
    keep = make_customer(cast.rep_east, name="东方明珠国际贸易有限公司", tags=["重点"])
    keep_contact = make_contact(keep, cast.rep_east, name="王保留")
    drop = make_customer(
        cast.rep_east2,
        name="明珠东方实业有限公司",
        email="info@mingzhu.cn",
        website="mingzhu.cn",
        tags=["老客户"],
    )
    drop_contacts = [make_contact(drop, cast.rep_east2, name=n) for n in ("李并入", "赵并入")]
    services.collaborator_set(customer_id=drop.pk, user=cast.rep_west, can_edit=True, by=cast.rep_east2)
    services.customer_update(
        customer_id=drop.pk, version=fresh(drop).version, data={"needs": "采购设备"}, by=cast.rep_east2
    )
    return SimpleNamespace(keep=keep, drop=drop, keep_contact=keep_contact, drop_contacts=drop_contacts)


def test_a_merge_moves_contacts_tags_and_collaborators_and_fills_blank_fields(
    cast: SimpleNamespace, pair: SimpleNamespace
) -> None:
    kept = services.customer_merge(keep_id=pair.keep.pk, drop_id=pair.drop.pk, by=cast.manager_east)

    kept = fresh(kept)
    assert kept.pk == pair.keep.pk
    assert kept.name == "东方明珠国际贸易有限公司"  # filled only where blank
    assert kept.email == "info@mingzhu.cn"
    assert kept.website == "mingzhu.cn"
    assert kept.needs == "采购设备"
    assert sorted(c.name for c in Contact.objects.filter(customer=kept)) == ["李并入", "王保留", "赵并入"]
    assert list(Contact.objects.filter(customer=kept, is_primary=True).values_list("name", flat=True)) == [
        "王保留"
    ]
    assert sorted(kept.tags.values_list("name", flat=True)) == ["老客户", "重点"]
    collaborators = dict(
        CustomerCollaborator.objects.filter(customer=kept).values_list("user__username", "can_edit")
    )
    assert collaborators == {"rep_west": True, "rep_east2": False}  # drop's owner keeps read access
    dropped = fresh(pair.drop)
    assert dropped.merged_into_id == kept.pk
    assert not Customer.objects.visible_to(cast.admin).filter(pk=dropped.pk).exists()


def test_the_kept_customers_timeline_includes_the_dropped_customers_history(
    cast: SimpleNamespace, pair: SimpleNamespace
) -> None:
    services.customer_merge(keep_id=pair.keep.pk, drop_id=pair.drop.pk, by=cast.manager_east)

    timeline = selectors.customer_timeline(actor=cast.manager_east, customer=fresh(pair.keep))

    events = [e.item for e in timeline if e.kind == "audit"]
    customers_in_timeline = {e.customer_id for e in events}
    assert customers_in_timeline == {pair.keep.pk, pair.drop.pk}
    drop_verbs = {e.verb for e in events if e.customer_id == pair.drop.pk}
    assert {"create", "update", "collaborator_add", "merged_into"} <= drop_verbs
    merge = next(e for e in events if e.verb == "merge")
    assert pair.drop.code in merge.changes["merged_from"][1]
    assert merge.changes["contacts_moved"] == [None, 2]


def test_a_rep_cannot_merge_and_a_customer_cannot_merge_with_itself(
    cast: SimpleNamespace, pair: SimpleNamespace, nothing_changes: Any
) -> None:
    with nothing_changes():
        with pytest.raises(PermissionDenied):
            services.customer_merge(keep_id=pair.keep.pk, drop_id=pair.drop.pk, by=cast.rep_east)
        with pytest.raises(ValidationError) as refused:
            services.customer_merge(keep_id=pair.keep.pk, drop_id=pair.keep.pk, by=cast.manager_east)
        assert refused.value.field == "drop_id"


def test_a_manager_cannot_merge_a_customer_outside_their_scope(
    cast: SimpleNamespace, pair: SimpleNamespace, nothing_changes: Any
) -> None:
    west = make_customer(cast.rep_west)
    with nothing_changes(), pytest.raises(NotFound):
        services.customer_merge(keep_id=pair.keep.pk, drop_id=west.pk, by=cast.manager_east)


# --- reveal (SEC-2) ------------------------------------------------------------------------------------


def test_revealing_the_full_mobile_needs_the_permission_and_is_audited(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east, mobile="13812345678")
    contact = make_contact(customer, cast.rep_east, name="张三", mobile="13698761234")

    with nothing_changes(), pytest.raises(PermissionDenied):
        services.customer_reveal(customer_id=customer.pk, by=cast.marketing)

    revealed = services.customer_reveal(customer_id=customer.pk, by=cast.rep_east)

    assert revealed["mobile"] == "13812345678"
    assert revealed["contacts"] == {contact.pk: "13698761234"}
    event = AuditEvent.objects.get(verb="reveal")
    assert (event.actor, event.customer_id) == (cast.rep_east, customer.pk)
    # Reveals are for auditors, not the sales timeline.
    assert "reveal" not in {
        e.item.verb for e in selectors.customer_timeline(actor=cast.rep_east, customer=customer)
    }


def test_a_rep_cannot_reveal_a_customer_outside_their_scope(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    with nothing_changes(), pytest.raises(NotFound):
        services.customer_reveal(customer_id=customer.pk, by=cast.rep_west)


# --- contacts (CUS-3) -----------------------------------------------------------------------------------


def primary_names(customer: Customer) -> list[str]:
    return list(
        Contact.objects.filter(customer=customer, is_primary=True, deleted_at__isnull=True).values_list(
            "name", flat=True
        )
    )


def test_the_first_contact_is_primary_and_a_new_primary_replaces_the_old_one(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)

    make_contact(customer, cast.rep_east, name="第一位")
    assert primary_names(customer) == ["第一位"]

    second = make_contact(customer, cast.rep_east, name="第二位")
    assert primary_names(customer) == ["第一位"]

    make_contact(customer, cast.rep_east, name="第三位", is_primary=True)
    assert primary_names(customer) == ["第三位"]

    services.contact_update(
        contact_id=second.pk, version=second.version, data={"is_primary": True}, by=cast.rep_east
    )
    assert primary_names(customer) == ["第二位"]


def test_deleting_the_primary_contact_lets_the_next_new_contact_become_primary(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    first = make_contact(customer, cast.rep_east, name="第一位")
    services.contact_delete(contact_id=first.pk, by=cast.rep_east)

    make_contact(customer, cast.rep_east, name="接任者")

    assert primary_names(customer) == ["接任者"]


def test_a_contact_reports_to_someone_at_the_same_customer_only(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    boss = make_contact(customer, cast.rep_east, name="总经理")
    elsewhere = make_contact(make_customer(cast.rep_east), cast.rep_east, name="别家经理")

    clerk = make_contact(customer, cast.rep_east, name="采购员", reports_to=boss.pk)
    assert clerk.reports_to == boss

    with nothing_changes(), pytest.raises(ValidationError) as refused:
        make_contact(customer, cast.rep_east, name="跨公司", reports_to=elsewhere.pk)
    assert refused.value.field == "reports_to"

    with nothing_changes(), pytest.raises(ValidationError) as refused:
        services.contact_update(
            contact_id=clerk.pk, version=clerk.version, data={"reports_to": elsewhere.pk}, by=cast.rep_east
        )
    assert refused.value.field == "reports_to"


def test_reporting_lines_cannot_form_a_cycle(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    a = make_contact(customer, cast.rep_east, name="甲")
    b = make_contact(customer, cast.rep_east, name="乙", reports_to=a.pk)
    c = make_contact(customer, cast.rep_east, name="丙", reports_to=b.pk)

    for who, target in ((a, c), (a, b), (a, a)):
        who = Contact.objects.get(pk=who.pk)
        with nothing_changes(), pytest.raises(ValidationError) as refused:
            services.contact_update(
                contact_id=who.pk, version=who.version, data={"reports_to": target.pk}, by=cast.rep_east
            )
        assert refused.value.field == "reports_to"


def test_contact_input_is_validated_naming_the_field(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    for data, field in (
        ({"name": ""}, "name"),
        ({"name": "甲", "mobile": "123"}, "mobile"),
        ({"name": "甲", "email": "@"}, "email"),
        ({"name": "甲", "shoe_size": 42}, "shoe_size"),
    ):
        with nothing_changes(), pytest.raises(ValidationError) as refused:
            services.contact_create(customer_id=customer.pk, data=data, by=cast.rep_east)
        assert refused.value.field == field


def test_contacts_of_a_customer_outside_ones_scope_cannot_be_touched(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    contact = make_contact(customer, cast.rep_east, name="张三")
    with nothing_changes():
        with pytest.raises(NotFound):
            services.contact_create(customer_id=customer.pk, data={"name": "偷偷加"}, by=cast.rep_west)
        with pytest.raises(NotFound):
            services.contact_update(contact_id=contact.pk, version=1, data={"name": "改名"}, by=cast.rep_west)
        with pytest.raises(NotFound):
            services.contact_delete(contact_id=contact.pk, by=cast.rep_west)


def test_a_stale_contact_update_is_refused(cast: SimpleNamespace, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    contact = make_contact(customer, cast.rep_east, name="张三")
    services.contact_update(contact_id=contact.pk, version=1, data={"position": "经理"}, by=cast.rep_east)
    with nothing_changes(), pytest.raises(Conflict):
        services.contact_update(contact_id=contact.pk, version=1, data={"position": "总监"}, by=cast.rep_east)


# --- the phone key follows every write of phone (SVC-3) ----------------------------------------


def keys(model: Any, **filters: Any) -> list[tuple[str, str]]:
    return list(model._base_manager.filter(**filters).order_by("pk").values_list("phone", "phone_key"))


def test_create_and_update_keep_the_customers_phone_key(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east, phone="(021) 5555 1234")
    assert keys(Customer, pk=customer.pk) == [("021-55551234", "02155551234")]

    services.customer_update(
        customer_id=customer.pk, version=None, data={"phone": "+86 571 8888 6666 转 123"}, by=cast.rep_east
    )
    assert keys(Customer, pk=customer.pk) == [("+8657188886666-123", "057188886666")]

    services.customer_update(customer_id=customer.pk, version=None, data={"phone": ""}, by=cast.rep_east)
    assert keys(Customer, pk=customer.pk) == [("", "")]


def test_an_update_of_other_fields_leaves_the_phone_key(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east, phone="010-12345678")
    services.customer_update(customer_id=customer.pk, version=None, data={"city": "北京"}, by=cast.rep_east)
    assert keys(Customer, pk=customer.pk) == [("010-12345678", "01012345678")]


def test_contact_create_and_update_keep_the_contacts_phone_key(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    contact = make_contact(customer, cast.rep_east, phone="0755-2345 6789 ext 8")
    assert keys(Contact, pk=contact.pk) == [("0755-23456789-8", "075523456789")]

    services.contact_update(
        contact_id=contact.pk, version=None, data={"phone": "400-820-1234"}, by=cast.rep_east
    )
    assert keys(Contact, pk=contact.pk) == [("400-820-1234", "4008201234")]

    services.contact_update(contact_id=contact.pk, version=None, data={"position": "经理"}, by=cast.rep_east)
    assert keys(Contact, pk=contact.pk) == [("400-820-1234", "4008201234")]
    # The customer's own key is its own phone's, not a contact's.
    assert keys(Customer, pk=customer.pk) == [("", "")]


def test_a_merge_gives_the_kept_customer_the_key_of_the_phone_it_takes_over(cast: SimpleNamespace) -> None:
    keep = make_customer(cast.rep_east, name="保留电话公司")
    drop = make_customer(cast.rep_east, name="并入电话公司", phone="+86 10 8888 6666")
    contact = make_contact(drop, cast.rep_east, phone="010-88886666-2")

    services.customer_merge(keep_id=keep.pk, drop_id=drop.pk, by=cast.manager_east)

    assert keys(Customer, pk=keep.pk) == [("+861088886666", "01088886666")]
    assert keys(Contact, pk=contact.pk) == [("010-88886666-2", "01088886666")]
    assert Contact.objects.get(pk=contact.pk).customer_id == keep.pk


def test_a_merge_keeps_the_kept_customers_own_phone_and_key(cast: SimpleNamespace) -> None:
    keep = make_customer(cast.rep_east, name="有电话保留公司", phone="021-55551234")
    drop = make_customer(cast.rep_east, name="有电话并入公司", phone="021-66661234")

    services.customer_merge(keep_id=keep.pk, drop_id=drop.pk, by=cast.manager_east)

    assert keys(Customer, pk=keep.pk) == [("021-55551234", "02155551234")]


def test_importing_customers_and_contacts_writes_their_phone_keys(cast: SimpleNamespace) -> None:
    from kehu.imports import services as imports
    from kehu.imports.tests.files import xlsx

    data = xlsx(["客户名称", "电话"], [["导入电话公司", "0571 8888 6666 转 123"], ["导入无电话公司", ""]])
    batch = imports.import_run_file(
        kind="customers", name="c.xlsx", data=data, by=cast.manager_east, dry_run=False
    )
    assert batch.created == 2
    assert keys(Customer, name="导入电话公司") == [("057188886666-123", "057188886666")]
    assert keys(Customer, name="导入无电话公司") == [("", "")]

    contacts = xlsx(["客户", "姓名", "电话"], [["导入电话公司", "导入联系人", "+86 21 5555 1234"]])
    batch = imports.import_run_file(
        kind="contacts", name="k.xlsx", data=contacts, by=cast.manager_east, dry_run=False
    )
    assert batch.created == 1
    assert keys(Contact, name="导入联系人") == [("+862155551234", "02155551234")]
    found = selectors.phone_matches(number="02155551234", actor=cast.manager_east)
    assert [(m.customer.name, m.contact.name) for m in found.matches] == [("导入电话公司", "导入联系人")]


def test_an_import_updating_a_phone_updates_its_key(cast: SimpleNamespace) -> None:
    from kehu.imports import services as imports
    from kehu.imports.tests.files import xlsx

    customer = make_customer(cast.manager_east, name="改电话公司", phone="021-55551234")
    contact = make_contact(
        customer, cast.manager_east, name="改电话联系人", mobile="13700005555", phone="021-55551234"
    )

    data = xlsx(["客户名称", "电话"], [["改电话公司", "010-12345678"]])
    batch = imports.import_run_file(kind="customers", name="u.xlsx", data=data, by=cast.manager_east,
                                    dry_run=False, on_duplicate="update")  # fmt: skip
    assert batch.updated == 1
    assert keys(Customer, pk=customer.pk) == [("010-12345678", "01012345678")]

    contacts = xlsx(
        ["客户", "姓名", "手机号", "电话"], [["改电话公司", "改电话联系人", "13700005555", "0755-2345678"]]
    )
    batch = imports.import_run_file(kind="contacts", name="v.xlsx", data=contacts, by=cast.manager_east,
                                    dry_run=False, on_duplicate="update")  # fmt: skip
    assert batch.updated == 1
    assert keys(Contact, pk=contact.pk) == [("0755-2345678", "07552345678")]


def test_the_backfill_migration_fills_every_key_range_by_range(
    cast: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from django.apps import apps
    from django.db import connection

    backfill = importlib.import_module("kehu.customers.migrations.0014_backfill_phone_keys")
    customers = [make_customer(cast.rep_east, phone=f"021-5555{n:04d}") for n in range(7)]
    customers.append(make_customer(cast.rep_east))
    contact = make_contact(customers[0], cast.rep_east, phone="0571 8888 6666 转 9")
    Customer.objects.update(phone_key="")  # as the rows were before the column existed
    Contact.objects.update(phone_key="")
    monkeypatch.setattr(backfill, "ID_RANGE", 3)

    backfill.backfill(apps, SimpleNamespace(connection=connection))

    assert keys(Customer, pk__in=[c.pk for c in customers]) == [
        *[(f"021-5555{n:04d}", f"0215555{n:04d}") for n in range(7)],
        ("", ""),
    ]
    assert keys(Contact, pk=contact.pk) == [("057188886666-9", "057188886666")]
