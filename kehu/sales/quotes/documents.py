"""The quote as documents (SAL-5): a PDF printed with WeasyPrint (HTML template + CSS, Noto CJK fonts,
our logo and the product pictures embedded, totals also in 大写) and an .xlsx workbook (openpyxl, number
formats, pictures embedded). Both are built from the same ``document_context``."""

from __future__ import annotations

import functools
import io
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote as url_quote
from urllib.parse import unquote

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from kehu.core.collector import collector_paused
from kehu.core.spreadsheet import safe_cell

from .models import Letterhead, Quote, QuoteLine
from .rules import amount_in_words

THUMB_PIXELS = 240  # pictures are shrunk to this before they go into a document


THUMB_SCHEME = "kehu-thumb:"  # how the PDF's HTML names a picture: kehu-thumb:<size>/<quoted name>


@dataclass(frozen=True)
class Thumb:
    data: bytes  # PNG or JPEG
    content_type: str
    width: int
    height: int
    name: str = ""
    size: int = THUMB_PIXELS

    @property
    def pdf_url(self) -> str:
        """The picture's address in the PDF's HTML, served by ``_thumb_fetcher`` from ``thumb``: the
        HTML stays a few KB (data URIs made it 200 KB to parse on every render), and WeasyPrint's image
        cache can keep the decoded picture between renders, keyed by it."""
        return f"{THUMB_SCHEME}{self.size}/{url_quote(self.name, safe='')}"


@functools.lru_cache(maxsize=512)
def _thumb_cached(name: str, size: int) -> Thumb | None:
    # Stored pictures never change under the same name (a new picture gets a new name), so a cache by
    # name is safe; it spares re-decoding the same product picture for every quote that shows it.
    from PIL import Image

    try:
        with default_storage.open(name, "rb") as handle, Image.open(handle) as image:
            image.thumbnail((size, size))
            has_alpha = image.mode in ("RGBA", "LA", "P")
            out = io.BytesIO()
            if has_alpha:
                image.convert("RGBA").save(out, format="PNG", optimize=False)
                content_type = "image/png"
            else:
                image.convert("RGB").save(out, format="JPEG", quality=85)
                content_type = "image/jpeg"
            return Thumb(out.getvalue(), content_type, image.width, image.height, name, size)
    except (OSError, ValueError):
        return None  # a missing or unreadable file prints no picture rather than no quote


def thumb(name: str, size: int = THUMB_PIXELS) -> Thumb | None:
    return _thumb_cached(name, size) if name else None


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _quantity(value: Decimal) -> str:
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text or "0"


def document_context(quote: Quote, lines: list[QuoteLine], letterhead: Letterhead) -> dict[str, Any]:
    """What both documents print: the letterhead, the customer and contact, the lines with pictures, the
    totals in figures and — for RMB, or converted to RMB for another currency — in 大写, the terms."""
    rows = []
    for line in lines:
        picture = thumb(line.picture)
        rows.append({
            "line": line,
            "picture": picture,
            "unit_price": _money(line.unit_price),
            "net_price": _money(line.net_price),
            "quantity": _quantity(line.quantity),
            "amount": _money(line.amount),
            "discount": f"{line.discount:g}" if line.discount else "",
        })  # fmt: skip
    cny = quote.currency == "CNY"
    return {
        "quote": quote,
        "letterhead": letterhead,
        "logo": thumb(letterhead.logo.name or "", 400) if letterhead.logo else None,
        "rows": rows,
        "subtotal": _money(quote.subtotal),
        "discount_amount": _money(quote.discount_amount),
        "total": _money(quote.total),
        "total_cny": _money(quote.total_cny),
        "in_words": amount_in_words(quote.total if cny else quote.total_cny),
        "is_cny": cny,
        "printed_at": timezone.localtime(),
    }


@functools.cache
def _stylesheet() -> Any:
    """The quote's stylesheet, parsed once per process: parsing it took ≈90 ms of every render (issue-4
    benchmark). Only the page rule, which carries the quote's label, stays in the template."""
    from weasyprint import CSS

    return CSS(string=(Path(__file__).with_name("pdf.css")).read_text(encoding="utf-8"))


@functools.cache
def _thumb_fetcher() -> Any:
    """WeasyPrint's URL fetcher for the quote: our pictures by ``Thumb.pdf_url``, and nothing else — no
    file, no network, whatever the HTML names."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ThumbFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            size, _slash, name = url.removeprefix(THUMB_SCHEME).partition("/")
            found = (
                thumb(unquote(name), int(size)) if url.startswith(THUMB_SCHEME) and size.isdigit() else None
            )
            if found is None:
                raise ValueError(f"not a picture of this quote: {url[:80]}")
            return URLFetcherResponse(url, body=found.data, headers={"Content-Type": found.content_type})

    return ThumbFetcher()


class _BoundedCache(dict[Any, Any]):
    """WeasyPrint's image cache, kept between renders (decoded pictures by URL) but never above
    ``limit`` entries: the oldest goes first."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self._lock = threading.Lock()

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)
            while len(self) > self.limit:
                super().pop(next(iter(self)), None)


_IMAGE_CACHE = _BoundedCache(1024)
_FONTS = threading.local()


