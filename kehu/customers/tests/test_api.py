"""The customer REST API through its real URLs (/api/v1/…): auth, envelopes, errors, masking, scope, docs."""

from __future__ import annotations

import json
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from kehu.audit.models import AuditEvent
from kehu.customers.models import Contact, Customer, CustomerCollaborator

from .factories import credit_code, customer_data, make_contact, make_customer

pytestmark = pytest.mark.django_db

MASKED_MOBILE = re.compile(r"^1\d{2}\*{4}\d{4}$")


def archive_only(nothing_changes: Any) -> Any:
    """``nothing_changes`` over the archive and the audit log (API calls touch their token's last use)."""
    return nothing_changes(Customer, Customer.tags.through, Contact, CustomerCollaborator, AuditEvent)


# --- authentication -------------------------------------------------------------------------------


def test_a_user_exchanges_username_and_password_for_a_token_and_uses_it_as_bearer(
    cast: SimpleNamespace,
) -> None:
    client = Client()
    response = client.post(
        "/api/v1/auth/token",
        {"username": "rep_east", "password": cast.password},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("kehu_")

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == "rep_east"


def test_a_wrong_password_gets_no_token(cast: SimpleNamespace) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        {"username": "rep_east", "password": "wrong-password"},
        content_type="application/json",
    )
    assert response.status_code in (401, 422)
    assert "token" not in response.json()
    assert response.json()["field"] == "password"


