"""The pipeline pages (SAL-3, SAL-4): they render, call the services, and refuse what they must."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kehu.sales.models import Competitor, Opportunity, OpportunityContact, StageGroup

from .factories import make_contact, make_customer, make_opportunity, make_product, stage

pytestmark = pytest.mark.django_db


def test_the_list_filters_searches_and_shows_an_empty_state(signed_in: Any, rep_east: Any) -> None:
    make_opportunity(rep_east, name="智能仓储项目")
    make_opportunity(rep_east, name="年度备件")
    client = signed_in(rep_east)
    page = client.get(reverse("sales:list"), {"q": "仓储"}).content.decode()
    assert "智能仓储项目" in page and "年度备件" not in page
    page = client.get(reverse("sales:list"), {"status": "won"}).content.decode()
    assert 'data-testid="empty"' in page
    page = client.get(reverse("sales:list"), {"close_month": "2027-13"}).content.decode()
    assert 'data-testid="list-error"' in page
    page = client.get(reverse("sales:list"), {"sort": "amount"})
    assert page.status_code == 200


def test_creating_through_the_form_with_the_customer_picker(signed_in: Any, rep_east: Any) -> None:
    customer = make_customer(rep_east, "苏州精工有限公司")
    client = signed_in(rep_east)
    options = client.get(reverse("sales:customer_options"), {"q": "精工"}).content.decode()
    assert "苏州精工有限公司" in options
    response = client.post(
        reverse("sales:create"),
        {"customer": customer.pk, "name": "精工二期", "amount": "80000", "currency": "CNY"},
    )
    opp = Opportunity.objects.get(name="精工二期")
    assert response.status_code == 302 and response["Location"] == reverse("sales:detail", args=[opp.pk])


def test_a_bad_form_names_the_field(signed_in: Any, rep_east: Any) -> None:
    customer = make_customer(rep_east)
    client = signed_in(rep_east)
    page = client.post(
        reverse("sales:create"), {"customer": customer.pk, "name": "", "amount": "1", "currency": "CNY"}
    )
    assert page.status_code == 200
    assert 'data-error-for="name"' in page.content.decode()
    assert not Opportunity.objects.exists()


def test_the_detail_page_shows_everything_and_the_warnings(signed_in: Any, rep_east: Any) -> None:
    customer = make_customer(rep_east)
    contact = make_contact(customer, rep_east, "王采购")
    opp = make_opportunity(rep_east, customer=customer)
    client = signed_in(rep_east)
    client.post(
        reverse("sales:transition", args=[opp.pk, "move"]), {"version": 1, "stage": stage("方案/报价").pk}
    )
    client.post(
        reverse("sales:member_add", args=[opp.pk]),
        {"contact": contact.pk, "roles": ["buyer"], "stance": "supporter", "influence": "4"},
    )
    client.post(reverse("sales:competitor_add", args=[opp.pk]), {"name": "某品牌", "price_position": "lower"})
    product = make_product()
    client.post(reverse("sales:line_add", args=[opp.pk]), {"product": product.pk, "quantity": "2"})
    page = client.get(reverse("sales:detail", args=[opp.pk])).content.decode()
    assert 'data-code="no_supporting_decider"' in page and 'data-code="single_supporter"' in page
    assert "王采购" in page and "某品牌" in page and "2000.00" in page
    assert "初步接触 →" in page  # the stage history


def test_losing_without_a_competitor_shows_the_error_and_keeps_it_open(signed_in: Any, rep_east: Any) -> None:
    opp = make_opportunity(rep_east)
    client = signed_in(rep_east)
    response = client.post(
        reverse("sales:transition", args=[opp.pk, "lose"]), {"version": 1, "reason": "太贵"}, follow=True
    )
    assert "请填写赢得该单的竞争对手" in response.content.decode()
    assert Opportunity.objects.get(pk=opp.pk).status == "open"


def test_editing_with_a_stale_version_keeps_the_input_and_warns(signed_in: Any, rep_east: Any) -> None:
    opp = make_opportunity(rep_east)
    client = signed_in(rep_east)
    client.post(reverse("sales:transition", args=[opp.pk, "move"]), {"version": 1, "stage": stage("谈判").pk})
    page = client.post(
        reverse("sales:edit", args=[opp.pk]),
        {"version": 1, "name": "我的新名字", "amount": "5", "currency": "CNY"},
    ).content.decode()
    assert 'data-testid="conflict"' in page and "我的新名字" in page
    assert Opportunity.objects.get(pk=opp.pk).name == opp.name


def test_the_board_shows_columns_totals_and_moves_a_card(signed_in: Any, rep_east: Any) -> None:
    a = make_opportunity(rep_east, amount="100000")
    make_opportunity(rep_east, amount="50000")
    client = signed_in(rep_east)
    page = client.get(reverse("sales:board")).content.decode()
    first = stage("初步接触")
    assert f'data-testid="count-{first.pk}">2<' in page
    assert "150000.00 CNY · 加权 15000.00" in page
    target = stage("谈判")
    response = client.post(
        reverse("sales:board_move", args=[a.pk]), {"version": 1, "stage": target.pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and f'id="card-{a.pk}"' in body and 'data-version="2"' in body
    assert f'id="col-head-{target.pk}" hx-swap-oob="true"' in body
    # The same drop again carries the old version: refused with a clear message, nothing moved.
    again = client.post(
        reverse("sales:board_move", args=[a.pk]), {"version": 1, "stage": first.pk}, HTTP_HX_REQUEST="true"
    )
    assert again.status_code == 409 and "已被他人修改" in again.content.decode()
    assert Opportunity.objects.get(pk=a.pk).stage == target


def test_load_more_gives_the_next_cards(signed_in: Any, rep_east: Any) -> None:
    for n in range(32):
        make_opportunity(rep_east, name=f"商机{n:02d}")
    client = signed_in(rep_east)
    page = client.get(reverse("sales:board")).content.decode()
    assert page.count('data-testid="card"') == 30
    group = StageGroup.objects.get(is_default=True)
    first = stage("初步接触")
    more = client.get(
        reverse("sales:board_column", args=[group.pk, first.pk]), {"offset": 30}
    ).content.decode()
    assert more.count('data-testid="card"') == 2


def test_the_forecast_page_and_its_scopes(
    signed_in: Any, manager_east: Any, rep_east: Any, rep_west: Any
) -> None:
    make_opportunity(rep_east, amount="100000")
    client = signed_in(manager_east)
    page = client.get(reverse("sales:forecast"), {"by": "owner"}).content.decode()
    assert "张华东" in page and "10000.00" in page
    assert client.get(reverse("sales:forecast"), {"scope": "mine"}).status_code == 200
    rep_page = signed_in(rep_west).get(reverse("sales:forecast"), {"scope": "all"}).content.decode()
    assert 'data-testid="forecast-error"' in rep_page


def test_stage_groups_are_managed_by_a_manager_only(
    signed_in: Any, manager_east: Any, rep_east: Any, cast: Any
) -> None:
    assert signed_in(rep_east).get(reverse("sales:stage_groups")).status_code == 403
    client = signed_in(manager_east)
    assert client.get(reverse("sales:stage_groups")).status_code == 200
    response = client.post(
        reverse("sales:stage_group_create"),
        {
            "name": "项目型", "stage_id": ["", ""], "stage_name": ["接触", "投标"], "stage_name_en": ["", ""],
            "stage_probability": ["10", "60"], "stage_past": ["1"], "departments": [cast.west.pk],
        },
    )  # fmt: skip
    assert response.status_code == 302
    group = StageGroup.objects.get(name="项目型")
    assert list(group.stages.filter(kind="open").values_list("name", "past_proposal")) == [
        ("接触", False),
        ("投标", True),
    ]
    page = client.post(
        reverse("sales:stage_group_edit", args=[group.pk]),
        {"version": group.version, "name": "项目型", "stage_id": ["", ""], "stage_name": ["a", "b"],
         "stage_probability": ["50", "20"]},
    ).content.decode()  # fmt: skip
    assert 'data-error-for="probability"' in page
    assert client.get(reverse("sales:stage_group_edit", args=[group.pk])).status_code == 200


def test_the_customer_page_has_the_opportunities_tab_and_the_stage_timeline(
    signed_in: Any, rep_east: Any
) -> None:
    customer = make_customer(rep_east)
    opp = make_opportunity(rep_east, customer=customer, name="客户页商机")
    client = signed_in(rep_east)
    client.post(reverse("sales:transition", args=[opp.pk, "move"]), {"version": 1, "stage": stage("谈判").pk})
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'data-testid="tab-opportunities"' in page and "客户页商机" in page
    assert 'data-testid="timeline-stage"' in page and "谈判" in page


def test_someone_elses_opportunity_pages_are_not_found(signed_in: Any, rep_east: Any, rep_west: Any) -> None:
    opp = make_opportunity(rep_east)
    client = signed_in(rep_west)
    assert client.get(reverse("sales:detail", args=[opp.pk])).status_code == 404
    assert client.post(reverse("sales:transition", args=[opp.pk, "win"]), {"version": 1}).status_code == 404
    assert (
        client.post(
            reverse("sales:board_move", args=[opp.pk]), {"version": 1, "stage": stage("谈判").pk}
        ).status_code
        == 404
    )
    assert Opportunity.objects.get(pk=opp.pk).status == "open"
    assert not OpportunityContact.objects.exists() and not Competitor.objects.exists()
