"""The customer pages as the cast meets them: list, create, 查重, 360° detail, edit, transfer,
classification, recycle bin, merge, collaborators, contacts, options and the English switch.

Django's test client signs in as a cast member (``force_login``) and reads the rendered HTML.
Every refused action also asserts that nothing changed (architecture.md, house style 5).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.core.identity import credit_code_check_char
from kehu.customers import services
from kehu.customers.forms import customer_initial
from kehu.customers.models import Contact, Customer, CustomerCollaborator, Option

from .factories import credit_code, make_contact, make_customer, mobile

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "customer-table"}


# ----------------------------------------------------------------------------------- helpers --


def body(response: Any) -> str:
    return response.content.decode()


def toasts(response: Any) -> list[tuple[str, str]]:
    """The flash messages (toasts) a redirecting view left for the next page: (level, text)."""
    return [(m.tags, str(m)) for m in get_messages(response.wsgi_request)]


def names(response: Any) -> list[str]:
    return [c.name for c in response.context["page"].items]


def customer_form(**fields: Any) -> dict[str, Any]:
    """What the new-customer form posts when a user fills in ``fields`` (the rest left as offered)."""
    return {"kind": "company", "relation": "consumer", "need_status": "potential", "confirm_duplicates": "",
            **fields}  # fmt: skip


def edit_form(customer: Customer, **changes: Any) -> dict[str, Any]:
    """What the edit form posts: the stored values as the page shows them, with ``changes`` typed in."""
    data = {k: ("" if v is None else v) for k, v in customer_initial(customer).items()}
    data["screened"] = "on" if data.pop("screened") else ""
    data["confirm_duplicates"] = ""
    return {**data, **changes}


def query_of(href: str) -> dict[str, str]:
    return dict(parse_qsl(html.unescape(href).lstrip("?")))


def sort_header(page: str, label: str) -> tuple[str, dict[str, str]]:
    """The CSS class and the query of the sort link in the column headed ``label``."""
    match = re.search(rf'<a class="(sort[^"]*)" href="([^"]*)">{label}</a>', page)
    assert match, f"no sort link {label!r}"
    return match.group(1), query_of(match.group(2))


def pagination_link(page: str, rel: str) -> dict[str, str]:
    match = re.search(rf'<a href="([^"]*)" rel="{rel}"', page)
    assert match, f"no {rel} link"
    return query_of(match.group(1))


def audit(verb: str, customer: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb=verb, customer_id=customer.pk).order_by("id"))


def fresh(customer: Customer) -> Customer:
    return Customer._base_manager.get(pk=customer.pk)


def masked(number: str) -> str:
    return number[:3] + "****" + number[-4:]


def wrong_credit_code() -> str:
    body_ = "91310000123456789"
    right = credit_code_check_char(body_)
    return body_ + ("0" if right != "0" else "1")


# ------------------------------------------------------------------------------------- list --


@pytest.fixture
def east_world(cast: SimpleNamespace) -> SimpleNamespace:
    """Customers around 王经理 (manager_east): his own, his reps', one he collaborates on, the pool."""
    own = make_customer(cast.manager_east)
    rep = make_customer(cast.rep_east)
    rep2 = make_customer(cast.rep_east2)
    west = make_customer(cast.rep_west)
    services.collaborator_set(customer_id=west.pk, user=cast.manager_east, can_edit=False, by=cast.admin)
    pool = make_customer(cast.admin, owner=None)
    hq = make_customer(cast.admin)
    return SimpleNamespace(own=own, rep=rep, rep2=rep2, west=west, pool=pool, hq=hq)


@pytest.mark.parametrize(
    ("scene", "expected"),
    [
        ("mine", ["own"]),
        ("collaborating", ["west"]),
        ("subordinates", ["rep", "rep2"]),
        ("all", ["own", "rep", "rep2", "west"]),
        ("pool", ["pool"]),
    ],
)
def test_manager_east_sees_each_scene_of_the_list(
    cast: SimpleNamespace, east_world: SimpleNamespace, signed_in: Any, scene: str, expected: list[str]
) -> None:
    response = signed_in(cast.manager_east).get(reverse("customers:list"), {"scene": scene})
    assert response.status_code == 200
    assert sorted(names(response)) == sorted(getattr(east_world, key).name for key in expected)
    assert east_world.hq.name not in body(response)
    assert f'class="active" data-testid="scene-{scene}"' in body(response)


def test_the_list_without_a_scene_shows_all_owned_customers_in_scope(
    cast: SimpleNamespace, east_world: SimpleNamespace, signed_in: Any
) -> None:
    response = signed_in(cast.rep_east).get(reverse("customers:list"))
    assert names(response) == [east_world.rep.name]
    assert response.context["scene"] == "all"


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client) -> None:
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))


FIELD_FILTERS = [
    ("kind", "individual", {"kind": "individual"}),
    ("size", "large", {"size": "large"}),
    ("relation", "partner", {"relation": "partner"}),
    ("need_status", "target", {"need_status": "target"}),
    ("industry", "manufacturing", {"industry": "manufacturing"}),
    ("source", "referral", {"source": "referral"}),
    ("tag", "重点", {"tags": ["重点"]}),
    ("province", "浙江省", {"province": "浙江省"}),
    ("city", "杭州市", {"city": "杭州市"}),
    ("screened", "1", {"screened": True}),
]


@pytest.mark.parametrize(("key", "value", "data"), FIELD_FILTERS, ids=[f[0] for f in FIELD_FILTERS])
def test_rep_east_filters_the_list_by_each_field(
    cast: SimpleNamespace, signed_in: Any, key: str, value: str, data: dict[str, Any]
) -> None:
    match = make_customer(cast.rep_east, **data)
    make_customer(cast.rep_east)
    response = signed_in(cast.rep_east).get(reverse("customers:list"), {key: value})
    assert response.status_code == 200
    assert response.context["error"] is None
    assert names(response) == [match.name]
    assert response.context["filters"] == {key: value}
    if key in ("kind", "size", "relation", "need_status", "industry", "source"):
        assert re.search(rf'<option value="{value}" selected>', body(response))
    # A filter folded under 更多筛选 opens the fold, so the user sees why the list is short.
    folded = key in ("size", "relation", "need_status", "source")
    assert ('<details class="more-filters" open>' in body(response)) is folded


@pytest.mark.parametrize(
    ("dimension", "value"),
    [("value_tier", "vip"), ("loyalty", "loyal"), ("status", "lost"), ("deal_status", "intent")],
)
def test_rep_east_filters_the_list_by_each_classification(
    cast: SimpleNamespace, signed_in: Any, dimension: str, value: str
) -> None:
    match = make_customer(cast.rep_east)
    make_customer(cast.rep_east)
    services.customer_classify(
        customer_id=match.pk,
        version=None,
        dimension=dimension,
        value=value,
        reason="年度复核",
        by=cast.manager_east,
    )
    response = signed_in(cast.rep_east).get(reverse("customers:list"), {dimension: value})
    assert names(response) == [match.name]
    assert '<details class="more-filters" open>' in body(response)


