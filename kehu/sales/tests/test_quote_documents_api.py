"""The quote's PDF and Excel read back (SAL-5), and the quote API."""

from __future__ import annotations

import io
import json
from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client

from kehu.catalog.tests.factories import make_product, png_bytes
from kehu.sales.models import Quote, QuoteLine
from kehu.sales.quotes import selectors, services
from kehu.sales.quotes.documents import quote_pdf, quote_xlsx

from .factories import add_line, make_customer, make_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote(admin: Any, rep_east: Any) -> Any:
    services.letterhead_update(
        data={"company_name": "上海客户智能装备有限公司", "phone": "021-5080 1234", "bank_account": "1219 0888",
              "default_terms": "以上价格含 13% 增值税"},
        version=None, logo=png_bytes((0, 0, 200)), by=admin,
    )  # fmt: skip
    motor = make_product(
        admin, name="伺服电机", model="SM-100", price="1000.00", picture=png_bytes(), features="高精度"
    )
    driver = make_product(admin, name="伺服驱动器", model="SD-100", price="500.00")
    q = make_quote(rep_east, make_customer(rep_east), title="二期产线伺服系统报价")
    add_line(rep_east, q, motor, quantity="10")
    add_line(rep_east, q, driver, quantity="4")
    q.refresh_from_db()
    return q


def test_the_pdf_has_title_lines_totals_and_amount_in_words(quote: Any) -> None:
    from pypdf import PdfReader

    data = quote_pdf(quote, selectors.quote_lines(quote), selectors.letterhead_get())
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in ("二期产线伺服系统报价", "上海客户智能装备有限公司", "伺服电机", "SM-100", "伺服驱动器", "12,000.00",
                     "人民币壹万贰仟元整", "以上价格含 13% 增值税", quote.label):  # fmt: skip
        assert expected in text, expected
    images = [image for page in reader.pages for image in page.images]
    assert len(images) >= 2  # the logo and the motor's picture
    # Rendered again (pictures now from the image cache kept between renders): the same pictures.
    again = PdfReader(io.BytesIO(quote_pdf(quote, selectors.quote_lines(quote), selectors.letterhead_get())))
    assert sorted(len(i.data) for p in again.pages for i in p.images) == sorted(len(i.data) for i in images)


def test_the_pdf_fetches_only_the_quotes_own_pictures(quote: Any) -> None:
    """The HTML names pictures as kehu-thumb: URLs; nothing else is fetched — no file, no network."""
    from kehu.sales.quotes.documents import _thumb_fetcher, thumb

    line = selectors.quote_lines(quote)[0]
    picture = thumb(line.picture)
    assert picture is not None and picture.pdf_url.startswith("kehu-thumb:240/")
    assert _thumb_fetcher().fetch(picture.pdf_url).read() == picture.data
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1:8000/",
        "kehu-thumb:x/a.png",
        "kehu-thumb:240/missing.png",
    ):
        with pytest.raises(ValueError):
            _thumb_fetcher().fetch(url)


def test_the_cycle_collector_is_paused_only_while_a_pdf_is_laid_out(quote: Any, monkeypatch: Any) -> None:
    import gc

    from kehu.core.collector import collector_paused
    from kehu.sales.quotes import documents

    seen: list[bool] = []
    real = documents._stylesheet

    def spy() -> Any:
        seen.append(gc.isenabled())
        return real()

    monkeypatch.setattr(documents, "_stylesheet", spy)
    assert gc.isenabled()
    with collector_paused():  # an overlapping render in another thread
        quote_pdf(quote, selectors.quote_lines(quote), selectors.letterhead_get())
        assert not gc.isenabled()  # the outer one still runs
    assert seen == [False] and gc.isenabled()
    monkeypatch.setattr(documents, "_stylesheet", lambda: 1 / 0)  # a render that fails
    with pytest.raises(ZeroDivisionError):
        quote_pdf(quote, selectors.quote_lines(quote), selectors.letterhead_get())
    assert gc.isenabled()


def test_each_thread_keeps_its_own_font_configuration_between_renders(quote: Any) -> None:
    """Reused within a thread (loading the CJK faces per render was ≈25 ms), never shared between
    threads (a Pango font map is not thread-safe); the text is right from both."""
    import threading

    from pypdf import PdfReader

    from kehu.sales.quotes import documents

    lines, letterhead = selectors.quote_lines(quote), selectors.letterhead_get()
    texts: dict[str, str] = {}
    configs: dict[str, list[Any]] = {}

    def render(name: str) -> None:
        for _ in range(2):
            data = quote_pdf(quote, lines, letterhead)
            configs.setdefault(name, []).append(documents._font_config())
        texts[name] = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)

    render("main")
    worker = threading.Thread(target=render, args=("worker",))
    worker.start()
    worker.join()
    assert configs["main"][0] is configs["main"][1]
    assert configs["worker"][0] is configs["worker"][1]
    assert configs["worker"][0] is not configs["main"][0]
    for text in texts.values():
        assert "二期产线伺服系统报价" in text and "人民币壹万贰仟元整" in text


def test_the_workbook_has_the_lines_with_number_formats_totals_and_pictures(quote: Any) -> None:
    from openpyxl import load_workbook

    book = load_workbook(
        io.BytesIO(quote_xlsx(quote, selectors.quote_lines(quote), selectors.letterhead_get()))
    )
    sheet = book.active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert "二期产线伺服系统报价" in cells and "伺服电机" in cells and "人民币壹万贰仟元整" in cells
    total_label = cells["报价总额"]
    total = sheet.cell(row=total_label.row, column=total_label.column + 1)
    assert total.value == 12000 and total.number_format == "#,##0.00"
    assert len(sheet._images) >= 2


