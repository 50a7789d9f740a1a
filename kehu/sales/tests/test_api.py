"""The pipeline API (SAL-3, SAL-4): the same services as the pages, interfaces.md's conventions."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.sales.models import Opportunity, StageGroup

from .factories import make_contact, make_customer, make_opportunity, make_product, stage

pytestmark = pytest.mark.django_db
API = "/api/v1"


def test_create_read_list_and_update(api_as: Any, rep_east: Any) -> None:
    api = api_as(rep_east)
    customer = make_customer(rep_east)
    r = api.post(
        f"{API}/opportunities",
        {"customer": customer.pk, "name": "API 商机", "amount": "12345.6", "expected_close": "2027-05-20"},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["stage"]["name"], body["amount"], body["warnings"], body["version"]) == (
        "初步接触",
        "12345.60",
        [],
        1,
    )
    listed = api.get(f"{API}/opportunities", {"q": "API", "close_month": "2027-05"}).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]
    r = api.patch(f"{API}/opportunities/{body['id']}", {"version": 1, "name": "改过的名字"})
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = api.patch(f"{API}/opportunities/{body['id']}", {"version": 1, "name": "旧的"})
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    assert Opportunity.objects.get(pk=body["id"]).name == "改过的名字"


def test_unknown_fields_and_bad_values(api_as: Any, rep_east: Any) -> None:
    api = api_as(rep_east)
    customer = make_customer(rep_east)
    r = api.post(f"{API}/opportunities", {"customer": customer.pk, "name": "x", "colour": "red"})
    assert r.status_code == 422 and r.json()["field"] == "colour"
    r = api.post(f"{API}/opportunities", {"customer": customer.pk, "name": " "})
    assert r.status_code == 422 and r.json()["field"] == "name"
    assert not Opportunity.objects.exists()


def test_transitions(api_as: Any, rep_east: Any, manager_east: Any) -> None:
    api = api_as(rep_east)
    opp = make_opportunity(rep_east)
    r = api.post(f"{API}/opportunities/{opp.pk}/move", {"version": 1, "stage": stage("谈判").pk})
    assert r.status_code == 200 and r.json()["stage"]["name"] == "谈判"
    r = api.post(f"{API}/opportunities/{opp.pk}/lose", {"version": 2, "reason": "价格", "competitor": ""})
    assert r.status_code == 422 and r.json()["field"] == "competitor"
    r = api.post(f"{API}/opportunities/{opp.pk}/lose", {"version": 2, "reason": "价格"})
    assert r.status_code == 422 and r.json()["field"] == "competitor"
    r = api.post(f"{API}/opportunities/{opp.pk}/lose", {"version": 2, "reason": "价格", "competitor": "某厂"})
    assert r.status_code == 200 and r.json()["status"] == "lost" and r.json()["lost_to"] == "某厂"
    assert api.post(f"{API}/opportunities/{opp.pk}/reopen", {"version": 3}).status_code == 403
    r = api_as(manager_east).post(f"{API}/opportunities/{opp.pk}/reopen", {"version": 3})
    assert r.status_code == 200 and r.json()["stage"]["name"] == "初步接触"
    r = api.post(f"{API}/opportunities/{opp.pk}/invalidate", {"version": 4, "reason": "重复"})
    assert r.json()["status"] == "invalid"
    history = api.get(f"{API}/opportunities/{opp.pk}/stage-changes").json()
    assert [h["to_stage"] for h in history] == ["无效", "初步接触", "输单", "谈判", "初步接触"]
    other = make_opportunity(rep_east, name="要赢的")
    assert (
        api.post(f"{API}/opportunities/{other.pk}/win", {"version": 1, "reason": "签了"}).json()["status"]
        == "won"
    )


def test_transfer_and_delete(api_as: Any, rep_east: Any, rep_west: Any) -> None:
    api = api_as(rep_east)
    opp = make_opportunity(rep_east)
    r = api.post(f"{API}/opportunities/{opp.pk}/transfer", {"version": 1, "to_user": rep_west.pk})
    assert r.status_code == 200 and r.json()["owner"]["id"] == rep_west.pk
    assert r.json()["department"]["name"] == "华南销售部"
    # Now out of rep_east's scope.
    assert api.get(f"{API}/opportunities/{opp.pk}").status_code == 404
    west = api_as(rep_west)
    assert west.delete(f"{API}/opportunities/{opp.pk}").status_code == 204
    assert west.get(f"{API}/opportunities/{opp.pk}").status_code == 404


def test_lines_buying_centre_and_competitors(api_as: Any, rep_east: Any) -> None:
    api = api_as(rep_east)
    customer = make_customer(rep_east)
    boss = make_contact(customer, rep_east, "李总")
    opp = make_opportunity(rep_east, customer=customer)
    api.post(f"{API}/opportunities/{opp.pk}/move", {"version": 1, "stage": stage("方案/报价").pk})
    product = make_product(price="500")
    r = api.post(
        f"{API}/opportunities/{opp.pk}/lines", {"product": product.pk, "quantity": "4", "discount": "25"}
    )
    assert r.status_code == 201 and r.json()["amount"] == "1500.00"
    line_id = r.json()["id"]
    assert (
        api.patch(f"{API}/opportunities/{opp.pk}/lines/{line_id}", {"quantity": "2"}).json()["amount"]
        == "750.00"
    )
    detail = api.patch(f"{API}/opportunities/{opp.pk}", {"version": 2, "amount_from_lines": True}).json()
    assert detail["amount"] == "750.00"
    assert api.delete(f"{API}/opportunities/{opp.pk}/lines/{line_id}").status_code == 204

    bc = api.get(f"{API}/opportunities/{opp.pk}/buying-centre").json()
    assert [w["code"] for w in bc["warnings"]] == ["no_supporting_decider"]
    r = api.post(
        f"{API}/opportunities/{opp.pk}/buying-centre",
        {"contact": boss.pk, "roles": ["decider"], "stance": "supporter", "influence": 5},
    )
    assert r.status_code == 201 and r.json()["role_labels"] == ["决策者"]
    member_id = r.json()["id"]
    bc = api.get(f"{API}/opportunities/{opp.pk}/buying-centre").json()
    assert [w["code"] for w in bc["warnings"]] == ["single_supporter"]
    r = api.patch(f"{API}/opportunities/{opp.pk}/buying-centre/{member_id}", {"influence": 7})
    assert r.status_code == 422 and r.json()["field"] == "influence"
    assert api.delete(f"{API}/opportunities/{opp.pk}/buying-centre/{member_id}").status_code == 204

    r = api.post(f"{API}/opportunities/{opp.pk}/competitors", {"name": "某外资", "price_position": "higher"})
    assert r.status_code == 201
    cid = r.json()["id"]
    assert (
        api.patch(f"{API}/opportunities/{opp.pk}/competitors/{cid}", {"weaknesses": "交期"}).json()[
            "weaknesses"
        ]
        == "交期"
    )
    assert [c["name"] for c in api.get(f"{API}/opportunities/{opp.pk}/competitors").json()] == ["某外资"]
    assert api.delete(f"{API}/opportunities/{opp.pk}/competitors/{cid}").status_code == 204


def test_board_and_forecast(api_as: Any, rep_east: Any, manager_east: Any) -> None:
    for n in range(3):
        make_opportunity(rep_east, name=f"看板{n}", amount="1000")
    api = api_as(manager_east)
    board = api.get(f"{API}/pipeline/board", {"per_column": 2}).json()
    first = board["columns"][0]
    assert (first["count"], len(first["cards"]), first["has_more"]) == (3, 2, True)
    assert first["totals"] == [{"currency": "CNY", "amount": "3000.00", "weighted": "300.00"}]
    group = StageGroup.objects.get(is_default=True)
    more = api.get(
        f"{API}/pipeline/board/{group.pk}/stages/{first['stage']['id']}/cards", {"offset": 2}
    ).json()
    assert len(more) == 1
    forecast = api.get(f"{API}/pipeline/forecast", {"scope": "team", "by": "owner"}).json()
    assert forecast["items"] == [
        {
            "key": str(rep_east.pk),
            "label": "张华东",
            "currency": "CNY",
            "count": 3,
            "amount": "3000.00",
            "weighted": "300.00",
        }
    ]
    refused = api_as(rep_east).get(f"{API}/pipeline/forecast", {"scope": "all"})
    assert refused.status_code == 403 and refused.json()["field"] == "scope"


def test_stage_groups(api_as: Any, manager_east: Any, rep_east: Any, cast: Any) -> None:
    body = {
        "name": "渠道销售",
        "stages": [
            {"name": "报备", "probability": 20},
            {"name": "签约前", "probability": 70, "past_proposal": True},
        ],
        "departments": [cast.west.pk],
    }
    assert api_as(rep_east).post(f"{API}/stage-groups", body).status_code == 403
    api = api_as(manager_east)
    r = api.post(f"{API}/stage-groups", body)
    assert r.status_code == 201, r.content
    group = r.json()
    assert [s["name"] for s in group["stages"]] == ["报备", "签约前", "赢单", "输单", "无效"]
    bad = api.patch(
        f"{API}/stage-groups/{group['id']}",
        {
            "version": group["version"],
            "stages": [{"name": "a", "probability": 90}, {"name": "b", "probability": 10}],
        },
    )
    assert bad.status_code == 422 and bad.json()["field"] == "probability"
    ok = api.patch(f"{API}/stage-groups/{group['id']}", {"version": group["version"], "name": "渠道"})
    assert ok.status_code == 200 and ok.json()["name"] == "渠道"
    assert (
        api.patch(f"{API}/stage-groups/{group['id']}", {"version": group["version"], "name": "x"}).status_code
        == 409
    )
    assert len(api_as(rep_east).get(f"{API}/stage-groups").json()) == 2