def test_manager_east_filters_the_list_by_owner(
    cast: SimpleNamespace, east_world: SimpleNamespace, signed_in: Any
) -> None:
    response = signed_in(cast.manager_east).get(reverse("customers:list"), {"owner": cast.rep_east2.pk})
    assert names(response) == [east_world.rep2.name]
    assert f'<option value="{cast.rep_east2.pk}" selected>' in body(response)


def test_the_owner_filter_offers_the_owners_in_scope_and_is_left_out_for_a_rep_alone(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    page = body(signed_in(cast.manager_east).get(reverse("customers:list")))
    offered = set(re.findall(r'<select name="owner".*?</select>', page, re.S)[0].split("<option"))
    labels = {o.split(">", 1)[1].split("<", 1)[0] for o in offered if ">" in o}
    assert {cast.rep_east.label, cast.rep_east2.label, cast.manager_east.label} <= labels
    assert cast.rep_west.label not in labels

    assert 'name="owner"' not in body(signed_in(cast.rep_east).get(reverse("customers:list")))


def test_rep_east_searches_by_name_and_by_mobile(cast: SimpleNamespace, signed_in: Any) -> None:
    tea = make_customer(cast.rep_east, name="杭州西湖龙井茶业有限公司", mobile="13955501234")
    make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    assert names(client.get(reverse("customers:list"), {"q": "龙井"})) == [tea.name]
    assert names(client.get(reverse("customers:list"), {"q": "13955501234"})) == [tea.name]
    assert 'value="龙井"' in body(client.get(reverse("customers:list"), {"q": "龙井"}))


def test_rep_east_filters_the_list_by_creation_date(cast: SimpleNamespace, signed_in: Any) -> None:
    old = make_customer(cast.rep_east)
    new = make_customer(cast.rep_east)
    Customer.objects.filter(pk=old.pk).update(created_at=datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI))
    client = signed_in(cast.rep_east)
    assert names(client.get(reverse("customers:list"), {"created_to": "2024-12-31"})) == [old.name]
    assert names(client.get(reverse("customers:list"), {"created_from": "2025-01-01"})) == [new.name]
    both = client.get(reverse("customers:list"), {"created_from": "2024-03-15", "created_to": "2099-01-01"})
    assert sorted(names(both)) == sorted([old.name, new.name])


def test_a_sort_link_sorts_and_then_toggles_direction_keeping_the_filters(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    for name in ("Bravo贸易有限公司", "Alpha贸易有限公司", "Charlie贸易有限公司"):
        make_customer(cast.rep_east, name=name)
    make_customer(cast.rep_east, kind="individual", name="Delta")
    client = signed_in(cast.rep_east)

    default = body(client.get(reverse("customers:list"), {"kind": "company"}))
    css, query = sort_header(default, "客户名称")
    assert css == "sort"
    assert query == {"kind": "company", "scene": "all", "sort": "name"}

    ascending = client.get(reverse("customers:list"), query)
    assert names(ascending) == ["Alpha贸易有限公司", "Bravo贸易有限公司", "Charlie贸易有限公司"]
    css, query = sort_header(body(ascending), "客户名称")
    assert css == "sort asc"
    assert query == {"kind": "company", "scene": "all", "sort": "-name"}
    # The other columns start ascending again.
    assert sort_header(body(ascending), "编号")[1]["sort"] == "code"

    descending = client.get(reverse("customers:list"), query)
    assert names(descending) == ["Charlie贸易有限公司", "Bravo贸易有限公司", "Alpha贸易有限公司"]
    css, query = sort_header(body(descending), "客户名称")
    assert css == "sort desc"
    assert query["sort"] == "name"


def test_sorting_by_code_follows_creation_order(cast: SimpleNamespace, signed_in: Any) -> None:
    first, second = make_customer(cast.rep_east), make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    assert names(client.get(reverse("customers:list"), {"sort": "code"})) == [first.name, second.name]
    assert names(client.get(reverse("customers:list"), {"sort": "-code"})) == [second.name, first.name]


def test_pagination_pages_with_limit_and_offset_and_keeps_the_filters(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    companies = [make_customer(cast.rep_east) for _ in range(3)]
    make_customer(cast.rep_east, kind="individual")
    client = signed_in(cast.rep_east)

    first = client.get(
        reverse("customers:list"), {"scene": "mine", "kind": "company", "sort": "code", "limit": 2}
    )
    assert names(first) == [c.name for c in companies[:2]]
    assert "第 1–2 条，共 3 条" in body(first)
    next_query = pagination_link(body(first), "next")
    assert next_query == {"scene": "mine", "kind": "company", "sort": "code", "limit": "2", "offset": "2"}

    second = client.get(reverse("customers:list"), next_query)
    assert names(second) == [companies[2].name]
    assert "第 3–3 条，共 3 条" in body(second)
    assert pagination_link(body(second), "prev")["offset"] == "0"
    assert 'rel="next"' not in body(second)


def test_htmx_asking_for_the_table_gets_only_the_table(cast: SimpleNamespace, signed_in: Any) -> None:
    customer = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)

    partial = client.get(reverse("customers:list"), {"q": customer.name[:6]}, headers=HTMX_TABLE)
    assert partial.status_code == 200
    assert partial.templates[0].name == "customers/partials/_table.html"
    assert "customers/list.html" not in [t.name for t in partial.templates]
    assert 'data-testid="customer-table"' in body(partial)
    assert customer.name in body(partial)
    assert "<html" not in body(partial)
    assert 'class="page-header"' not in body(partial)

    # Another htmx target (e.g. boosted navigation) gets the whole page.
    whole = client.get(reverse("customers:list"), headers={"HX-Request": "true", "HX-Target": "main"})
    assert "customers/list.html" in [t.name for t in whole.templates]
    assert "<html" in body(whole)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"sort": "password"}, "排序字段“password”无效"),
        ({"scene": "everything"}, "场景“everything”无效"),
        ({"value_tier": "gold"}, "筛选值“gold”无效"),
        ({"owner": "rep_east"}, "负责人必须是用户ID"),
    ],
)
def test_an_invalid_sort_scene_or_filter_shows_the_error_and_falls_back_to_the_full_list(
    cast: SimpleNamespace, signed_in: Any, params: dict[str, str], error: str
) -> None:
    customers = [make_customer(cast.rep_east) for _ in range(2)]
    response = signed_in(cast.rep_east).get(reverse("customers:list"), params)
    assert response.status_code == 200
    assert f'<div class="alert alert-danger">{error}</div>' in body(response)
    assert sorted(names(response)) == sorted(c.name for c in customers)
    assert (response.context["scene"], response.context["sort"], response.context["filters"]) == (
        "all",
        "-updated_at",
        {},
    )


