"""Thin REST endpoints over the quote services and selectors (SAL-5)."""

from __future__ import annotations

from typing import Any

from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS

from . import selectors, services
from .approval import needs_approval
from .documents import document_response
from .schemas import (
    DecisionIn,
    LetterheadOut,
    LetterheadPatchIn,
    LineCreateIn,
    LineFields,
    LineOut,
    ProductHistoryOut,
    QuoteCreateIn,
    QuoteListOut,
    QuoteOut,
    QuotePatchIn,
    history_out,
    letterhead_out,
    line_out,
    quote_out,
)

router = Router(tags=["quotes"])


def _full(request: AuthedRequest, quote_id: int) -> dict[str, Any]:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    return quote_out(quote, lines=selectors.quote_lines(quote), needs_approval=needs_approval(quote))


# --- letterhead -----------------------------------------------------------------------------------


@router.get("/letterhead", response={200: LetterheadOut, **ERRORS}, summary="Our letterhead")
def get_letterhead(request: AuthedRequest) -> Any:
    return letterhead_out(selectors.letterhead_for(actor=request.user))


@router.patch("/letterhead", response={200: LetterheadOut, **ERRORS})
def update_letterhead(request: AuthedRequest, payload: LetterheadPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return letterhead_out(services.letterhead_update(data=data, version=version, by=request.user))


@router.post(
    "/letterhead/logo", response={200: LetterheadOut, **ERRORS}, summary="Upload the logo (field `file`)"
)
def upload_logo(
    request: AuthedRequest,
    file: UploadedFile | None = File(None),  # noqa: B008 (ninja)
) -> Any:
    data = file.read() if file else b""
    return letterhead_out(
        services.letterhead_update(data={}, version=None, logo=data or b"", by=request.user)
    )


@router.get("/letterhead/logo", response={200: None, **ERRORS}, url_name="letterhead_logo")
def get_logo(request: AuthedRequest) -> Any:
    from kehu.catalog.selectors import picture_response

    return picture_response(*selectors.letterhead_logo(actor=request.user))


# --- quotes ---------------------------------------------------------------------------------------


class QuoteFilters(Schema):
    q: str | None = None
    status: str | None = None
    approval_status: str | None = None
    customer: int | None = None
    owner: int | None = None
    opportunity: int | None = None
    all_revisions: bool | None = None
    sort: str = "-quoted_on"
    limit: int | None = None
    offset: int | None = None


@router.get("/quotes", response={200: QuoteListOut, **ERRORS}, summary="List quotes (newest revisions)")
def list_quotes(request: AuthedRequest, filters: Query[QuoteFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.quote_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [quote_out(q) for q in page.items], "count": page.count}


@router.post("/quotes", response={201: QuoteOut, **ERRORS}, summary="Start a quote")
def create_quote(request: AuthedRequest, payload: QuoteCreateIn) -> Any:
    data = payload.dict(exclude_unset=True)
    customer_id = data.pop("customer")
    quote = services.quote_create(customer_id=customer_id, data=data, by=request.user)
    return Status(201, _full(request, quote.pk))


class HistoryFilters(Schema):
    customer: int
    product: list[int] = []


@router.get("/quote-history", response={200: list[ProductHistoryOut], **ERRORS},
            summary="Past quotes of products to a customer and to similar customers")  # fmt: skip
def quote_history(request: AuthedRequest, filters: Query[HistoryFilters]) -> Any:
    history = selectors.history_for(
        actor=request.user, customer_id=filters.customer, product_ids=filters.product
    )
    return [history_out(h) for h in history]


@router.get("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS})
def get_quote(request: AuthedRequest, quote_id: int) -> Any:
    return _full(request, quote_id)


@router.patch("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS})
def update_quote(request: AuthedRequest, quote_id: int, payload: QuotePatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.quote_update(quote_id=quote_id, version=version, data=data, by=request.user)
    return _full(request, quote_id)


@router.get("/quotes/{quote_id}/history", response={200: list[ProductHistoryOut], **ERRORS},
            summary="The quote history of this quote's products")  # fmt: skip
def quote_own_history(request: AuthedRequest, quote_id: int) -> Any:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    return [history_out(h) for h in selectors.history_of_quote(actor=request.user, quote=quote)]


@router.get("/quotes/{quote_id}/revisions", response={200: QuoteListOut, **ERRORS})
def quote_revisions(request: AuthedRequest, quote_id: int) -> Any:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    revisions = selectors.quote_revisions(actor=request.user, quote=quote)
    return {"items": [quote_out(q) for q in revisions], "count": len(revisions)}


@router.post("/quotes/{quote_id}/lines", response={201: LineOut, **ERRORS}, summary="Add a line")
def add_line(request: AuthedRequest, quote_id: int, payload: LineCreateIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    line = services.quote_line_add(quote_id=quote_id, data=data, version=version, by=request.user)
    return Status(201, line_out(line))


@router.patch("/quote-lines/{quote_line_id}", response={200: LineOut, **ERRORS})
def update_line(request: AuthedRequest, quote_line_id: int, payload: LineFields) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    return line_out(
        services.quote_line_update(line_id=quote_line_id, data=data, version=version, by=request.user)
    )


@router.delete("/quote-lines/{quote_line_id}", response={204: None, **ERRORS})
def delete_line(request: AuthedRequest, quote_line_id: int) -> Any:
    services.quote_line_remove(line_id=quote_line_id, by=request.user)
    return Status(204, None)


@router.post("/quotes/{quote_id}/revise", response={201: QuoteOut, **ERRORS}, summary="Make a new revision")
def revise_quote(request: AuthedRequest, quote_id: int) -> Any:
    new = services.quote_revise(quote_id=quote_id, by=request.user)
    return Status(201, _full(request, new.pk))


@router.post("/quotes/{quote_id}/send", response={200: QuoteOut, **ERRORS}, summary="Mark as sent")
def send_quote(request: AuthedRequest, quote_id: int) -> Any:
    services.quote_send(quote_id=quote_id, by=request.user)
    return _full(request, quote_id)


@router.post("/quotes/{quote_id}/accept", response={200: QuoteOut, **ERRORS}, summary="The customer accepted")
def accept_quote(request: AuthedRequest, quote_id: int, payload: DecisionIn) -> Any:
    services.quote_accept(quote_id=quote_id, note=payload.note, by=request.user)
    return _full(request, quote_id)


@router.post("/quotes/{quote_id}/reject", response={200: QuoteOut, **ERRORS}, summary="The customer rejected")
def reject_quote(request: AuthedRequest, quote_id: int, payload: DecisionIn) -> Any:
    services.quote_reject(quote_id=quote_id, note=payload.note, by=request.user)
    return _full(request, quote_id)


@router.post("/quotes/{quote_id}/expire", response={200: QuoteOut, **ERRORS}, summary="Mark as expired")
def expire_quote(request: AuthedRequest, quote_id: int) -> Any:
    services.quote_expire(quote_id=quote_id, by=request.user)
    return _full(request, quote_id)


@router.get(
    "/quotes/{quote_id}/pdf", response={200: None, **ERRORS}, url_name="quote_pdf", summary="The quote as PDF"
)
def quote_pdf(request: AuthedRequest, quote_id: int) -> Any:
    data, name = selectors.quote_document(actor=request.user, quote_id=quote_id, fmt="pdf")
    return document_response(data, name)


@router.get("/quotes/{quote_id}/xlsx", response={200: None, **ERRORS}, url_name="quote_xlsx",
            summary="The quote as an Excel workbook")  # fmt: skip
def quote_xlsx(request: AuthedRequest, quote_id: int) -> Any:
    data, name = selectors.quote_document(actor=request.user, quote_id=quote_id, fmt="xlsx")
    return document_response(data, name)
