"""Who sees which customers (SEC-1), collaboration, search (CUS-6), scenes, filters, sort and paging."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from kehu.access.perms import DataScope, Perm
from kehu.access.services import role_create, user_create, user_update
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.customers import selectors, services
from kehu.customers.models import Contact, Customer

from .factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


def visible_names(user: Any) -> set[str]:
    return set(Customer.objects.visible_to(user).values_list("name", flat=True))


def listed_names(user: Any, **kwargs: Any) -> set[str]:
    kwargs.setdefault("limit", 200)
    return {c.name for c in selectors.customer_list(actor=user, **kwargs).items}


def listed_count(user: Any, **kwargs: Any) -> int:
    return selectors.customer_list(actor=user, **kwargs).count


@pytest.fixture
def book(cast: SimpleNamespace) -> SimpleNamespace:
    """One customer per owner of interest, plus one in the public pool."""
    return SimpleNamespace(
        of_rep_east=make_customer(cast.rep_east, name="东一客户"),
        of_rep_east2=make_customer(cast.rep_east2, name="东二客户"),
        of_rep_west=make_customer(cast.rep_west, name="南一客户"),
        of_manager_east=make_customer(cast.manager_east, name="东经理客户"),
        of_rm=make_customer(cast.rm, name="理财经理客户"),
        of_rm_junior=make_customer(cast.rm_junior, name="理财助理客户"),
        in_pool=make_customer(cast.admin, name="公海客户", owner=None),
    )


EVERYONE = {"东一客户", "东二客户", "南一客户", "东经理客户", "理财经理客户", "理财助理客户", "公海客户"}


def _assign_role(user: Any, role_code: str, *, by: Any) -> Any:
    user.refresh_from_db()
    return user_update(user=user, version=user.version, role_codes=[role_code], by=by)


# --- the five data scopes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # 本人: own customers and the public pool.
        ("rep_east", {"东一客户", "公海客户"}),
        ("rep_east2", {"东二客户", "公海客户"}),
        ("rep_west", {"南一客户", "公海客户"}),
        ("rm_junior", {"理财助理客户", "公海客户"}),
        # 本人及下属: the relationship manager sees their junior's customers too.
        ("rm", {"理财经理客户", "理财助理客户", "公海客户"}),
        # 本部门及下属: the east manager sees the whole east department.
        ("manager_east", {"东一客户", "东二客户", "东经理客户", "公海客户"}),
        # 全部.
        ("admin", EVERYONE),
        ("agent", EVERYONE),
        ("auditor", EVERYONE),
        ("marketing", EVERYONE),
    ],
)
def test_each_member_of_the_cast_sees_exactly_the_customers_of_their_data_scope(
    cast: SimpleNamespace, book: SimpleNamespace, who: str, expected: set[str]
) -> None:
    user = getattr(cast, who)
    assert visible_names(user) == expected
    # The list's 全部 scene shows owned customers; the 公海 has its own scene.
    owned = expected - {"公海客户"}
    assert listed_names(user) == owned
    assert listed_count(user, scene="all") == len(owned)
    assert listed_names(user, scene="pool") == {"公海客户"}


def test_a_department_scope_role_sees_its_own_department_but_not_the_departments_below(
    cast: SimpleNamespace, book: SimpleNamespace
) -> None:
    role_create(
        code="dept_viewer",
        name="部门查看",
        permissions=[Perm.CUSTOMER_VIEW],
        data_scope=DataScope.DEPARTMENT,
        by=cast.admin,
    )
    clerk = user_create(
        username="sales_clerk",
        password=cast.password,
        display_name="销售内勤",
        department=cast.sales,
        role_codes=["dept_viewer"],
        by=None,
    )

    # rm and rm_junior sit in 销售部 itself; east and west are sub-departments; no pool permission.
    assert visible_names(clerk) == {"理财经理客户", "理财助理客户"}
    assert listed_count(clerk) == 2


def test_a_department_and_sub_departments_role_sees_the_whole_subtree(
    cast: SimpleNamespace, book: SimpleNamespace
) -> None:
    role_create(
        code="sales_director",
        name="销售总监",
        permissions=[Perm.CUSTOMER_VIEW, Perm.POOL_VIEW],
        data_scope=DataScope.DEPARTMENT_AND_SUB,
        by=cast.admin,
    )
    director = user_create(
        username="director",
        password=cast.password,
        display_name="销售总监",
        department=cast.sales,
        role_codes=["sales_director"],
        by=None,
    )

    assert visible_names(director) == EVERYONE


def test_someone_without_the_view_permission_sees_nothing(
    cast: SimpleNamespace, book: SimpleNamespace
) -> None:
    role_create(code="nobody", name="无权限", permissions=[], data_scope=DataScope.ALL, by=cast.admin)
    _assign_role(cast.rep_east, "nobody", by=cast.admin)

    assert visible_names(cast.rep_east) == set()
    assert listed_count(cast.rep_east) == 0


def test_deleted_and_merged_customers_are_visible_to_no_one(
    cast: SimpleNamespace, book: SimpleNamespace
) -> None:
    services.customer_delete(customer_id=book.of_rep_east.pk, by=cast.manager_east)
    services.customer_merge(
        keep_id=book.of_manager_east.pk, drop_id=book.of_rep_east2.pk, by=cast.manager_east
    )

    assert "东一客户" not in visible_names(cast.admin)
    assert "东二客户" not in visible_names(cast.admin)
    assert visible_names(cast.manager_east) == {"东经理客户", "公海客户"}


# --- collaborators ---------------------------------------------------------------------------


def test_a_read_only_collaborator_sees_the_customer_but_cannot_change_it(
    cast: SimpleNamespace, book: SimpleNamespace
) -> None:
    customer = book.of_rep_east
    services.collaborator_set(customer_id=customer.pk, user=cast.rep_west, can_edit=False, by=cast.rep_east)

    assert "东一客户" in visible_names(cast.rep_west)
    assert selectors.customer_get(actor=cast.rep_west, customer_id=customer.pk) == customer
    assert not selectors.customer_can_edit(actor=cast.rep_west, customer=customer)

    with pytest.raises(PermissionDenied) as refused:
        services.customer_update(
            customer_id=customer.pk, version=customer.version, data={"notes": "我改的"}, by=cast.rep_west
        )

    assert refused.value.code == "read_only"
    customer.refresh_from_db()
    assert customer.notes == ""
    assert customer.version == 1


def test_a_read_write_collaborator_may_edit_the_customer(
    cast: SimpleNamespace, book: SimpleNamespace
) -> None:
    customer = book.of_rep_east
    services.collaborator_set(customer_id=customer.pk, user=cast.rep_west, can_edit=True, by=cast.rep_east)

    assert selectors.customer_can_edit(actor=cast.rep_west, customer=customer)
    services.customer_update(
        customer_id=customer.pk, version=customer.version, data={"notes": "华南协助跟进"}, by=cast.rep_west
    )

    customer.refresh_from_db()
    assert customer.notes == "华南协助跟进"
    assert customer.owner == cast.rep_east


def test_removing_a_collaborator_takes_the_customer_out_of_their_sight(
    cast: SimpleNamespace, book: SimpleNamespace
) -> None:
    customer = book.of_rep_east
    services.collaborator_set(customer_id=customer.pk, user=cast.rep_west, can_edit=False, by=cast.rep_east)
    services.collaborator_remove(customer_id=customer.pk, user=cast.rep_west, by=cast.rep_east)

    assert "东一客户" not in visible_names(cast.rep_west)


# --- search (CUS-6) --------------------------------------------------------------------------


@pytest.fixture
def searchable(cast: SimpleNamespace) -> SimpleNamespace:
    huawei = make_customer(cast.rep_east, name="华为技术有限公司", mobile="13812345678")
    zte = make_customer(cast.rep_east, name="中兴通讯股份有限公司", phone="0755-26770000")
    make_contact(zte, cast.rep_east, name="欧阳震", mobile="13698761234")
    shan = make_customer(cast.rep_east, kind="individual", name="单雄信")
    zeng = make_customer(cast.rep_east, kind="individual", name="曾国藩")
    return SimpleNamespace(huawei=huawei, zte=zte, shan=shan, zeng=zeng)


def search(user: Any, q: str) -> set[str]:
    return listed_names(user, filters={"q": q})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("华", {"华为技术有限公司"}),  # one Chinese character
        ("技术", {"华为技术有限公司"}),  # two Chinese characters
        ("通讯", {"中兴通讯股份有限公司"}),
        ("huawei", {"华为技术有限公司"}),  # full pinyin
        ("HuaWei", {"华为技术有限公司"}),  # case does not matter
        ("hw", {"华为技术有限公司"}),  # pinyin initials
        ("zxtx", {"中兴通讯股份有限公司"}),
        ("5678", {"华为技术有限公司"}),  # a fragment of the mobile
        ("138 1234", {"华为技术有限公司"}),  # typed with a space
        ("26770000", {"中兴通讯股份有限公司"}),  # a fragment of the landline
        ("欧阳震", {"中兴通讯股份有限公司"}),  # a contact's name finds their company
        ("9876", {"中兴通讯股份有限公司"}),  # a contact's mobile fragment too
        ("shanxiongxin", {"单雄信"}),  # 单 read as a surname (shan, not dan)
        ("sxx", {"单雄信"}),
        ("zengguofan", {"曾国藩"}),  # 曾 read as a surname (zeng, not ceng)
        ("zgf", {"曾国藩"}),
        ("不存在的名字", set()),
    ],
)
def test_search_finds_customers_by_name_pinyin_initials_phone_and_contact(
    cast: SimpleNamespace, searchable: SimpleNamespace, query: str, expected: set[str]
) -> None:
    assert search(cast.rep_east, query) == expected


def test_search_finds_a_customer_by_its_code(cast: SimpleNamespace, searchable: SimpleNamespace) -> None:
    code = searchable.zeng.code
    assert search(cast.rep_east, code) == {"曾国藩"}
    assert search(cast.rep_east, code.lower()) == {"曾国藩"}


def test_search_never_reaches_beyond_what_the_searcher_may_see(
    cast: SimpleNamespace, searchable: SimpleNamespace
) -> None:
    assert listed_count(cast.rep_west, filters={"q": "华为技术有限公司"}) == 0
    assert listed_count(cast.rep_west, filters={"q": "hw"}) == 0
    assert listed_count(cast.rep_west, filters={"q": "5678"}) == 0
    assert listed_count(cast.rep_west, filters={"q": "欧阳震"}) == 0
    assert listed_count(cast.rep_west, filters={"q": searchable.huawei.code}) == 0
    # …while someone with the 全部 scope finds it.
    assert listed_count(cast.agent, filters={"q": "华为技术有限公司"}) == 1


def test_contact_search_is_limited_by_the_customers_one_may_see(
    cast: SimpleNamespace, searchable: SimpleNamespace
) -> None:
    assert [c.name for c in selectors.contact_list(actor=cast.rep_east, q="oyz").items] == ["欧阳震"]
    assert selectors.contact_list(actor=cast.rep_west, q="欧阳震").count == 0


# --- scenes ----------------------------------------------------------------------------------


def test_the_scenes_split_what_a_user_sees(cast: SimpleNamespace, book: SimpleNamespace) -> None:
    services.collaborator_set(
        customer_id=book.of_rep_west.pk, user=cast.rep_east, can_edit=False, by=cast.rep_west
    )

    assert listed_names(cast.rep_east, scene="mine") == {"东一客户"}
    assert listed_names(cast.rep_east, scene="collaborating") == {"南一客户"}
    assert listed_names(cast.rep_east, scene="pool") == {"公海客户"}
    assert listed_names(cast.rep_east, scene="all") == {"东一客户", "南一客户"}
    assert listed_names(cast.rep_east, scene="subordinates") == set()

    assert listed_names(cast.manager_east, scene="subordinates") == {"东一客户", "东二客户"}
    assert listed_names(cast.manager_east, scene="mine") == {"东经理客户"}
    assert listed_names(cast.rm, scene="subordinates") == {"理财助理客户"}
    assert listed_names(cast.admin, scene="pool") == {"公海客户"}


def test_an_unknown_scene_is_refused_naming_the_scene(cast: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as refused:
        selectors.customer_list(actor=cast.rep_east, scene="everything")
    assert refused.value.field == "scene"


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def varied(cast: SimpleNamespace) -> SimpleNamespace:
    """Two customers that differ on every filterable dimension."""
    a = make_customer(
        cast.admin,
        owner=cast.rep_east,
        name="甲方制造",
        size="large",
        relation="partner",
        need_status="target",
        industry="manufacturing",
        source="referral",
        tags=["重点", "华东"],
        province="上海",
        city="上海",
        screened=True,
    )
    b = make_customer(
        cast.admin,
        owner=cast.rep_west,
        kind="individual",
        name="乙方个人",
        size="small",
        relation="consumer",
        need_status="dead",
        industry="services",
        source="trade_show",
        tags=["华南"],
        province="广东",
        city="深圳",
    )
    for dim, value in (
        ("value_tier", "vip"),
        ("loyalty", "loyal"),
        ("status", "current"),
        ("deal_status", "closed"),
    ):
        a.refresh_from_db()
        services.customer_classify(
            customer_id=a.pk, version=a.version, dimension=dim, value=value, reason="测试", by=cast.admin
        )
    return SimpleNamespace(a=a, b=b)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": "company"}, {"甲方制造"}),
        ({"kind": "individual"}, {"乙方个人"}),
        ({"size": "large"}, {"甲方制造"}),
        ({"size": "small"}, {"乙方个人"}),
        ({"relation": "partner"}, {"甲方制造"}),
        ({"relation": "consumer"}, {"乙方个人"}),
        ({"value_tier": "vip"}, {"甲方制造"}),
        ({"value_tier": "small"}, {"乙方个人"}),
        ({"loyalty": "loyal"}, {"甲方制造"}),
        ({"loyalty": "potential"}, {"乙方个人"}),
        ({"status": "current"}, {"甲方制造"}),
        ({"status": "potential"}, {"乙方个人"}),
        ({"deal_status": "closed"}, {"甲方制造"}),
        ({"deal_status": "potential"}, {"乙方个人"}),
        ({"need_status": "target"}, {"甲方制造"}),
        ({"need_status": "dead"}, {"乙方个人"}),
        ({"industry": "manufacturing"}, {"甲方制造"}),
        ({"industry": "services"}, {"乙方个人"}),
        ({"source": "referral"}, {"甲方制造"}),
        ({"source": "trade_show"}, {"乙方个人"}),
        ({"tag": "重点"}, {"甲方制造"}),
        ({"tag": "华南"}, {"乙方个人"}),
        ({"province": "广东"}, {"乙方个人"}),
        ({"city": "上海"}, {"甲方制造"}),
        ({"screened": "true"}, {"甲方制造"}),
        ({"screened": False}, {"乙方个人"}),
        ({"kind": "company", "tag": "华南"}, set()),  # filters combine with AND
        ({"q": "甲方", "size": "large"}, {"甲方制造"}),
    ],
)
def test_every_dimension_can_be_filtered(
    cast: SimpleNamespace, varied: SimpleNamespace, filters: dict[str, Any], expected: set[str]
) -> None:
    assert listed_names(cast.admin, filters=filters) == expected


def test_the_owner_filter_takes_a_user_id(cast: SimpleNamespace, varied: SimpleNamespace) -> None:
    assert listed_names(cast.admin, filters={"owner": cast.rep_west.pk}) == {"乙方个人"}
    assert listed_names(cast.admin, filters={"owner": str(cast.rep_east.pk)}) == {"甲方制造"}
    with pytest.raises(ValidationError) as refused:
        selectors.customer_list(actor=cast.admin, filters={"owner": "rep_east"})
    assert refused.value.field == "owner"


def test_the_creation_date_filters_bound_the_range(cast: SimpleNamespace, varied: SimpleNamespace) -> None:
    today = timezone.localdate()
    Customer.objects.filter(pk=varied.b.pk).update(created_at=timezone.now() - timedelta(days=40))

    assert listed_names(cast.admin, filters={"created_from": today.isoformat()}) == {"甲方制造"}
    assert listed_names(cast.admin, filters={"created_to": (today - timedelta(days=30)).isoformat()}) == {
        "乙方个人"
    }


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"value_tier": "diamond"}, "value_tier"),
        ({"kind": "robot"}, "kind"),
        ({"status": "sleeping"}, "status"),
        ({"favourite_colour": "red"}, "favourite_colour"),
    ],
)
def test_a_bad_filter_is_refused_naming_it(
    cast: SimpleNamespace, filters: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        selectors.customer_list(actor=cast.admin, filters=filters)
    assert refused.value.field == field


def test_empty_filter_values_are_ignored(cast: SimpleNamespace, varied: SimpleNamespace) -> None:
    assert listed_count(cast.admin, filters={"kind": "", "q": None, "tag": ""}) == 2


# --- sort and pagination -----------------------------------------------------------------------


@pytest.fixture
def abc(cast: SimpleNamespace) -> list[Customer]:
    return [make_customer(cast.rep_east, name=n) for n in ("Alpha贸易", "Bravo贸易", "Charlie贸易")]


def test_customers_sort_by_name_code_and_recency(cast: SimpleNamespace, abc: list[Customer]) -> None:
    def names(sort: str) -> list[str]:
        return [c.name for c in selectors.customer_list(actor=cast.rep_east, sort=sort).items]

    assert names("name") == ["Alpha贸易", "Bravo贸易", "Charlie贸易"]
    assert names("-name") == ["Charlie贸易", "Bravo贸易", "Alpha贸易"]
    assert names("code") == ["Alpha贸易", "Bravo贸易", "Charlie贸易"]
    assert names("-code") == ["Charlie贸易", "Bravo贸易", "Alpha贸易"]
    assert names("created_at") == ["Alpha贸易", "Bravo贸易", "Charlie贸易"]

    first = abc[0]
    services.customer_update(
        customer_id=first.pk, version=first.version, data={"notes": "刚更新"}, by=cast.rep_east
    )
    assert names("-updated_at")[0] == "Alpha贸易"


def test_an_unknown_sort_is_refused_naming_sort(cast: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as refused:
        selectors.customer_list(actor=cast.rep_east, sort="password")
    assert refused.value.field == "sort"


def test_pages_are_cut_by_limit_and_offset_and_count_the_whole_set(
    cast: SimpleNamespace, abc: list[Customer]
) -> None:
    page = selectors.customer_list(actor=cast.rep_east, sort="name", limit=2, offset=0)
    assert [c.name for c in page.items] == ["Alpha贸易", "Bravo贸易"]
    assert page.count == 3
    assert page.has_next

    page = selectors.customer_list(actor=cast.rep_east, sort="name", limit="2", offset="2")
    assert [c.name for c in page.items] == ["Charlie贸易"]
    assert page.count == 3
    assert not page.has_next

    page = selectors.customer_list(actor=cast.rep_east, sort="name", limit=2, offset=10)
    assert page.items == []
    assert page.count == 3


@pytest.mark.parametrize(
    ("limit", "offset", "field"),
    [
        ("abc", None, "limit"),
        (0, None, "limit"),
        (100000, None, "limit"),
        (-1, None, "limit"),
        (10, "x", "offset"),
        (10, -5, "offset"),
    ],
)
def test_an_invalid_window_is_refused_naming_limit_or_offset(
    cast: SimpleNamespace, limit: Any, offset: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        selectors.customer_list(actor=cast.rep_east, limit=limit, offset=offset)
    assert refused.value.field == field
    assert field in refused.value.text()


# --- lists in pieces: visible_parts -----------------------------------------------------------


@pytest.fixture
def collaborations(cast: SimpleNamespace, book: SimpleNamespace) -> SimpleNamespace:
    """Collaborations outside, inside and at the edge of each scope (incl. one on a pool customer)."""
    for customer, user in [
        (book.of_rep_west, cast.rep_east),  # outside rep_east's scope
        (book.in_pool, cast.rep_east),  # a pool customer
        (book.of_rep_east2, cast.manager_east),  # already inside the manager's scope
        (book.of_rm, cast.rep_west),
        (book.of_rep_east, cast.agent),  # the agent sees everything anyway
    ]:
        services.collaborator_set(customer_id=customer.pk, user=user, can_edit=False, by=cast.admin)
    return book


@pytest.mark.parametrize("who", ["rep_east", "rep_west", "manager_east", "rm", "rm_junior", "admin", "agent"])
@pytest.mark.parametrize("part", ["all", "owned", "pool"])
def test_the_visible_parts_split_exactly_the_visible_rows_without_overlap(
    cast: SimpleNamespace, collaborations: SimpleNamespace, who: str, part: str
) -> None:
    user = getattr(cast, who)
    pieces = [set(p.values_list("pk", flat=True)) for p in Customer.objects.visible_parts(user, part=part)]
    union = set().union(*pieces)
    assert union == set(Customer.objects.visible_to(user, part=part).values_list("pk", flat=True))
    assert sum(len(p) for p in pieces) == len(union)  # disjoint


def test_no_view_permission_means_no_parts(cast: SimpleNamespace, book: SimpleNamespace) -> None:
    nobody = user_create(username="nobody", display_name="无角色", password=cast.password, by=cast.admin)
    assert Customer.objects.visible_parts(nobody) == []
    assert selectors.customer_list(actor=nobody).count == 0


def test_a_page_over_owned_and_collaborated_customers_keeps_one_order_across_pages(
    cast: SimpleNamespace,
) -> None:
    now = timezone.now()
    for i in range(7):
        mine = make_customer(cast.rep_east, name=f"自有客户{i}号")
        theirs = make_customer(cast.rep_west, name=f"协作客户{i}号")
        services.collaborator_set(customer_id=theirs.pk, user=cast.rep_east, can_edit=False, by=cast.rep_west)
        # Interleave the two pieces in time: mine at even minutes, theirs at odd ones.
        Customer.objects.filter(pk=mine.pk).update(updated_at=now - timedelta(minutes=2 * i))
        Customer.objects.filter(pk=theirs.pk).update(updated_at=now - timedelta(minutes=2 * i + 1))
    everything = selectors.customer_list(actor=cast.rep_east, limit=200)
    expected = [c.name for c in everything.items]
    assert expected[:4] == ["自有客户0号", "协作客户0号", "自有客户1号", "协作客户1号"]
    assert everything.count == 14

    seen = []
    for offset in range(0, 14, 3):
        page = selectors.customer_list(actor=cast.rep_east, limit=3, offset=offset)
        assert page.count == 14
        seen.extend(c.name for c in page.items)
    assert seen == expected

    by_name = selectors.customer_list(actor=cast.rep_east, sort="-name", limit=5, offset=5)
    assert [c.name for c in by_name.items] == sorted(expected, reverse=True)[5:10]
    filtered = selectors.customer_list(actor=cast.rep_east, filters={"q": "协作"}, limit=2, offset=2)
    assert [c.name for c in filtered.items] == ["协作客户2号", "协作客户3号"]
    assert filtered.count == 7


# --- a contact's keys live in the customer's search text -------------------------------------


def test_a_customers_search_follows_its_contacts_as_they_change(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east, name="远景能源有限公司")
    version = customer.version
    contact = make_contact(customer, cast.rep_east, name="司马光", mobile="13711112222")
    assert search(cast.rep_east, "smg") == {"远景能源有限公司"}
    assert search(cast.rep_east, "1111") == {"远景能源有限公司"}

    services.contact_update(
        contact_id=contact.pk, version=contact.version, data={"name": "诸葛亮"}, by=cast.rep_east
    )
    assert search(cast.rep_east, "smg") == set()
    assert search(cast.rep_east, "zhuge") == {"远景能源有限公司"}

    services.contact_delete(contact_id=contact.pk, by=cast.rep_east)
    assert search(cast.rep_east, "zhuge") == set()
    assert search(cast.rep_east, "1111") == set()
    # The search text is derived: the customer's version (what an edit form holds) did not move.
    customer.refresh_from_db()
    assert customer.version == version


def test_a_merged_customers_contacts_find_the_kept_customer(cast: SimpleNamespace) -> None:
    keep = make_customer(cast.rep_east, name="长江实业有限公司")
    drop = make_customer(cast.rep_east, name="长江实业集团公司", confirm_duplicates=True)
    make_contact(drop, cast.rep_east, name="欧阳修")
    services.customer_merge(keep_id=keep.pk, drop_id=drop.pk, by=cast.admin)
    assert search(cast.rep_east, "oyx") == {"长江实业有限公司"}


def test_many_collaborations_are_listed_by_subquery_with_the_same_rows(
    cast: SimpleNamespace, collaborations: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehu.customers import models

    by_ids = listed_names(cast.rep_east)
    monkeypatch.setattr(models, "MAX_LISTED_IDS", 1)
    assert listed_names(cast.rep_east) == by_ids == {"东一客户", "南一客户", "公海客户"}


@pytest.mark.parametrize("who", ["rep_east", "rep_west", "manager_east", "admin"])
def test_the_parts_still_add_up_when_some_pools_are_for_members_only(
    cast: SimpleNamespace, collaborations: SimpleNamespace, who: str
) -> None:
    from kehu.customers import pool
    from kehu.customers.models import Pool

    west_only = pool.pool_create(
        data={"name": "华南专属公海", "member_departments": [cast.west.pk]}, by=cast.admin
    )
    hidden = make_customer(cast.admin, name="华南专属线索", owner=None)
    Customer.objects.filter(pk=hidden.pk).update(pool=west_only)
    user = getattr(cast, who)
    for part in ("all", "pool"):
        pieces = [
            set(p.values_list("pk", flat=True)) for p in Customer.objects.visible_parts(user, part=part)
        ]
        assert set().union(*pieces) == set(
            Customer.objects.visible_to(user, part=part).values_list("pk", flat=True)
        )
    sees_it = "华南专属线索" in visible_names(user)
    assert sees_it == (who in ("rep_west", "admin", "manager_east")), who  # pool.manage sees every pool
    assert Pool.objects.count() == 2


# --- finding a caller by number (SVC-3) ---------------------------------------------------------


@pytest.fixture
def callers(cast: SimpleNamespace) -> SimpleNamespace:
    """rep_east's company with a Shanghai landline and a contact; rep_west's company with a mobile."""
    east = make_customer(cast.rep_east, name="上海来电科技有限公司", phone="021-5555 1234")
    boss = make_contact(east, cast.rep_east, name="陈总", mobile="13700001111", phone="021-5555 1234 转 8")
    west = make_customer(cast.rep_west, name="广州来电贸易有限公司", mobile="13600002222")
    return SimpleNamespace(east=east, boss=boss, west=west)


def shown(result: selectors.PhoneMatches) -> list[tuple[Any, Any, str]]:
    """(customer name, contact name, matched field) of each visible match, in order."""
    return [
        (m.customer.name, m.contact.name if m.contact else None, m.field)
        for m in result.matches
        if m.visible and m.customer is not None
    ]


@pytest.mark.parametrize(
    ("number", "area"),
    [
        ("+86 21 5555 1234", ""),
        ("+862155551234", ""),
        ("008602155551234", ""),
        ("02155551234", ""),
        ("55551234", "021"),
        ("5555-1234", "21"),
    ],
)
def test_a_landline_stored_with_spaces_is_found_from_every_form_of_the_callers_number(
    cast: SimpleNamespace, callers: SimpleNamespace, number: str, area: str
) -> None:
    result = selectors.phone_matches(number=number, actor=cast.agent, local_area_code=area)

    assert result.key == "02155551234" and result.known
    # The customer's own number first, then its contact whose landline (with an extension) is the same.
    assert shown(result) == [
        ("上海来电科技有限公司", None, "phone"),
        ("上海来电科技有限公司", "陈总", "phone"),
    ]
    assert result.matches[0].customer.pk == callers.east.pk
    assert result.matches[1].contact.pk == callers.boss.pk


def test_a_contacts_mobile_brings_up_its_customer(cast: SimpleNamespace, callers: SimpleNamespace) -> None:
    result = selectors.phone_matches(number="+86 137 0000 1111", actor=cast.rep_east)

    assert result.key == "13700001111" and result.known
    assert [(m.customer.pk, m.contact.pk, m.field) for m in result.matches] == [
        (callers.east.pk, callers.boss.pk, "mobile")
    ]


def test_a_customers_own_mobile_is_found(cast: SimpleNamespace, callers: SimpleNamespace) -> None:
    result = selectors.phone_matches(number="0086 136-0000-2222", actor=cast.rep_west)

    assert shown(result) == [("广州来电贸易有限公司", None, "mobile")]


def test_a_rep_learns_only_that_another_reps_customers_number_is_known(
    cast: SimpleNamespace, callers: SimpleNamespace
) -> None:
    result = selectors.phone_matches(number="+86 21 5555 1234", actor=cast.rep_west)

    assert result.known and result.key == "02155551234"
    # Two records hold the number; the rep is told one thing: it is on file — no name, no id, no count.
    assert result.matches == (selectors.PhoneMatch(visible=False),)
    assert result.visible == ()
    assert selectors.phone_matches(number="13600002222", actor=cast.rep_east).matches == (
        selectors.PhoneMatch(visible=False),
    )


def test_visible_matches_come_first_and_the_hidden_ones_as_one_flag(
    cast: SimpleNamespace, callers: SimpleNamespace
) -> None:
    make_customer(cast.rep_west, name="西部同号公司", phone="(021) 55551234")
    mine = make_customer(cast.rep_east, name="华东同号公司", mobile="13500003333")
    make_contact(callers.west, cast.rep_west, name="西部联系人", mobile="13500003333")

    landline = selectors.phone_matches(number="02155551234", actor=cast.rep_east)
    mobile = selectors.phone_matches(number="13500003333", actor=cast.rep_east)

    assert [m.visible for m in landline.matches] == [True, True, False]
    assert [(m.visible, m.customer, m.contact) for m in mobile.matches] == [
        (True, mine, None),
        (False, None, None),
    ]
    # The agent (data scope: all) sees every one of them.
    everyone = selectors.phone_matches(number="02155551234", actor=cast.agent)
    assert shown(everyone) == [
        ("上海来电科技有限公司", None, "phone"),
        ("西部同号公司", None, "phone"),
        ("上海来电科技有限公司", "陈总", "phone"),
    ]


def test_a_collaborator_sees_the_customer_it_works_on(
    cast: SimpleNamespace, callers: SimpleNamespace
) -> None:
    services.collaborator_set(
        customer_id=callers.east.pk, user=cast.rep_west, can_edit=False, by=cast.rep_east
    )

    result = selectors.phone_matches(number="13700001111", actor=cast.rep_west)

    assert shown(result) == [("上海来电科技有限公司", "陈总", "mobile")]


def test_the_primary_contact_comes_before_the_others(cast: SimpleNamespace, callers: SimpleNamespace) -> None:
    other = make_customer(cast.rep_east, name="上海第二公司")
    staff = make_contact(other, cast.rep_east, name="前台", phone="0571-8888 6666")
    make_contact(other, cast.rep_east, name="后来的主要联系人", phone="057188886666", is_primary=True)
    assert Contact.objects.get(pk=staff.pk).is_primary is False

    result = selectors.phone_matches(number="+86-571-88886666", actor=cast.rep_east)

    assert [m.contact.name for m in result.matches] == ["后来的主要联系人", "前台"]


def test_deleted_customers_and_contacts_are_not_found(
    cast: SimpleNamespace, callers: SimpleNamespace
) -> None:
    services.contact_delete(contact_id=callers.boss.pk, by=cast.rep_east)
    assert not selectors.phone_matches(number="13700001111", actor=cast.admin).known

    services.customer_delete(customer_id=callers.east.pk, by=cast.manager_east)
    result = selectors.phone_matches(number="+86 21 5555 1234", actor=cast.admin)
    assert (result.key, result.known, result.matches) == ("02155551234", False, ())


def test_a_merged_customer_is_not_found_and_its_contacts_come_with_the_kept_one(
    cast: SimpleNamespace, callers: SimpleNamespace
) -> None:
    keep = make_customer(cast.rep_east, name="合并后保留公司")
    services.customer_merge(keep_id=keep.pk, drop_id=callers.east.pk, by=cast.manager_east)

    result = selectors.phone_matches(number="02155551234", actor=cast.manager_east)

    # The dropped customer's landline was filled into the blank one of the kept customer.
    assert shown(result) == [
        ("合并后保留公司", None, "phone"),
        ("合并后保留公司", "陈总", "phone"),
    ]


def test_a_number_stored_without_its_area_code_is_found_from_a_local_call(cast: SimpleNamespace) -> None:
    make_customer(cast.rep_east, name="没写区号公司", phone="5555 4321")

    assert shown(selectors.phone_matches(number="55554321", actor=cast.rep_east, local_area_code="021")) == [
        ("没写区号公司", None, "phone")
    ]
    assert not selectors.phone_matches(number="+86 21 5555 4321", actor=cast.rep_east).known


def test_unusable_numbers_find_nothing(cast: SimpleNamespace, callers: SimpleNamespace) -> None:
    for number in ("", "无号码", "123", "+86 123"):
        result = selectors.phone_matches(number=number, actor=cast.admin)
        assert (result.key, result.known, result.matches) == ("", False, ())


def test_a_malformed_local_area_code_names_the_field(cast: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as refused:
        selectors.phone_matches(number="55551234", actor=cast.agent, local_area_code="abc")
    assert refused.value.field == "local_area_code"


def test_at_most_limit_matches_are_listed(cast: SimpleNamespace) -> None:
    for n in range(4):
        make_customer(cast.rep_east, name=f"总机号公司{n}", phone="400-820-1234", confirm_duplicates=True)

    result = selectors.phone_matches(number="4008201234", actor=cast.rep_east, limit=3)

    assert [m.customer.name for m in result.matches] == ["总机号公司0", "总机号公司1", "总机号公司2"]


def test_every_lookup_is_an_equality_on_an_indexed_column(
    cast: SimpleNamespace, callers: SimpleNamespace
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        selectors.phone_matches(number="55551234", actor=cast.rep_west, local_area_code="021")
    sql = [q["sql"] for q in captured.captured_queries]
    lookups = [s for s in sql if '"phone_key"' in s]
    assert len(lookups) == 2  # customers, contacts
    for s in lookups:
        assert "LIKE" not in s.upper() and "ORDER BY" in s and "LIMIT 20" in s
        assert '"mobile" = ' in s and '"phone_key" IN (' in s
    assert not any("LIKE" in s.upper() for s in sql)


def test_what_each_cast_member_sees_of_a_number_is_what_visible_to_gives_them(cast: SimpleNamespace) -> None:
    from kehu.access.models import User

    number = "0512-6688 1234"
    held = [
        make_customer(cast.rep_east, name="苏州东部同号公司", phone=number),
        make_customer(cast.rep_west, name="苏州西部同号公司", phone=number),
        make_customer(cast.manager_east, name="苏州经理同号公司", phone=number),
        make_customer(cast.admin, name="苏州公海同号公司", phone=number, owner=None),
    ]
    helped = make_customer(cast.rep_west, name="苏州协作同号公司")
    make_contact(helped, cast.rep_west, name="协作联系人", phone=number)
    services.collaborator_set(customer_id=helped.pk, user=cast.rep_east2, can_edit=False, by=cast.rep_west)
    ids = [c.pk for c in [*held, helped]]
    assert Customer.objects.get(pk=held[-1].pk).owner_id is None

    for user in User.objects.all():
        result = selectors.phone_matches(number="+86 512 66881234", actor=user)
        expected = set(Customer.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
        assert result.known, user.username
        assert {m.customer.pk for m in result.visible if m.customer} == expected, user.username
        assert any(not m.visible for m in result.matches) == (expected != set(ids)), user.username


@pytest.mark.parametrize("who", ["rep_east", "rep_west", "manager_east", "rm", "rm_junior", "admin", "agent"])
def test_what_hangs_off_a_customer_is_visible_exactly_when_the_customer_is(
    cast: SimpleNamespace, collaborations: SimpleNamespace, who: str
) -> None:
    """``customer_visible_q`` (contacts, interactions, tickets, the ANA-6 ledger) admits exactly the
    customers of ``visible_to`` — collaborations on a deleted customer and pool customers included — as
    one IN over a union: no OR beside the subquery, which PostgreSQL tests row by row through a subplan."""
    from kehu.customers.models import customer_visible_q

    gone = make_customer(cast.rep_east2, name="已删客户")
    services.collaborator_set(customer_id=gone.pk, user=cast.rep_west, can_edit=False, by=cast.admin)
    Customer.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    user = getattr(cast, who)
    rule = customer_visible_q(user, "pk")
    admitted = set(Customer.objects.filter(rule).values_list("pk", flat=True))
    assert admitted == set(Customer.objects.visible_to(user).values_list("pk", flat=True))
    assert gone.pk not in admitted
    sql = str(Customer.objects.filter(rule).only("pk").query).upper()
    assert " OR " not in sql, sql