def test_an_empty_list_invites_rep_east_to_create_the_first_customer(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    page = body(signed_in(cast.rep_east).get(reverse("customers:list")))
    assert 'data-testid="empty"' in page
    assert "这里还没有客户" in page
    assert "新建第一个客户，或从公海领取。" in page
    assert f'href="{reverse("customers:create")}"' in page


def test_a_search_without_hits_offers_to_clear_the_filters(cast: SimpleNamespace, signed_in: Any) -> None:
    make_customer(cast.rep_east)
    page = body(
        signed_in(cast.rep_east).get(reverse("customers:list"), {"scene": "mine", "q": "没有这个客户"})
    )
    assert "没有符合条件的客户" in page
    assert "试试换个关键词，或清除筛选条件。" in page
    assert '<a class="btn" href="?scene=mine">清除筛选</a>' in page
    assert "这里还没有客户" not in page


def test_marketing_without_create_permission_is_not_offered_new_customer(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    page = body(signed_in(cast.marketing).get(reverse("customers:list")))
    assert "这里还没有客户" in page
    assert 'data-testid="new-customer"' not in page
    assert f'href="{reverse("customers:create")}"' not in page


def test_the_table_shows_mobiles_masked(cast: SimpleNamespace, signed_in: Any) -> None:
    make_customer(cast.rep_east, mobile="13912345678")
    page = body(signed_in(cast.rep_east).get(reverse("customers:list")))
    assert '<td class="masked" data-testid="mobile">139****5678</td>' in page
    assert "13912345678" not in page


# ----------------------------------------------------------------------------------- create --


def test_marketing_may_not_open_or_post_the_new_customer_form(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    client = signed_in(cast.marketing)
    response = client.get(reverse("customers:create"))
    assert response.status_code == 403
    assert "没有权限" in body(response)
    assert "您没有“新建客户”权限" in body(response)
    with nothing_changes():
        refused = client.post(reverse("customers:create"), customer_form(name="市场部想建的客户有限公司"))
    assert refused.status_code == 403


def test_rep_east_creates_a_customer_and_lands_on_its_page(cast: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(cast.rep_east)
    form = client.get(reverse("customers:create"))
    assert form.status_code == 200
    assert 'data-testid="customer-form"' in body(form)

    number, code = mobile(), credit_code()
    response = client.post(
        reverse("customers:create"),
        customer_form(name="杭州西湖龙井茶业有限公司", credit_code=code, mobile=number, industry="manufacturing",
                      province="浙江省", tags="重点, 华东"),
    )  # fmt: skip
    customer = Customer.objects.get(name="杭州西湖龙井茶业有限公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert (customer.owner, customer.credit_code, customer.mobile) == (cast.rep_east, code, number)
    assert sorted(customer.tags.values_list("name", flat=True)) == ["华东", "重点"]
    assert toasts(response) == [("success", "客户“杭州西湖龙井茶业有限公司”已创建")]
    [created] = audit("create", customer)
    assert created.actor == cast.rep_east
    # The audit log records that a mobile was given, never the number (SEC-2).
    assert created.changes["mobile"] == [None, masked(number)]


def test_manager_east_may_put_a_new_customer_straight_into_the_pool(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    response = signed_in(cast.manager_east).post(
        reverse("customers:create"), customer_form(name="待分配的线索有限公司", owner="pool")
    )
    assert response.status_code == 302
    assert Customer.objects.get(name="待分配的线索有限公司").owner is None


def test_a_bad_credit_code_is_shown_at_its_field_and_nothing_is_written(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:create"),
            customer_form(name="代码写错的有限公司", credit_code=wrong_credit_code()),
        )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["credit_code"]
    assert '<div class="error" data-error-for="credit_code">' in body(response)
    assert 'value="代码写错的有限公司"' in body(response)  # what the user typed stays


def test_a_likely_duplicate_warns_with_the_match_and_saves_once_confirmed(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    existing = make_customer(cast.rep_east, name="宁波港城物流有限公司", mobile="13900001111")
    client = signed_in(cast.rep_east)
    data = customer_form(name="宁波甬江船务有限公司", mobile="13900001111")

    with nothing_changes():
        warned = client.post(reverse("customers:create"), data)
    assert warned.status_code == 200
    page = body(warned)
    assert 'data-testid="dup-warning"' in page
    assert existing.name in page and existing.code in page
    assert "手机号相同" in page
    assert "负责人：张华东" in page
    assert warned.context["form"].errors["name"] == ["发现疑似重复的客户，请确认后再保存"]
    assert '<input type="checkbox" name="confirm_duplicates"' in page
    assert "我已确认不是重复客户，仍然保存" in page

    saved = client.post(reverse("customers:create"), {**data, "confirm_duplicates": "on"})
    assert saved.status_code == 302
    assert Customer.objects.filter(mobile="13900001111").count() == 2


def test_the_same_credit_code_is_refused_even_when_confirmed(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    existing = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:create"),
            customer_form(
                name="另起一个名字有限公司", credit_code=existing.credit_code, confirm_duplicates="on"
            ),
        )
    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"] == [
        "已存在统一社会信用代码相同的客户，不能重复创建"
    ]
    assert "不能重复创建" in body(response)
    assert "统一社会信用代码相同" in body(response)


# ------------------------------------------------------------------------------ 查重 (htmx) --


def test_the_duplicate_check_shows_rep_east_his_own_match(cast: SimpleNamespace, signed_in: Any) -> None:
    existing = make_customer(cast.rep_east, mobile="13900002222")
    response = signed_in(cast.rep_east).post(
        reverse("customers:dup_check"), {"name": "", "mobile": "13900002222"}
    )
    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["customers/partials/_dup_warning.html"]
    page = body(response)
    assert existing.name in page and existing.code in page
    assert reverse("customers:detail", args=[existing.pk]) in page
    assert "139****2222" in page
    assert "手机号相同" in page


def test_rep_west_learns_only_who_owns_a_match_he_cannot_see(cast: SimpleNamespace, signed_in: Any) -> None:
    existing = make_customer(cast.rep_east, name="温州瓯江电器有限公司", mobile="13900003333")
    response = signed_in(cast.rep_west).post(
        reverse("customers:dup_check"), {"name": "温州瓯江电器股份有限公司", "mobile": "13900003333"}
    )
    page = body(response)
    assert 'data-testid="dup-warning"' in page
    assert "（您无权查看该客户）" in page
    assert "负责人：张华东" in page
    assert existing.name not in page
    assert existing.code not in page
    assert "13900003333" not in page and "139****3333" not in page
    assert reverse("customers:detail", args=[existing.pk]) not in page


def test_the_duplicate_check_says_when_the_match_sits_in_the_pool(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    make_customer(cast.admin, owner=None, mobile="13900004444")
    page = body(signed_in(cast.rep_west).post(reverse("customers:dup_check"), {"mobile": "13900004444"}))
    assert "在公海中" in page


def test_the_duplicate_check_is_silent_without_a_match(cast: SimpleNamespace, signed_in: Any) -> None:
    make_customer(cast.rep_east)
    response = signed_in(cast.rep_east).post(
        reverse("customers:dup_check"), {"name": "完全不同的名字有限公司", "mobile": "1390000"}
    )
    assert response.status_code == 200
    assert body(response).strip() == ""


def test_marketing_may_not_use_the_duplicate_check(cast: SimpleNamespace, signed_in: Any) -> None:
    existing = make_customer(cast.rep_east, mobile="13900005555")
    response = signed_in(cast.marketing).post(reverse("customers:dup_check"), {"mobile": "13900005555"})
    assert response.status_code == 403
    assert "张华东" not in body(response)
    assert existing.name not in body(response)


# ------------------------------------------------------------------------------------ detail --


@pytest.fixture
def archive(cast: SimpleNamespace) -> SimpleNamespace:
    """One customer of rep_east's with a contact, a collaborator, an override and some history."""
    customer = make_customer(cast.rep_east, name="苏州工业园区精工机械有限公司", mobile="13911112222",
                             needs="每季度采购数控刀具")  # fmt: skip
    contact = make_contact(customer, cast.rep_east, name="林晓", position="采购经理", mobile="13933334444")
    services.collaborator_set(customer_id=customer.pk, user=cast.rep_east2, can_edit=True, by=cast.rep_east)
    services.customer_classify(
        customer_id=customer.pk, version=None, dimension="value_tier", value="important", reason="年度框架协议",
        by=cast.manager_east,
    )  # fmt: skip
    return SimpleNamespace(customer=fresh(customer), contact=contact)


def test_the_360_page_shows_profile_classification_contacts_team_and_timeline(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any
) -> None:
    response = signed_in(cast.rep_east).get(reverse("customers:detail", args=[archive.customer.pk]))
    assert response.status_code == 200
    page = body(response)
    c = archive.customer
    # Profile
    assert f'<h1 data-testid="customer-name">{c.name} <span class="mono muted">{c.code}</span>' in page
    assert "负责人：张华东" in page
    assert c.credit_code in page
    assert '<span class="masked" data-testid="detail-mobile" id="mobile-value">139****2222</span>' in page
    assert "13911112222" not in page
    assert "每季度采购数控刀具" in page
    # Classification, each with why
    rows = {row.dimension: row for row in response.context["classification"]}
    assert rows["value_tier"].value == "important" and rows["value_tier"].overridden
    assert "人工调整：年度框架协议（王经理）" in page
    assert "尚无成交记录" in page  # the derived loyalty's reason
    assert "尚未通过初步筛选" in page  # the derived status's reason
    # Contacts
    assert "林晓" in page and "采购经理" in page and "139****4444" in page and "13933334444" not in page
    assert 'data-testid="tab-contacts">联系人 (1)' in page
    # Team
    assert "李华东" in page and "可编辑" in page
    # Timeline, newest first; reveals are not part of it
    verbs = [e.item.verb for e in response.context["timeline"]]
    assert verbs[:1] == ["classify"] and verbs[-1] == "create"
    assert {"collaborator_add"} <= set(verbs)
    for text in ('data-testid="timeline"', "创建了", "添加了协作人", "调整了分类"):
        assert text in page


def test_the_tab_in_the_address_opens_that_tab(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any
) -> None:
    response = signed_in(cast.rep_east).get(
        reverse("customers:detail", args=[archive.customer.pk]), {"tab": "team"}
    )
    assert response.context["tab"] == "team"
    assert "x-data=\"{ tab: 'team' }\"" in body(response)


def test_a_customer_outside_rep_wests_scope_is_a_404_page(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any
) -> None:
    response = signed_in(cast.rep_west).get(reverse("customers:detail", args=[archive.customer.pk]))
    assert response.status_code == 404
    assert "找不到该记录" in body(response)
    assert "客户不存在或您无权查看" in body(response)
    assert archive.customer.name not in body(response)


def test_an_unknown_customer_is_a_404_page(cast: SimpleNamespace, signed_in: Any) -> None:
    assert signed_in(cast.admin).get(reverse("customers:detail", args=[999_999])).status_code == 404


@pytest.mark.parametrize(("who", "offered"), [("rep_east", True), ("agent", True), ("marketing", False)])
def test_the_reveal_button_is_offered_only_to_roles_that_may_reveal(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, who: str, offered: bool
) -> None:
    page = body(signed_in(getattr(cast, who)).get(reverse("customers:detail", args=[archive.customer.pk])))
    assert ('data-testid="reveal"' in page) is offered
    assert "139****2222" in page


def test_rep_east_reveals_the_full_number_and_the_reveal_is_audited(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.rep_east)
    response = client.post(reverse("customers:reveal", args=[archive.customer.pk]))
    assert response.status_code == 200
    assert '<span class="mono" data-testid="full-mobile">13911112222</span>' in body(response)
    assert "本次查看已记录" in body(response)
    [event] = audit("reveal", archive.customer)
    assert event.actor == cast.rep_east
    # The sales timeline stays free of reveals (they are for the auditors' page).
    detail = client.get(reverse("customers:detail", args=[archive.customer.pk]))
    assert "reveal" not in [e.item.verb for e in detail.context["timeline"]]


def test_marketing_may_not_reveal_and_nothing_is_audited(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    client = signed_in(cast.marketing)
    with nothing_changes():
        response = client.post(reverse("customers:reveal", args=[archive.customer.pk]))
    assert response.status_code == 403
    assert "13911112222" not in body(response)


def test_rep_west_may_not_reveal_a_customer_outside_his_scope(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    client = signed_in(cast.rep_west)
    with nothing_changes():
        response = client.post(reverse("customers:reveal", args=[archive.customer.pk]))
    assert response.status_code == 404
    assert "13911112222" not in body(response)


def test_reveal_answers_only_post(cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any) -> None:
    response = signed_in(cast.rep_east).get(reverse("customers:reveal", args=[archive.customer.pk]))
    assert response.status_code == 405
    assert audit("reveal", archive.customer) == []


# -------------------------------------------------------------------------------------- edit --


def test_rep_east_edits_his_customer(cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any) -> None:
    c = archive.customer
    client = signed_in(cast.rep_east)
    form = body(client.get(reverse("customers:edit", args=[c.pk])))
    assert f'value="{c.name}"' in form
    assert f'name="version" value="{c.version}"' in form
    assert f'id="exclude_id" name="exclude_id" value="{c.pk}"' in form

    response = client.post(reverse("customers:edit", args=[c.pk]), edit_form(c, needs="每月采购数控刀具"))
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[c.pk])
    assert (fresh(c).needs, fresh(c).version) == ("每月采购数控刀具", c.version + 1)
    [event] = audit("update", c)
    assert event.changes == {"needs": ["每季度采购数控刀具", "每月采购数控刀具"]}


def test_a_bad_mobile_on_edit_is_shown_at_its_field_and_nothing_is_written(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = archive.customer
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(reverse("customers:edit", args=[c.pk]), edit_form(c, mobile="12345"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["mobile"]
    assert 'data-error-for="mobile"' in body(response)


def test_a_stale_edit_shows_what_is_stored_now_and_overwrites_nothing(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = archive.customer
    client = signed_in(cast.rep_east)
    stale = edit_form(c, needs="我改的需求")
    # Meanwhile the manager saves the same customer.
    services.customer_update(
        customer_id=c.pk, version=c.version, data={"needs": "经理改的需求"}, by=cast.manager_east
    )

    with nothing_changes():
        response = client.post(reverse("customers:edit", args=[c.pk]), stale)
    assert response.status_code == 200
    page = body(response)
    assert 'data-testid="conflict"' in page
    assert "经理改的需求" in page  # the current value
    assert f"<dt>版本</dt><dd>{c.version + 1}</dd>" in page
    assert "该记录已被他人修改" in page  # the reason is spelled out above the form
    assert "我改的需求" in page  # the user's input is kept for a second look
    assert fresh(c).needs == "经理改的需求"

    # Saving the reviewed form again is a deliberate overwrite of the version now shown.
    assert f'name="version" value="{c.version + 1}"' in page
    again = client.post(reverse("customers:edit", args=[c.pk]), {**stale, "version": c.version + 1})
    assert again.status_code == 302
    assert fresh(c).needs == "我改的需求"


def test_a_read_only_collaborator_may_not_edit(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = archive.customer
    services.collaborator_set(customer_id=c.pk, user=cast.rep_west, can_edit=False, by=cast.rep_east)
    client = signed_in(cast.rep_west)
    detail = body(client.get(reverse("customers:detail", args=[c.pk])))
    assert c.name in detail
    assert 'data-testid="edit"' not in detail
    assert 'data-testid="add-contact"' not in detail

    response = client.get(reverse("customers:edit", args=[c.pk]))
    assert response.status_code == 403
    assert "您只能查看该客户，不能修改" in body(response)
    with nothing_changes():
        refused = client.post(reverse("customers:edit", args=[c.pk]), edit_form(c, needs="只读协作人改的"))
    assert refused.status_code == 403


def test_editing_outside_ones_scope_is_a_404(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = archive.customer
    client = signed_in(cast.rep_west)
    with nothing_changes():
        response = client.post(reverse("customers:edit", args=[c.pk]), edit_form(c, needs="越权"))
    assert response.status_code == 404


# ---------------------------------------------------------------------------------- transfer --


def test_a_transfer_without_a_reason_is_refused_with_a_toast(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = archive.customer
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:transfer", args=[c.pk]), {"to_user": cast.rep_east2.pk, "reason": ""}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[c.pk]) + "?tab=profile"
    assert toasts(response) == [("error", "请选择新负责人并填写原因")]
    followed = client.get(response["Location"])
    assert '<div class="toast toast-error" role="status">请选择新负责人并填写原因</div>' in body(followed)


def test_rep_east_hands_a_customer_to_rep_east2_with_a_reason(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any
) -> None:
    c = archive.customer
    response = signed_in(cast.rep_east).post(
        reverse("customers:transfer", args=[c.pk]), {"to_user": cast.rep_east2.pk, "reason": "客户搬到了宁波"}
    )
    assert toasts(response) == [("success", "已转移给 李华东")]
    assert fresh(c).owner == cast.rep_east2
    [event] = audit("transfer", c)
    assert event.actor == cast.rep_east
    assert event.changes == {"owner": ["张华东", "李华东"], "reason": [None, "客户搬到了宁波"]}


def test_a_transfer_to_the_current_owner_is_refused(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:transfer", args=[archive.customer.pk]),
            {"to_user": cast.rep_east.pk, "reason": "试试"},
        )
    assert toasts(response) == [("error", "新负责人与当前负责人相同")]


def test_marketing_may_not_transfer(
    cast: SimpleNamespace, archive: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    client = signed_in(cast.marketing)
    with nothing_changes():
        response = client.post(
            reverse("customers:transfer", args=[archive.customer.pk]),
            {"to_user": cast.rep_west.pk, "reason": "想要"},
        )
    assert toasts(response) == [("error", "您没有“转移客户”权限")]


# ---------------------------------------------------------------------------------- classify --


def classify(client: Client, customer: Customer, **fields: Any) -> Any:
    data = {
        "dimension": "value_tier",
        "value": "",
        "reason": "",
        "version": fresh(customer).version,
        **fields,
    }
    return client.post(reverse("customers:classify", args=[customer.pk]), data)


def test_manager_east_overrides_a_classification_with_a_reason(cast: SimpleNamespace, signed_in: Any) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.manager_east)
    response = classify(client, c, value="vip", reason="集团战略客户")
    assert toasts(response) == [("success", "分类已更新")]
    stored = fresh(c)
    assert stored.value_tier == "vip"
    assert stored.overrides["value_tier"]["reason"] == "集团战略客户"
    [event] = audit("classify", c)
    assert event.changes == {"value_tier": ["small", "vip"], "reason": [None, "集团战略客户"]}
    page = body(client.get(reverse("customers:detail", args=[c.pk])))
    assert "人工调整：集团战略客户（王经理）" in page
    assert '<option value="">恢复自动计算</option>' in page


def test_an_override_without_a_reason_is_refused(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.manager_east)
    with nothing_changes():
        response = classify(client, c, value="vip", reason="  ")
    assert toasts(response) == [("error", "人工调整分类必须填写原因")]


def test_clearing_an_override_returns_to_the_derived_value(cast: SimpleNamespace, signed_in: Any) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.manager_east)
    client.get(classify(client, c, value="vip", reason="集团战略客户")["Location"])  # sees the toast
    response = classify(client, c, value="")
    assert toasts(response) == [("success", "分类已更新")]
    stored = fresh(c)
    assert (stored.value_tier, stored.overrides) == ("small", {})
    page = body(client.get(reverse("customers:detail", args=[c.pk])))
    assert "近12个月成交额 ¥0，低于 ¥20,000" in page
    assert "人工调整" not in page


def test_a_classification_from_a_stale_page_is_refused(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    page_version = c.version
    # rep_east saves the customer after the manager opened its page.
    services.customer_update(customer_id=c.pk, version=c.version, data={"needs": "新需求"}, by=cast.rep_east)
    client = signed_in(cast.manager_east)
    with nothing_changes():
        response = classify(client, c, value="vip", reason="集团战略客户", version=page_version)
    [(level, text)] = toasts(response)
    assert level == "error"
    assert text.startswith("该记录已被他人修改")


def test_rep_east_without_classify_permission_is_neither_offered_nor_allowed_to_override(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    assert "恢复自动计算" not in body(client.get(reverse("customers:detail", args=[c.pk])))
    assert reverse("customers:classify", args=[c.pk]) not in body(
        client.get(reverse("customers:detail", args=[c.pk]))
    )
    with nothing_changes():
        response = classify(client, c, value="vip", reason="我觉得是")
    assert toasts(response) == [("error", "您没有“调整客户分类”权限")]


# ------------------------------------------------------------ delete, recycle bin, restore, purge --


def test_manager_east_deletes_finds_it_in_the_recycle_bin_and_restores_it(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.manager_east)
    assert reverse("customers:delete", args=[c.pk]) in body(
        client.get(reverse("customers:detail", args=[c.pk]))
    )

    deleted = client.post(reverse("customers:delete", args=[c.pk]))
    assert deleted["Location"] == reverse("customers:list")
    assert toasts(deleted) == [("success", f"“{c.name}”已移入回收站")]
    assert fresh(c).deleted_by == cast.manager_east
    assert c.name not in names(client.get(reverse("customers:list")))
    assert client.get(reverse("customers:detail", args=[c.pk])).status_code == 404

    bin_page = client.get(reverse("customers:recycle_bin"))
    assert bin_page.status_code == 200
    page = body(bin_page)
    assert 'data-testid="recycle-table"' in page and c.name in page and "王经理" in page
    assert reverse("customers:restore", args=[c.pk]) in page
    assert reverse("customers:purge", args=[c.pk]) not in page  # purging is for administrators

    restored = client.post(reverse("customers:restore", args=[c.pk]))
    assert restored["Location"] == reverse("customers:recycle_bin")
    assert toasts(restored) == [("success", f"“{c.name}”已恢复")]
    assert fresh(c).deleted_at is None
    assert [e.verb for e in AuditEvent.objects.filter(customer_id=c.pk).order_by("id")][-2:] == [
        "delete",
        "restore",
    ]
    assert "回收站是空的" in body(client.get(reverse("customers:recycle_bin")))


def test_admin_purges_a_recycled_customer_for_good_but_its_history_stays(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.admin)
    client.post(reverse("customers:delete", args=[c.pk]))
    assert reverse("customers:purge", args=[c.pk]) in body(client.get(reverse("customers:recycle_bin")))

    response = client.post(reverse("customers:purge", args=[c.pk]))
    assert response["Location"] == reverse("customers:recycle_bin")
    assert toasts(response) == [("success", "已彻底删除")]
    assert not Customer._base_manager.filter(pk=c.pk).exists()
    assert [e.actor for e in audit("purge", c)] == [cast.admin]
    assert audit("create", c)


def test_rep_east_may_not_delete_and_nothing_changes(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    assert reverse("customers:delete", args=[c.pk]) not in body(
        client.get(reverse("customers:detail", args=[c.pk]))
    )
    with nothing_changes():
        response = client.post(reverse("customers:delete", args=[c.pk]))
    assert response["Location"] == reverse("customers:detail", args=[c.pk]) + "?tab=profile"
    assert toasts(response) == [("error", "您没有“删除客户”权限")]


def test_rep_east_may_neither_open_the_recycle_bin_nor_restore(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    services.customer_delete(customer_id=c.pk, by=cast.manager_east)
    client = signed_in(cast.rep_east)
    assert client.get(reverse("customers:recycle_bin")).status_code == 403
    with nothing_changes():
        response = client.post(reverse("customers:restore", args=[c.pk]))
    assert toasts(response) == [("error", "您没有“从回收站恢复”权限")]


def test_manager_east_may_not_purge_and_nothing_changes(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    services.customer_delete(customer_id=c.pk, by=cast.manager_east)
    client = signed_in(cast.manager_east)
    with nothing_changes():
        response = client.post(reverse("customers:purge", args=[c.pk]))
    assert toasts(response) == [("error", "您没有“彻底删除”权限")]


# -------------------------------------------------------------------------------------- merge --


def test_manager_east_merges_a_duplicate_by_its_code(cast: SimpleNamespace, signed_in: Any) -> None:
    keep = make_customer(cast.rep_east, name="常州天宁精密铸造有限公司")
    drop = make_customer(cast.rep_east2, name="常州天宁精密铸造厂", confirm_duplicates=True)
    moved = make_contact(drop, cast.rep_east2, name="顾卫东")
    client = signed_in(cast.manager_east)

    response = client.post(reverse("customers:merge", args=[keep.pk]), {"other_code": drop.code.lower()})
    assert toasts(response) == [("success", f"已将 {drop.name} 合并到当前客户")]
    assert fresh(drop).merged_into_id == keep.pk
    assert Contact.objects.get(pk=moved.pk).customer_id == keep.pk
    assert CustomerCollaborator.objects.filter(customer=keep, user=cast.rep_east2).exists()
    assert drop.name not in names(client.get(reverse("customers:list")))
    page = body(client.get(reverse("customers:detail", args=[keep.pk])))
    assert "合并了客户" in page and "顾卫东" in page


def test_merging_an_unknown_code_is_refused(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    keep = make_customer(cast.rep_east)
    client = signed_in(cast.manager_east)
    with nothing_changes():
        response = client.post(reverse("customers:merge", args=[keep.pk]), {"other_code": "KH99999999"})
    assert toasts(response) == [("error", "找不到编号为“KH99999999”的客户（或您无权查看）")]


def test_merging_a_customer_with_itself_is_refused(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    keep = make_customer(cast.rep_east)
    client = signed_in(cast.manager_east)
    with nothing_changes():
        response = client.post(reverse("customers:merge", args=[keep.pk]), {"other_code": keep.code})
    assert toasts(response) == [("error", "不能把客户与自己合并")]


def test_rep_east_may_not_merge(cast: SimpleNamespace, signed_in: Any, nothing_changes: Any) -> None:
    keep, drop = make_customer(cast.rep_east), make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    assert reverse("customers:merge", args=[keep.pk]) not in body(
        client.get(reverse("customers:detail", args=[keep.pk]))
    )
    with nothing_changes():
        response = client.post(reverse("customers:merge", args=[keep.pk]), {"other_code": drop.code})
    assert toasts(response) == [("error", "您没有“合并客户”权限")]


# ------------------------------------------------------------------------------ collaborators --


def test_rep_east_adds_and_removes_a_collaborator(cast: SimpleNamespace, signed_in: Any) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)

    added = client.post(reverse("customers:collaborator_add", args=[c.pk]), {"user_id": cast.rep_west.pk})
    assert added["Location"] == reverse("customers:detail", args=[c.pk]) + "?tab=team"
    assert toasts(added) == [("success", "已添加协作人 陈华南")]
    assert CustomerCollaborator.objects.get(customer=c, user=cast.rep_west).can_edit is False
    page = body(client.get(reverse("customers:detail", args=[c.pk]), {"tab": "team"}))
    assert "陈华南" in page and "只读" in page

    client.post(
        reverse("customers:collaborator_add", args=[c.pk]),
        {"user_id": cast.rep_west.pk, "can_edit": "1"},
        follow=True,
    )
    assert CustomerCollaborator.objects.get(customer=c, user=cast.rep_west).can_edit is True

    removed = client.post(reverse("customers:collaborator_remove", args=[c.pk, cast.rep_west.pk]))
    assert toasts(removed) == [("success", "已移除协作人")]
    assert not CustomerCollaborator.objects.filter(customer=c).exists()
    assert [e.verb for e in AuditEvent.objects.filter(customer_id=c.pk).order_by("id")][1:] == [
        "collaborator_add",
        "collaborator_update",
        "collaborator_remove",
    ]


def test_the_owner_cannot_be_added_as_collaborator(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:collaborator_add", args=[c.pk]), {"user_id": cast.rep_east.pk}
        )
    assert toasts(response) == [("error", "负责人无需添加为协作人")]


def test_rep_west_may_not_add_collaborators_to_a_customer_he_cannot_see(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.rep_west)
    with nothing_changes():
        response = client.post(
            reverse("customers:collaborator_add", args=[c.pk]), {"user_id": cast.rep_west.pk}
        )
    assert toasts(response) == [("error", "客户不存在或您无权查看")]


def test_a_read_only_collaborator_may_not_remove_collaborators(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    services.collaborator_set(customer_id=c.pk, user=cast.rep_west, can_edit=False, by=cast.rep_east)
    client = signed_in(cast.rep_west)
    with nothing_changes():
        response = client.post(reverse("customers:collaborator_remove", args=[c.pk, cast.rep_west.pk]))
    assert toasts(response) == [("error", "您只能查看该客户，不能修改")]


# ----------------------------------------------------------------------------------- contacts --


def contact_form(**fields: Any) -> dict[str, Any]:
    return {"name": "", "gender": "", "reports_to": "", **fields}


def test_the_first_contact_is_primary_and_later_ones_are_not(cast: SimpleNamespace, signed_in: Any) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    assert client.get(reverse("customers:contact_create", args=[c.pk])).status_code == 200

    first = client.post(
        reverse("customers:contact_create", args=[c.pk]), contact_form(name="林晓", position="总经理")
    )
    assert first["Location"] == reverse("customers:detail", args=[c.pk]) + "?tab=contacts"
    assert toasts(first) == [("success", "联系人已添加")]
    boss = Contact.objects.get(customer=c, name="林晓")
    assert boss.is_primary is True

    client.post(
        reverse("customers:contact_create", args=[c.pk]),
        contact_form(name="王芳", position="采购", reports_to=boss.pk, mobile="13966667777"),
    )
    buyer = Contact.objects.get(customer=c, name="王芳")
    assert (buyer.is_primary, buyer.reports_to) == (False, boss)
    assert [e.verb for e in audit("create", c)] == [
        "create",
        "create",
        "create",
    ]  # customer, then two contacts


def test_reports_to_offers_only_the_customers_other_contacts(cast: SimpleNamespace, signed_in: Any) -> None:
    c, other = make_customer(cast.rep_east), make_customer(cast.rep_east)
    boss = make_contact(c, cast.rep_east, name="林晓")
    buyer = make_contact(c, cast.rep_east, name="王芳")
    stranger = make_contact(other, cast.rep_east, name="陈明")
    client = signed_in(cast.rep_east)

    new_form = client.get(reverse("customers:contact_create", args=[c.pk])).context["form"]
    assert [v for v, _label in new_form.fields["reports_to"].choices] == ["", str(boss.pk), str(buyer.pk)]

    edit = client.get(reverse("customers:contact_edit", args=[buyer.pk])).context["form"]
    assert [v for v, _label in edit.fields["reports_to"].choices] == ["", str(boss.pk)]
    assert str(stranger.pk) not in [v for v, _label in edit.fields["reports_to"].choices]


def test_a_contact_cannot_report_to_another_customers_contact(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c, other = make_customer(cast.rep_east), make_customer(cast.rep_east)
    stranger = make_contact(other, cast.rep_east, name="陈明")
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:contact_create", args=[c.pk]),
            contact_form(name="王芳", reports_to=stranger.pk),
        )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["reports_to"]


def test_a_bad_contact_mobile_is_shown_at_its_field(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:contact_create", args=[c.pk]), contact_form(name="王芳", mobile="139")
        )
    assert list(response.context["form"].errors) == ["mobile"]
    assert 'data-error-for="mobile"' in body(response)


def test_rep_east_edits_and_deletes_a_contact(cast: SimpleNamespace, signed_in: Any) -> None:
    c = make_customer(cast.rep_east)
    boss = make_contact(c, cast.rep_east, name="林晓")
    buyer = make_contact(c, cast.rep_east, name="王芳", position="采购")
    client = signed_in(cast.rep_east)

    form = body(client.get(reverse("customers:contact_edit", args=[buyer.pk])))
    assert 'value="王芳"' in form and f'name="version" value="{buyer.version}"' in form
    saved = client.post(
        reverse("customers:contact_edit", args=[buyer.pk]),
        contact_form(name="王芳", position="采购总监", reports_to=boss.pk, version=buyer.version),
    )
    assert saved["Location"] == reverse("customers:detail", args=[c.pk]) + "?tab=contacts"
    buyer.refresh_from_db()
    assert (buyer.position, buyer.reports_to, buyer.version) == ("采购总监", boss, 2)
    contacts_tab = body(client.get(saved["Location"]))
    assert "<td>采购总监</td>" in contacts_tab and "<td>林晓</td>" in contacts_tab  # reports to 林晓

    deleted = client.post(reverse("customers:contact_delete", args=[buyer.pk]))
    assert toasts(deleted) == [("success", "联系人已删除")]
    assert Contact._base_manager.get(pk=buyer.pk).deleted_at is not None
    assert [p.name for p in client.get(reverse("customers:detail", args=[c.pk])).context["contacts"]] == [
        "林晓"
    ]


def test_a_stale_contact_edit_says_why_and_overwrites_nothing(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    buyer = make_contact(c, cast.rep_east, name="王芳")
    services.contact_update(
        contact_id=buyer.pk, version=buyer.version, data={"position": "经理改的"}, by=cast.manager_east
    )
    client = signed_in(cast.rep_east)
    with nothing_changes():
        response = client.post(
            reverse("customers:contact_edit", args=[buyer.pk]),
            contact_form(name="王芳", position="我改的", version=buyer.version),
        )
    assert response.status_code == 200
    page = body(response)
    assert "该记录已被他人修改" in page
    assert Contact.objects.get(pk=buyer.pk).position == "经理改的"
    # What is stored now is shown, the typed text stays, and the form now rests on the current version.
    assert 'data-testid="conflict"' in page and "经理改的" in page and 'value="我改的"' in page
    assert f'name="version" value="{buyer.version + 1}"' in page
    saved = client.post(
        reverse("customers:contact_edit", args=[buyer.pk]),
        contact_form(name="王芳", position="我改的", version=buyer.version + 1),
    )
    assert saved.status_code == 302 and Contact.objects.get(pk=buyer.pk).position == "我改的"


def test_a_read_only_collaborator_may_not_add_or_delete_contacts(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    c = make_customer(cast.rep_east)
    boss = make_contact(c, cast.rep_east, name="林晓")
    services.collaborator_set(customer_id=c.pk, user=cast.rep_west, can_edit=False, by=cast.rep_east)
    client = signed_in(cast.rep_west)
    with nothing_changes():
        added = client.post(reverse("customers:contact_create", args=[c.pk]), contact_form(name="王芳"))
        deleted = client.post(reverse("customers:contact_delete", args=[boss.pk]))
    assert added.status_code == 403
    assert toasts(deleted) == [("error", "您只能查看该客户，不能修改")]


def test_the_contacts_page_lists_and_searches_only_contacts_in_scope(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    mine = make_customer(cast.rep_east)
    make_contact(mine, cast.rep_east, name="林晓", mobile="13977778888")
    make_contact(mine, cast.rep_east, name="王芳")
    make_contact(make_customer(cast.rep_west), cast.rep_west, name="陈明")
    client = signed_in(cast.rep_east)

    everyone = client.get(reverse("customers:contacts"))
    assert sorted(p.name for p in everyone.context["page"].items) == ["林晓", "王芳"]
    assert "139****8888" in body(everyone) and "13977778888" not in body(everyone)
    assert "陈明" not in body(everyone)

    found = client.get(reverse("customers:contacts"), {"q": "林"})
    assert [p.name for p in found.context["page"].items] == ["林晓"]
    assert 'value="林"' in body(found)

    nobody = client.get(reverse("customers:contacts"), {"q": "陈明"})
    assert "没有找到匹配的联系人" in body(nobody)


# ------------------------------------------------------------------------------------ options --


def test_admin_sees_the_option_lists(cast: SimpleNamespace, signed_in: Any) -> None:
    response = signed_in(cast.admin).get(reverse("customers:options"))
    assert response.status_code == 200
    page = body(response)
    assert "制造业" in page and "Manufacturing" in page and "manufacturing" in page
    assert "市场调研" in page


def test_rep_east_may_not_open_or_change_the_option_lists(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any
) -> None:
    client = signed_in(cast.rep_east)
    assert client.get(reverse("customers:options")).status_code == 403
    option = Option.objects.get(kind="industry", code="manufacturing")
    with nothing_changes(Option, AuditEvent):
        added = client.post(
            reverse("customers:options"),
            {"kind": "industry", "code": "mining", "label": "采矿业", "sort_order": 0},
        )
        toggled = client.post(reverse("customers:option_toggle", args=[option.pk]), {"is_active": "0"})
    assert added.status_code == 403
    assert toasts(toggled) == [("error", "您没有“维护分类选项”权限")]


def test_admin_adds_an_option_that_the_customer_form_then_offers(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    response = client.post(
        reverse("customers:options"),
        {"kind": "industry", "code": "mining", "label": "采矿业", "label_en": "Mining", "sort_order": 5},
    )
    assert response["Location"] == reverse("customers:options")
    assert toasts(response) == [("success", "已添加")]
    assert Option.objects.get(kind="industry", code="mining").label == "采矿业"
    assert ("mining", "采矿业") in client.get(reverse("customers:create")).context["form"].fields[
        "industry"
    ].choices


@pytest.mark.parametrize(
    ("code", "error"),
    [("采矿", "代码只能包含英文字母、数字、下划线和连字符"), ("manufacturing", "代码“manufacturing”已存在")],
)
def test_a_bad_option_code_is_shown_at_the_code_field(
    cast: SimpleNamespace, signed_in: Any, nothing_changes: Any, code: str, error: str
) -> None:
    client = signed_in(cast.admin)
    with nothing_changes(Option, AuditEvent):
        response = client.post(
            reverse("customers:options"),
            {"kind": "industry", "code": code, "label": "采矿业", "sort_order": 0},
        )
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": [error]}
    assert f'<div class="error" data-error-for="code">{error}</div>' in body(response)


def test_admin_switches_an_option_off_and_on(cast: SimpleNamespace, signed_in: Any) -> None:
    option = Option.objects.get(kind="industry", code="manufacturing")
    client = signed_in(cast.admin)

    off = client.post(reverse("customers:option_toggle", args=[option.pk]), {"is_active": "0"})
    assert off["Location"] == reverse("customers:options")
    assert Option.objects.get(pk=option.pk).is_active is False
    assert "启用此选项" in body(client.get(reverse("customers:options")))
    offered = [
        v for v, _label in client.get(reverse("customers:create")).context["form"].fields["industry"].choices
    ]
    assert "manufacturing" not in offered

    client.post(reverse("customers:option_toggle", args=[option.pk]), {"is_active": "1"})
    assert Option.objects.get(pk=option.pk).is_active is True


# ------------------------------------------------------------------------------------ English --


def test_switching_to_english_shows_the_list_in_english(cast: SimpleNamespace, signed_in: Any) -> None:
    make_customer(cast.rep_east)
    client = signed_in(cast.rep_east)
    switched = client.post(reverse("set_language"), {"language": "en", "next": reverse("customers:list")})
    assert switched.status_code == 302
    assert switched["Location"] == reverse("customers:list")

    page = body(client.get(reverse("customers:list")))
    assert "<title>Customers" in page or ">Customers <" in page
    assert "Owned by me" in page
    assert "New customer" in page
    assert "我负责的" not in page

    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("customers:list")})
    assert "我负责的" in body(client.get(reverse("customers:list")))