def test_a_foreign_currency_quote_prints_the_rmb_equivalent_in_words(admin: Any, rep_east: Any) -> None:
    from pypdf import PdfReader

    product = make_product(admin, name="编码器电缆", price="100.00")
    q = make_quote(
        rep_east, make_customer(rep_east), title="出口电缆报价", currency="USD", exchange_rate="7.2"
    )
    add_line(rep_east, q, product, quantity="10")
    q.refresh_from_db()
    text = (
        PdfReader(io.BytesIO(quote_pdf(q, selectors.quote_lines(q), selectors.letterhead_get())))
        .pages[0]
        .extract_text()
    )
    assert "折合人民币" in text and "人民币柒仟贰佰元整" in text


def _api(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_api_builds_a_quote_end_to_end(admin: Any, rep_east: Any, rep_west: Any) -> None:
    motor = make_product(admin, name="伺服电机", price="1000.00", cost="600")
    customer = make_customer(rep_east)
    client = _api(rep_east)
    refused = _post(client, "/api/v1/quotes", {"customer": customer.pk, "title": "报价单"})
    assert refused.status_code == 422 and refused.json()["field"] == "title" and Quote.objects.count() == 0
    created = _post(client, "/api/v1/quotes", {"customer": customer.pk, "title": "二期伺服电机报价",
                                               "competitor_notes": "对手报 950"})  # fmt: skip
    assert created.status_code == 201, created.content
    qid = created.json()["id"]
    line = _post(client, f"/api/v1/quotes/{qid}/lines", {"product": motor.pk, "quantity": "12",
                                                        "cost_components": {"material": "550", "freight": "20"}})  # fmt: skip
    assert line.status_code == 201, line.content
    assert line.json()["unit_cost"] == "570.00"
    patched = client.patch(f"/api/v1/quote-lines/{line.json()['id']}", json.dumps({"discount": "5"}),
                           content_type="application/json")  # fmt: skip
    assert patched.status_code == 200 and patched.json()["amount"] == "11400.00"
    detail = client.get(f"/api/v1/quotes/{qid}").json()
    assert detail["total"] == "11400.00" and detail["total_in_words"] == "人民币壹万壹仟肆佰元整"
    assert len(detail["lines"]) == 1 and detail["needs_approval"] is False
    stale = client.patch(
        f"/api/v1/quotes/{qid}", json.dumps({"version": 1, "notes": "x"}), content_type="application/json"
    )
    assert stale.status_code == 409
    assert _post(client, f"/api/v1/quotes/{qid}/send", {}).json()["status"] == "sent"
    assert _post(client, f"/api/v1/quotes/{qid}/accept", {"note": "OK"}).json()["status"] == "accepted"
    revised = _post(client, f"/api/v1/quotes/{qid}/revise", {})
    assert revised.status_code == 201 and revised.json()["revision"] == 2
    assert client.get(f"/api/v1/quotes/{qid}/revisions").json()["count"] == 2
    history = client.get(f"/api/v1/quote-history?customer={customer.pk}&product={motor.pk}").json()
    assert [r["status"] for r in history[0]["same_customer"]] == ["draft", "accepted"]  # V2, then V1
    # A quote's own earlier revisions are its version list, not its history.
    assert client.get(f"/api/v1/quotes/{revised.json()['id']}/history").json()[0]["same_customer"] == []
    pdf = client.get(f"/api/v1/quotes/{qid}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/api/v1/quotes/{qid}/xlsx").content.startswith(b"PK")
    listed = client.get("/api/v1/quotes?limit=1").json()
    assert listed["count"] == 1 and listed["items"][0]["revision"] == 2

    west = _api(rep_west)
    assert west.get(f"/api/v1/quotes/{qid}").status_code == 404
    assert west.get("/api/v1/quotes").json()["count"] == 0
    deleted = west.delete(f"/api/v1/quote-lines/{line.json()['id']}")
    assert deleted.status_code == 404 and QuoteLine.objects.count() == 2


def test_api_refuses_sending_an_unapproved_deep_discount(admin: Any, rep_east: Any) -> None:
    motor = make_product(admin, name="伺服电机", price="1000.00")
    q = make_quote(rep_east, make_customer(rep_east))
    add_line(rep_east, q, motor, quantity="1", discount="25")
    response = _post(_api(rep_east), f"/api/v1/quotes/{q.pk}/send", {})
    assert response.status_code == 409 and response.json()["code"] == "approval_required"
    q.refresh_from_db()
    assert q.status == "draft" and q.max_discount == D("25.00")


def test_api_letterhead_read_and_update(admin: Any, rep_east: Any, auditor: Any) -> None:
    client = _api(admin)
    response = client.patch("/api/v1/letterhead", json.dumps({"version": 1, "company_name": "上海客户", "discount_threshold": "12.5"}),
                            content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["discount_threshold"] == "12.50"
    assert _api(rep_east).get("/api/v1/letterhead").json()["company_name"] == "上海客户"
    denied = _api(rep_east).patch(
        "/api/v1/letterhead",
        json.dumps({"version": 1, "company_name": "改"}),
        content_type="application/json",
    )
    assert denied.status_code == 403 and selectors.letterhead_get().company_name == "上海客户"
    again = client.patch("/api/v1/letterhead", json.dumps({"version": 1, "phone": "021-1234"}),
                         content_type="application/json")  # fmt: skip
    assert again.status_code == 200 and again.json()["version"] == 2
    stale = client.patch("/api/v1/letterhead", json.dumps({"version": 1, "company_name": "旧版本"}),
                         content_type="application/json")  # fmt: skip
    assert stale.status_code == 409 and selectors.letterhead_get().company_name == "上海客户"