@pytest.mark.parametrize("header", [None, "Bearer kehu_not-a-real-token", "Bearer ", "Basic cmVwOnB3"])
def test_the_api_refuses_requests_without_valid_credentials(
    cast: SimpleNamespace, header: str | None
) -> None:
    make_customer(cast.rep_east)
    headers = {"Authorization": header} if header else {}
    response = Client().get("/api/v1/customers", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert set(body) >= {"code", "message", "field"}
    assert "items" not in body


# --- list ---------------------------------------------------------------------------------------------


def test_the_customer_list_paginates_with_items_and_count(cast: SimpleNamespace, api_as: Any) -> None:
    for name in ("Alpha贸易", "Bravo贸易", "Charlie贸易"):
        make_customer(cast.rep_east, name=name)
    api = api_as(cast.rep_east)

    body = api.get("/api/v1/customers", {"sort": "name", "limit": 2}).json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 3
    assert [c["name"] for c in body["items"]] == ["Alpha贸易", "Bravo贸易"]

    body = api.get("/api/v1/customers", {"sort": "name", "limit": 2, "offset": 2}).json()
    assert [c["name"] for c in body["items"]] == ["Charlie贸易"]
    assert body["count"] == 3


def test_filters_are_query_parameters(cast: SimpleNamespace, api_as: Any) -> None:
    make_customer(cast.rep_east, name="华为技术有限公司", industry="it", size="large")
    make_customer(cast.rep_east, kind="individual", name="单雄信")
    make_customer(cast.admin, name="公海客户", owner=None)
    api = api_as(cast.rep_east)

    def names(**params: Any) -> list[str]:
        response = api.get("/api/v1/customers", params)
        assert response.status_code == 200, response.content
        return sorted(c["name"] for c in response.json()["items"])

    assert names(q="hw") == ["华为技术有限公司"]
    assert names(q="sxx") == ["单雄信"]
    assert names(kind="individual") == ["单雄信"]
    assert names(industry="it", size="large") == ["华为技术有限公司"]
    assert names(scene="pool") == ["公海客户"]
    assert names(scene="mine", owner=cast.rep_east.pk) == ["华为技术有限公司", "单雄信"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"offset": -1}, "offset"),
        ({"value_tier": "diamond"}, "value_tier"),
        ({"scene": "everything"}, "scene"),
        ({"sort": "secret"}, "sort"),
    ],
)
def test_a_bad_query_parameter_is_a_422_naming_it(
    cast: SimpleNamespace, api_as: Any, params: dict[str, Any], field: str
) -> None:
    response = api_as(cast.rep_east).get("/api/v1/customers", params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == field
    assert body["message"]


# --- create -----------------------------------------------------------------------------------------------


def test_creating_a_customer_answers_201_with_the_record(cast: SimpleNamespace, api_as: Any) -> None:
    response = api_as(cast.rep_east).post(
        "/api/v1/customers",
        {
            "name": "华为技术有限公司",
            "credit_code": credit_code(),
            "mobile": "13812345678",
            "tags": ["重点"],
            "industry": "it",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "华为技术有限公司"
    assert body["owner"] == {"id": cast.rep_east.pk, "name": cast.rep_east.label}
    assert body["version"] == 1
    assert body["tags"] == ["重点"]
    assert body["industry"] == "it"
    assert Customer.objects.filter(pk=body["id"], owner=cast.rep_east).exists()


def test_an_unknown_body_field_is_a_422_naming_it_and_writes_nothing(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    api = api_as(cast.rep_east)
    with archive_only(nothing_changes):
        response = api.post("/api/v1/customers", {"name": "某公司", "favourite_colour": "红"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == "favourite_colour"
    assert "favourite_colour" in body["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "某公司", "mobile": "12345"}, "mobile"),
        ({"name": "某公司", "credit_code": "91310000000000001A"}, "credit_code"),
        ({"name": "某公司", "email": "nope"}, "email"),
        ({}, "name"),
        ({"name": "某公司", "tags": "not-a-list"}, "tags"),
    ],
)
def test_bad_input_is_a_422_with_code_message_and_field_and_writes_nothing(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any, payload: dict[str, Any], field: str
) -> None:
    api = api_as(cast.rep_east)
    with archive_only(nothing_changes):
        response = api.post("/api/v1/customers", payload)
    assert response.status_code == 422
    body = response.json()
    assert {"code", "message", "field"} <= set(body)
    assert body["code"] == "invalid"
    assert body["field"] == field
    assert isinstance(body["message"], str) and body["message"]


def test_a_duplicate_is_a_409_listing_the_matches(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    original = make_customer(cast.rep_east, name="华为技术有限公司")
    api = api_as(cast.rep_east)

    with archive_only(nothing_changes):
        response = api.post("/api/v1/customers", customer_data(name="华为技术（深圳）有限公司"))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate"
    assert body["blocking"] is False
    assert body["matches"][0]["customer_id"] == original.pk
    assert body["matches"][0]["name"] == "华为技术有限公司"

    confirmed = api.post(
        "/api/v1/customers", {**customer_data(name="华为技术（深圳）有限公司"), "confirm_duplicates": True}
    )
    assert confirmed.status_code == 201


def test_a_duplicate_owned_by_someone_out_of_scope_shows_only_the_owner(
    cast: SimpleNamespace, api_as: Any
) -> None:
    code = credit_code()
    make_customer(cast.rep_east, name="华为技术有限公司", credit_code=code)

    response = api_as(cast.rep_west).post(
        "/api/v1/customers", customer_data(name="别的名字", credit_code=code)
    )

    assert response.status_code == 409
    body = response.json()
    assert body["blocking"] is True
    match = body["matches"][0]
    assert match["customer_id"] is None and match["name"] is None and match["visible"] is False
    assert match["owner_name"] == cast.rep_east.label
    assert "华为" not in response.content.decode()


def test_the_duplicate_check_endpoint_reports_before_saving(cast: SimpleNamespace, api_as: Any) -> None:
    make_customer(cast.rep_east, name="华为技术有限公司", mobile="13812345678")
    body = api_as(cast.rep_east).post("/api/v1/customers/duplicates", {"name": "华为技术股份有限公司"}).json()
    assert [m["name"] for m in body["matches"]] == ["华为技术有限公司"]
    assert body["blocking"] is False


# --- update -------------------------------------------------------------------------------------------------


def test_patch_with_the_current_version_updates(cast: SimpleNamespace, api_as: Any) -> None:
    customer = make_customer(cast.rep_east)
    response = api_as(cast.rep_east).patch(f"/api/v1/customers/{customer.pk}", {"version": 1, "city": "苏州"})
    assert response.status_code == 200
    assert response.json()["city"] == "苏州"
    assert response.json()["version"] == 2


def test_patch_with_a_stale_version_is_a_409_and_changes_nothing(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    api = api_as(cast.rep_east)
    assert api.patch(f"/api/v1/customers/{customer.pk}", {"version": 1, "city": "苏州"}).status_code == 200

    with archive_only(nothing_changes):
        response = api.patch(f"/api/v1/customers/{customer.pk}", {"version": 1, "city": "无锡"})

    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"
    assert response.json()["field"] == "version"


def test_patch_without_a_version_is_refused(cast: SimpleNamespace, api_as: Any, nothing_changes: Any) -> None:
    customer = make_customer(cast.rep_east)
    api = api_as(cast.rep_east)
    with archive_only(nothing_changes):
        response = api.patch(f"/api/v1/customers/{customer.pk}", {"city": "无锡"})
    assert response.status_code == 422
    assert response.json()["field"] == "version"


# --- masking and reveal (SEC-2) ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep_east", "manager_east", "admin", "agent", "auditor", "marketing"])
def test_the_mobile_is_masked_in_list_and_detail_for_everyone(
    cast: SimpleNamespace, api_as: Any, who: str
) -> None:
    customer = make_customer(cast.rep_east, mobile="13812345678")
    api = api_as(getattr(cast, who))

    listed = api.get("/api/v1/customers")
    detail = api.get(f"/api/v1/customers/{customer.pk}")

    assert listed.json()["items"][0]["mobile_masked"] == "138****5678"
    assert detail.json()["mobile_masked"] == "138****5678"
    assert MASKED_MOBILE.match(detail.json()["mobile_masked"])
    for response in (listed, detail):
        assert "13812345678" not in response.content.decode()


def test_contacts_mobiles_are_masked_too(cast: SimpleNamespace, api_as: Any) -> None:
    customer = make_customer(cast.rep_east)
    make_contact(customer, cast.rep_east, name="张三", mobile="13698761234")
    response = api_as(cast.rep_east).get(f"/api/v1/customers/{customer.pk}/contacts")
    assert response.json()["items"][0]["mobile_masked"] == "136****1234"
    assert "13698761234" not in response.content.decode()


def test_reveal_returns_the_full_number_and_is_audited(cast: SimpleNamespace, api_as: Any) -> None:
    customer = make_customer(cast.rep_east, mobile="13812345678")

    response = api_as(cast.agent).post(f"/api/v1/customers/{customer.pk}/reveal")

    assert response.status_code == 200
    assert response.json()["mobile"] == "13812345678"
    event = AuditEvent.objects.get(verb="reveal")
    assert (event.actor, event.customer_id) == (cast.agent, customer.pk)


def test_reveal_without_the_permission_is_a_403_and_not_audited(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east, mobile="13812345678")
    api = api_as(cast.marketing)
    with archive_only(nothing_changes):
        response = api.post(f"/api/v1/customers/{customer.pk}/reveal")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "13812345678" not in response.content.decode()


# --- data scope through the API (SEC-1) ----------------------------------------------------------------------


def test_a_rep_of_another_department_gets_404_for_a_customer_outside_their_scope(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east, name="华东的客户")
    api = api_as(cast.rep_west)
    url = f"/api/v1/customers/{customer.pk}"

    with archive_only(nothing_changes):
        responses = [
            api.get(url),
            api.patch(url, {"version": 1, "name": "被改了"}),
            api.post(f"{url}/reveal"),
            api.get(f"{url}/contacts"),
            api.get(f"{url}/timeline"),
            api.post(f"{url}/contacts", {"name": "偷偷加"}),
            api.post(f"{url}/transfer", {"to_user": cast.rep_west.pk, "reason": "抢"}),
        ]
        # A rep may not delete at all: 403 whatever the id, so it tells nothing about this customer.
        refused_delete = api.delete(url)

    for response in responses:
        assert response.status_code == 404, (response.request["PATH_INFO"], response.content)
        assert response.json()["code"] == "not_found"
        assert "华东的客户" not in response.content.decode()
    assert refused_delete.status_code == 403
    assert refused_delete.json() == api.delete("/api/v1/customers/987654").json()
    assert api.get("/api/v1/customers").json()["count"] == 0
    assert api.get("/api/v1/customers", {"q": "华东的客户"}).json()["count"] == 0


def test_a_manager_of_another_department_gets_404_when_deleting_outside_their_scope(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    from kehu.access.services import user_create

    manager_west = user_create(
        username="manager_west",
        password=cast.password,
        department=cast.west,
        role_codes=["sales_manager"],
        by=None,
    )
    customer = make_customer(cast.rep_east, name="华东的客户")
    api = api_as(manager_west)

    with archive_only(nothing_changes):
        responses = [
            api.get(f"/api/v1/customers/{customer.pk}"),
            api.delete(f"/api/v1/customers/{customer.pk}"),
            api.patch(f"/api/v1/customers/{customer.pk}", {"version": 1, "notes": "x"}),
        ]

    assert [r.status_code for r in responses] == [404, 404, 404]


def test_a_rep_may_not_delete_even_their_own_customer(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east)
    api = api_as(cast.rep_east)
    with archive_only(nothing_changes):
        response = api.delete(f"/api/v1/customers/{customer.pk}")
    assert response.status_code == 403


def test_a_manager_deletes_restores_and_the_recycle_bin_lists_it(cast: SimpleNamespace, api_as: Any) -> None:
    customer = make_customer(cast.rep_east)
    api = api_as(cast.manager_east)

    assert api.delete(f"/api/v1/customers/{customer.pk}").status_code == 204
    assert api.get(f"/api/v1/customers/{customer.pk}").status_code == 404
    assert [c["id"] for c in api.get("/api/v1/recycle-bin").json()["items"]] == [customer.pk]
    assert api.post(f"/api/v1/recycle-bin/{customer.pk}/restore").status_code == 200
    assert api.get(f"/api/v1/customers/{customer.pk}").status_code == 200


def test_an_owner_adds_a_read_only_collaborator_who_then_sees_but_cannot_edit(
    cast: SimpleNamespace, api_as: Any, nothing_changes: Any
) -> None:
    customer = make_customer(cast.rep_east, name="协作客户")
    owner, helper = api_as(cast.rep_east), api_as(cast.rep_west)

    added = owner.put(f"/api/v1/customers/{customer.pk}/collaborators", {"user_id": cast.rep_west.pk})
    assert added.status_code == 200
    assert added.json() == {"user_id": cast.rep_west.pk, "name": cast.rep_west.label, "can_edit": False}
    assert helper.get(f"/api/v1/customers/{customer.pk}").json()["name"] == "协作客户"
    assert [
        c["name"] for c in helper.get("/api/v1/customers", {"scene": "collaborating"}).json()["items"]
    ] == ["协作客户"]

    with archive_only(nothing_changes):
        refused = helper.patch(f"/api/v1/customers/{customer.pk}", {"version": 1, "name": "改掉"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "read_only"

    assert (
        owner.delete(f"/api/v1/customers/{customer.pk}/collaborators/{cast.rep_west.pk}").status_code == 204
    )
    assert helper.get(f"/api/v1/customers/{customer.pk}").status_code == 404


def test_the_timeline_shows_who_changed_what(cast: SimpleNamespace, api_as: Any) -> None:
    customer = make_customer(cast.rep_east)
    api = api_as(cast.rep_east)
    api.patch(f"/api/v1/customers/{customer.pk}", {"version": 1, "city": "宁波"})

    timeline = api.get(f"/api/v1/customers/{customer.pk}/timeline").json()

    assert [(e["verb"], e["actor"]) for e in timeline] == [
        ("update", cast.rep_east.label),
        ("create", cast.rep_east.label),
    ]
    assert timeline[0]["changes"] == {"city": ["", "宁波"]}


# --- conventions: timestamps, language, OpenAPI, docs ---------------------------------------------------------


def test_timestamps_are_iso_8601_with_an_offset(cast: SimpleNamespace, api_as: Any) -> None:
    customer = make_customer(cast.rep_east)
    body = api_as(cast.rep_east).get(f"/api/v1/customers/{customer.pk}").json()
    for key in ("created_at", "updated_at"):
        parsed = datetime.fromisoformat(body[key])
        assert parsed.tzinfo is not None and parsed.utcoffset() is not None, body[key]
    item = api_as(cast.rep_east).get("/api/v1/customers").json()["items"][0]
    assert datetime.fromisoformat(item["updated_at"]).tzinfo is not None


def test_errors_come_in_chinese_by_default_and_in_english_on_request(
    cast: SimpleNamespace, api_as: Any
) -> None:
    chinese = api_as(cast.rep_east).post("/api/v1/customers", {"name": "某公司", "mobile": "123"}).json()
    english = (
        api_as(cast.rep_east, language="en")
        .post("/api/v1/customers", {"name": "某公司", "mobile": "123"})
        .json()
    )

    assert chinese["field"] == english["field"] == "mobile"
    assert re.search(r"[\u4e00-\u9fff]", chinese["message"])
    assert set(chinese["messages"]) == {"zh-hans", "en"}
    assert english["message"] == english["messages"]["en"]
    assert not re.search(r"[\u4e00-\u9fff]", english["message"]), english["message"]


def test_schema_errors_come_in_both_languages_too(cast: SimpleNamespace, api_as: Any) -> None:
    english = api_as(cast.rep_east, language="en").post("/api/v1/customers", {"name": "x", "bogus": 1}).json()
    chinese = api_as(cast.rep_east).post("/api/v1/customers", {"name": "x", "bogus": 1}).json()
    assert english["message"] == "Unknown field: bogus"
    assert chinese["message"] == "未知字段：bogus"


def test_the_openapi_document_is_valid_json_listing_the_paths(cast: SimpleNamespace) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/reveal",
        "/api/v1/audit",
    ):
        assert path in document["paths"], path
    assert "bearer" in json.dumps(document["components"]["securitySchemes"]).lower()


def test_the_interactive_docs_load_their_assets_locally(cast: SimpleNamespace) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "http://" not in page and "https://" not in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    for url in assets:
        assert url.startswith("/"), url
    for url in assets:
        if url.endswith((".js", ".css")):
            assert Client().get(url).status_code == 200, url
