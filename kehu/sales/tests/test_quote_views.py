"""The quote pages (SAL-5) as the cast uses them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.catalog.tests.factories import make_product, png_bytes
from kehu.sales.models import Quote, QuoteLine

from .factories import add_line, make_customer, make_quote

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def product(admin: Any) -> Any:
    return make_product(
        admin, name="伺服电机", model="SM-100", price="1000.00", cost="600.00", picture=png_bytes()
    )


def test_a_rep_creates_a_quote_adds_lines_with_htmx_and_sees_totals_in_words(
    rep_east: Any, product: Any
) -> None:
    customer = make_customer(rep_east)
    client = _client(rep_east)
    assert client.get(reverse("sales:quote_create")).status_code == 200
    page = client.get(reverse("sales:quote_create") + f"?customer={customer.pk}")
    assert page.status_code == 200 and "新建报价" in page.content.decode()

    refused = client.post(
        reverse("sales:quote_create"), {"customer": customer.pk, "title": "报价单", "currency": "CNY"}
    )
    assert refused.status_code == 200
    assert "不能只写“报价单”" in refused.content.decode()
    assert Quote.objects.count() == 0

    created = client.post(
        reverse("sales:quote_create"),
        {"customer": customer.pk, "title": "二期产线伺服电机报价", "currency": "CNY"},
    )
    quote = Quote.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse(
        "sales:quote_detail", args=[quote.pk]
    )

    url = reverse("sales:quote_line_add", args=[quote.pk])
    answer = client.post(url, {"product": product.pk, "quantity": "12"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "12,000.00" in html or "12000.00" in html
    assert "人民币壹万贰仟元整" in html

    bad = client.post(url, {"product": product.pk, "quantity": "-1"}, HTTP_HX_REQUEST="true")
    assert "数量" in bad.content.decode() and QuoteLine.objects.count() == 1

    line = QuoteLine.objects.get()
    edit = client.get(reverse("sales:quote_line_edit", args=[quote.pk, line.pk]), HTTP_HX_REQUEST="true")
    assert 'data-testid="line-edit-row"' in edit.content.decode()
    client.post(
        reverse("sales:quote_line_edit", args=[quote.pk, line.pk]),
        {"product": product.pk, "name": line.name, "quantity": "10", "unit_price": "1000", "discount": "5",
         "unit_cost": "600"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    quote.refresh_from_db()
    assert quote.total == Decimal("9500.00")

    detail = client.get(reverse("sales:quote_detail", args=[quote.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert (
        "二期产线伺服电机报价" in body and "人民币玖仟伍佰元整" in body and 'data-testid="revisions"' in body
    )


def test_the_pdf_and_excel_downloads_and_the_line_picture(rep_east: Any, product: Any) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    line = add_line(rep_east, quote, product, quantity="2")
    client = _client(rep_east)
    pdf = client.get(reverse("sales:quote_pdf", args=[quote.pk]))
    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF")
    )
    xlsx = client.get(reverse("sales:quote_xlsx", args=[quote.pk]))
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    picture = client.get(reverse("sales:quote_line_picture", args=[line.pk]))
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"


def test_another_team_neither_sees_nor_downloads_the_quote(
    rep_east: Any, rep_west: Any, product: Any
) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    client = _client(rep_west)
    for name in ("sales:quote_detail", "sales:quote_pdf", "sales:quote_xlsx"):
        assert client.get(reverse(name, args=[quote.pk])).status_code == 404
    assert "二期产线" not in client.get(reverse("sales:quote_list")).content.decode()


def test_list_filters_sorts_paginates_and_shows_an_empty_state(rep_east: Any) -> None:
    client = _client(rep_east)
    empty = client.get(reverse("sales:quote_list"))
    assert 'data-testid="empty"' in empty.content.decode()
    customer = make_customer(rep_east)
    for i in range(3):
        make_quote(rep_east, customer, title=f"伺服系统第{i}期报价")
    listed = client.get(reverse("sales:quote_list") + "?q=第1期&sort=-total")
    html = listed.content.decode()
    assert "伺服系统第1期报价" in html and "伺服系统第2期报价" not in html
    bad = client.get(reverse("sales:quote_list") + "?sort=nonsense")
    assert 'data-testid="list-error"' in bad.content.decode()
    paged = client.get(reverse("sales:quote_list") + "?limit=2")
    assert 'data-testid="next"' in paged.content.decode()


def test_sending_a_quote_whose_discount_needs_approval_is_refused_on_the_page(
    rep_east: Any, product: Any
) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    add_line(rep_east, quote, product, quantity="1", discount="30")
    client = _client(rep_east)
    response = client.post(reverse("sales:quote_transition", args=[quote.pk, "send"]), follow=True)
    assert "审批通过后才能发送" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == "draft"


def test_revise_and_mark_accepted_from_the_page(rep_east: Any, product: Any) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    add_line(rep_east, quote, product, quantity="1")
    client = _client(rep_east)
    client.post(reverse("sales:quote_transition", args=[quote.pk, "send"]))
    client.post(reverse("sales:quote_transition", args=[quote.pk, "accept"]), {"note": "价格合适"})
    quote.refresh_from_db()
    assert quote.status == "accepted" and quote.decision_note == "价格合适"
    response = client.post(reverse("sales:quote_revise", args=[quote.pk]))
    new = Quote.objects.get(number=quote.number, revision=2)
    assert response["Location"] == reverse("sales:quote_detail", args=[new.pk])
    old_page = client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    assert 'data-testid="old-revision"' in old_page and 'data-testid="line-form"' not in old_page


def test_the_customer_page_has_a_quotes_tab(rep_east: Any) -> None:
    customer = make_customer(rep_east)
    make_quote(rep_east, customer)
    page = _client(rep_east).get(reverse("customers:detail", args=[customer.pk]) + "?tab=quotes")
    assert page.status_code == 200
    assert 'data-testid="section-quotes"' in page.content.decode()
    assert "二期产线伺服电机报价" in page.content.decode()
    timeline = _client(rep_east).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'data-testid="timeline-quote"' in timeline and "创建了报价单" in timeline
    api = _client(rep_east).get(f"/api/v1/customers/{customer.pk}/timeline").json()
    assert any(item.get("subject_type") == "quote" for item in api)


def test_letterhead_settings_page_saves_name_logo_and_threshold(admin: Any, rep_east: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(admin)
    assert client.get(reverse("sales:letterhead")).status_code == 200
    response = client.post(
        reverse("sales:letterhead"),
        {"company_name": "上海客户科技有限公司", "default_valid_days": "15", "discount_threshold": "8",
         "email": "sales@kehu.test", "logo": SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")},
    )  # fmt: skip
    assert response.status_code == 302
    from kehu.sales.quotes.selectors import letterhead_get

    stored = letterhead_get()
    assert stored.company_name == "上海客户科技有限公司" and stored.discount_threshold == Decimal("8")
    assert client.get(reverse("sales:letterhead_logo")).status_code == 200
    bad = client.post(
        reverse("sales:letterhead"),
        {"company_name": "x", "default_valid_days": "15", "discount_threshold": "8", "version": stored.version,
         "logo": SimpleUploadedFile("logo.png", b"<script>", content_type="image/png")},
    )  # fmt: skip
    assert "无法识别的图片" in bad.content.decode()
    assert letterhead_get().company_name == "上海客户科技有限公司"
    assert _client(rep_east).get(reverse("sales:letterhead")).status_code == 403


def test_history_panel_shows_past_quotes_of_the_product(rep_east: Any, product: Any) -> None:
    customer = make_customer(rep_east)
    old = make_quote(rep_east, customer, title="一期伺服电机报价", competitor_notes="对手报价低 5%")
    add_line(rep_east, old, product, quantity="5")
    response = _client(rep_east).get(
        reverse("sales:quote_history") + f"?customer={customer.pk}&product={product.pk}"
    )
    html = response.content.decode()
    assert old.label in html and "对手报价低 5%" in html