def _font_config() -> Any:
    """This thread's WeasyPrint font configuration, made once and reused: a new one per render (WeasyPrint's
    default) loads Fontconfig's configuration and the CJK font faces again and loses Pango's caches —
    ≈25 ms of a 10-line quote (issue-4 benchmark, in-process A/B). One per thread, because a Pango font
    map is not safe to share between threads."""
    config = getattr(_FONTS, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _FONTS.config = FontConfiguration()
    return config


def quote_pdf(quote: Quote, lines: list[QuoteLine], letterhead: Letterhead) -> bytes:
    """The quote as a PDF (A4), in Chinese whatever the user's language: it goes to the customer."""
    from weasyprint import HTML

    with translation.override("zh-hans"):
        html = render_to_string("sales/quotes/pdf.html", document_context(quote, lines, letterhead))
    # Layout makes ~200,000 objects that live until it ends: the collections they would trigger walk
    # them for nothing and made the slowest renders ~1.5× the median (issue-4 benchmark).
    with collector_paused():
        document = HTML(string=html, url_fetcher=_thumb_fetcher())
        pdf = document.write_pdf(stylesheets=[_stylesheet()], cache=_IMAGE_CACHE, font_config=_font_config())
        return cast(bytes, pdf)


def quote_xlsx(quote: Quote, lines: list[QuoteLine], letterhead: Letterhead) -> bytes:
    """The quote as an .xlsx workbook: header block, one row per line (pictures embedded), totals with
    number formats, the 大写 total and the terms."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XLImage
    from openpyxl.styles import Alignment, Border, Font, Side

    context = document_context(quote, lines, letterhead)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "报价单"
    bold = Font(bold=True)
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    money_format = "#,##0.00"
    widths = {"A": 6, "B": 14, "C": 24, "D": 16, "E": 22, "F": 16, "G": 8, "H": 12, "I": 10, "J": 8, "K": 14}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width

    def put(row: int, column: int, value: Any, **style: Any) -> Any:
        cell = sheet.cell(row=row, column=column, value=safe_cell(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"
        for key, val in style.items():
            setattr(cell, key, val)
        return cell

    row = 1
    if context["logo"] is not None:
        logo = XLImage(io.BytesIO(context["logo"].data))
        logo.height, logo.width = 48, int(48 * context["logo"].width / max(context["logo"].height, 1))
        sheet.add_image(logo, "K1")
    put(row, 1, letterhead.company_name, font=Font(bold=True, size=14))
    row += 1
    contact_bits = [letterhead.address, letterhead.phone, letterhead.email]
    put(row, 1, "  ".join(b for b in contact_bits if b))
    row += 2
    put(row, 1, quote.title, font=Font(bold=True, size=16))
    row += 1
    header = [
        ("报价单号", quote.label),
        ("客户", quote.customer.name),
        ("联系人", quote.contact.name if quote.contact is not None else ""),
        ("报价日期", quote.quoted_on),
        ("有效期至", quote.valid_until or ""),
        ("币种", quote.currency),
        ("汇率（兑人民币）", quote.exchange_rate),
        ("负责人", quote.owner.label),
    ]
    for label, value in header:
        put(row, 1, label, font=bold)
        cell = put(row, 3, value)
        if label in ("报价日期", "有效期至") and value:
            cell.number_format = "yyyy-mm-dd"
        if label == "汇率（兑人民币）":
            cell.value = float(quote.exchange_rate)
            cell.number_format = "0.000000"
        row += 1
    row += 1
    headings = ["序号", "图片", "产品名称", "型号", "规格", "包装", "单位", "单价", "数量", "折扣%", "金额"]
    for index, text in enumerate(headings, start=1):
        put(row, index, text, font=bold, border=box, alignment=Alignment(horizontal="center"))
    row += 1
    for item in context["rows"]:
        line = item["line"]
        values = [line.position, "", line.name, line.model, line.specification, line.packaging, line.unit,
                  line.unit_price, line.quantity, line.discount, line.amount]  # fmt: skip
        for index, value in enumerate(values, start=1):
            cell = put(row, index, float(value) if isinstance(value, Decimal) else value, border=box)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if index in (8, 11):
                cell.number_format = money_format
            elif index == 9:
                cell.number_format = "#,##0.###"
            elif index == 10:
                cell.number_format = "0.00"
        if line.features:
            put(row + 1, 3, line.features, alignment=Alignment(wrap_text=True, vertical="top"))
        picture = item["picture"]
        if picture is not None:
            image = XLImage(io.BytesIO(picture.data))
            scale = 60 / max(picture.height, 1)
            image.height, image.width = 60, int(picture.width * scale)
            sheet.add_image(image, f"B{row}")
            sheet.row_dimensions[row].height = 48
        row += 2 if line.features else 1
    row += 1
    for label, value in (
        ("原价合计", quote.subtotal),
        ("折扣", quote.discount_amount),
        ("报价总额", quote.total),
    ):
        put(row, 10, label, font=bold)
        cell = put(row, 11, float(value), font=bold if label == "报价总额" else Font())
        cell.number_format = money_format
        row += 1
    if not context["is_cny"]:
        put(row, 10, "折合人民币", font=bold)
        cell = put(row, 11, float(quote.total_cny))
        cell.number_format = money_format
        row += 1
    put(row, 1, "金额大写", font=bold)
    put(row, 3, context["in_words"], font=bold)
    row += 2
    if quote.terms:
        put(row, 1, "报价条款", font=bold)
        row += 1
        for text in quote.terms.splitlines():
            put(row, 1, text)
            row += 1
    if letterhead.bank_name or letterhead.bank_account:
        row += 1
        put(row, 1, f"开户银行：{letterhead.bank_name}  账号：{letterhead.bank_account}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def document_response(data: bytes, name: str) -> Any:
    """A quote document as a download (pages and API alike), its Chinese file name kept (RFC 6266)."""
    from urllib.parse import quote as urlquote

    from django.http import HttpResponse

    content_type = "application/pdf" if name.endswith(".pdf") else XLSX
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{urlquote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
