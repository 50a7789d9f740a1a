"""The product catalogue (SAL-9): rules, services, selectors, pictures, API, pages and the import kind."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.catalog import selectors, services
from kehu.catalog.models import Product
from kehu.catalog.rules import clean_product, product_search_text
from kehu.core.errors import Conflict, PermissionDenied, ValidationError

from .factories import make_product, png_bytes

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_search_text_holds_name_pinyin_initials_code_and_model() -> None:
    text = product_search_text(name="步进电机", code="SM-100", model="X1")
    assert (
        "步进电机" in text and "bujindianji" in text and "bjdj" in text and "sm-100" in text and "x1" in text
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "", "name": "x"}, "code"),
        ({"code": "a b", "name": "x"}, "code"),
        ({"code": "A1", "name": ""}, "name"),
        ({"code": "A1", "name": "x", "price": "-1"}, "price"),
        ({"code": "A1", "name": "x", "cost": "1.234"}, "cost"),
        ({"code": "A1", "name": "x", "risk_level": "R9"}, "risk_level"),
        ({"code": "A1", "name": "x", "currency": "RMB1"}, "currency"),
        ({"code": "A1", "name": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_product_fields_are_refused_naming_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_product(data, creating=True)
    assert caught.value.field == field


def test_an_admin_adds_edits_deactivates_and_reactivates_a_product(admin: Any) -> None:
    product = make_product(admin, code="SM-100", name="步进电机", picture=png_bytes())
    assert product.picture.name.endswith(".png") and product.search_text
    services.product_update(
        product_id=product.pk, version=product.version, data={"price": "1680.00"}, by=admin
    )
    product.refresh_from_db()
    assert product.price == Decimal("1680.00") and product.version == 2
    with pytest.raises(Conflict):
        services.product_update(product_id=product.pk, version=1, data={"price": "1.00"}, by=admin)
    services.product_deactivate(product_id=product.pk, by=admin)
    with pytest.raises(Conflict):
        services.product_deactivate(product_id=product.pk, by=admin)
    services.product_reactivate(product_id=product.pk, by=admin)
    product.refresh_from_db()
    assert product.is_active and product.price == Decimal("1680.00")
    verbs = list(AuditEvent.objects.filter(subject_type="product").values_list("verb", flat=True))
    assert {"create", "update", "deactivate", "reactivate"} <= set(verbs)


def test_a_duplicate_code_and_a_fake_picture_are_refused_and_nothing_is_written(admin: Any) -> None:
    make_product(admin, code="SM-100")
    with pytest.raises(ValidationError) as caught:
        make_product(admin, code="sm-100")
    assert caught.value.field == "code"
    with pytest.raises(ValidationError) as caught:
        make_product(admin, code="SM-200", picture=b"<?php echo 1; ?>")
    assert caught.value.field == "picture"
    assert Product.objects.count() == 1


def test_a_sales_rep_may_see_but_not_change_the_catalogue(admin: Any, rep_east: Any) -> None:
    product = make_product(admin, name="控制器")
    with pytest.raises(PermissionDenied):
        services.product_update(product_id=product.pk, version=1, data={"name": "改名"}, by=rep_east)
    with pytest.raises(PermissionDenied):
        services.product_create(data={"code": "X", "name": "x"}, by=rep_east)
    product.refresh_from_db()
    assert product.name == "控制器" and Product.objects.count() == 1
    assert selectors.product_get(actor=rep_east, product_id=product.pk) == product


def test_list_searches_by_pinyin_initials_code_and_model_and_filters(admin: Any) -> None:
    make_product(admin, code="SM-100", name="步进电机", model="SMX", category="电机")
    make_product(admin, code="HMI-7", name="触摸屏", category="人机界面", risk_level="")
    fund = make_product(admin, code="FP-1", name="债券基金", risk_level="R2", category="理财")
    services.product_deactivate(product_id=fund.pk, by=admin)
    for q in ("bjdj", "bujin", "步进", "sm-1", "smx"):
        assert [p.code for p in selectors.product_list(actor=admin, filters={"q": q}).items] == ["SM-100"]
    assert selectors.product_list(actor=admin, filters={"active": "0"}).count == 1
    assert selectors.product_list(actor=admin, filters={"risk_level": "R2"}).count == 1
    assert selectors.product_list(actor=admin, filters={"category": "电机"}).count == 1
    assert selectors.product_list(actor=admin, sort="-code").items[0].code == "SM-100"
    with pytest.raises(ValidationError):
        selectors.product_list(actor=admin, sort="cost")


def test_api_creates_lists_updates_and_serves_the_picture(admin: Any, rep_east: Any) -> None:
    client = _client(admin)
    created = client.post("/api/v1/products", json.dumps({"code": "SM-100", "name": "步进电机", "price": "10"}),
                          content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    unknown = client.post("/api/v1/products", json.dumps({"code": "X", "name": "x", "colour": "red"}),
                          content_type="application/json")  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["field"] == "colour"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = client.post(
        f"/api/v1/products/{pid}/picture", {"file": SimpleUploadedFile("a.png", png_bytes())}
    )
    assert upload.status_code == 200 and upload.json()["picture_url"]
    assert client.get(upload.json()["picture_url"]).status_code == 200
    stale = client.patch(f"/api/v1/products/{pid}", json.dumps({"version": 1, "name": "x"}),
                         content_type="application/json")  # fmt: skip
    assert stale.status_code == 409
    rep = _client(rep_east)
    assert rep.get("/api/v1/products?q=bjdj").json()["count"] == 1
    refused = rep.post(f"/api/v1/products/{pid}/deactivate")
    assert refused.status_code == 403 and Product.objects.get().is_active


def test_pages_list_detail_create_edit_and_toggle(admin: Any, rep_east: Any) -> None:
    client = _client(admin)
    assert 'data-testid="empty"' in client.get(reverse("catalog:list")).content.decode()
    bad = client.post(reverse("catalog:create"), {"code": "A 1", "name": "x", "unit": "台", "unit_kind": "piece",
                                                  "price": "1", "cost": "1", "currency": "CNY"})  # fmt: skip
    assert "产品编号只能包含" in bad.content.decode() and Product.objects.count() == 0
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("catalog:create"), {
        "code": "SM-100", "name": "步进电机", "unit": "台", "unit_kind": "piece", "price": "1680", "cost": "1000",
        "currency": "CNY", "picture": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png"),
    })  # fmt: skip
    product = Product.objects.get()
    assert response.status_code == 302 and product.picture
    detail = client.get(reverse("catalog:detail", args=[product.pk])).content.decode()
    assert "步进电机" in detail and 'data-testid="product-picture"' in detail
    edit = client.post(reverse("catalog:edit", args=[product.pk]), {
        "code": "SM-100", "name": "步进电机 II", "unit": "台", "unit_kind": "piece", "price": "1680", "cost": "1000",
        "currency": "CNY", "version": product.version,
    })  # fmt: skip
    assert edit.status_code == 302
    client.post(reverse("catalog:toggle", args=[product.pk, "deactivate"]))
    product.refresh_from_db()
    assert product.name == "步进电机 II" and not product.is_active
    listed = _client(rep_east).get(reverse("catalog:list") + "?q=bjdj")
    assert (
        "步进电机 II" in listed.content.decode()
        and 'data-testid="new-product"' not in listed.content.decode()
    )
    assert _client(rep_east).get(reverse("catalog:create")).status_code == 403


def test_products_import_from_a_spreadsheet_with_dry_run_and_update(admin: Any) -> None:
    from kehu.imports.services import import_run_file as import_run

    make_product(admin, code="SM-100", name="步进电机", price="1000")
    data = "产品编号,产品名称,型号,标准单价,风险等级\nSM-100,步进电机,SM-100,1680,\nHMI-7,触摸屏,,1450,\nBAD 1,坏行,,x,\n".encode()
    batch = import_run(kind="products", name="p.csv", data=data, by=admin, dry_run=True)
    assert Product.objects.count() == 1
    problems = list(batch.problems.values_list("row", "field"))
    assert any(field == "code" for _row, field in problems)
    fixed = "产品编号,产品名称,型号,标准单价\nSM-100,步进电机,SM-100,1680\nHMI-7,触摸屏,,1450\n".encode()
    import_run(kind="products", name="p.csv", data=fixed, by=admin, dry_run=False, on_duplicate="update")
    assert Product.objects.get(code="SM-100").price == Decimal("1680.00")
    assert Product.objects.get(code="HMI-7").search_text.startswith("触摸屏")


def test_kehu_import_products_from_an_xlsx_file(admin: Any, tmp_path: Any) -> None:
    from django.core.management import call_command
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["产品编号", "产品名称", "型号", "标准单价", "成本单价", "风险等级"])
    sheet.append(["SM-100", "步进电机", "SM-100", 1680, 1050, ""])
    sheet.append(["FP-1", "债券基金", "", 1, 0, "R2"])
    path = tmp_path / "products.xlsx"
    book.save(path)
    call_command("import", "products", str(path), "--user", "admin")
    assert {p.code: p.risk_level for p in Product.objects.all()} == {"SM-100": "", "FP-1": "R2"}
    assert selectors.product_list(actor=admin, filters={"q": "bjdj"}).count == 1


def test_the_product_picker_offers_products_on_sale_matching_the_search(admin: Any, rep_east: Any) -> None:
    make_product(admin, code="SM-100", name="步进电机")
    old = make_product(admin, code="SM-50", name="步进电机（停产）")
    services.product_deactivate(product_id=old.pk, by=admin)
    html = _client(rep_east).get(reverse("catalog:picker") + "?q=bjdj").content.decode()
    assert "SM-100" in html and "SM-50" not in html
