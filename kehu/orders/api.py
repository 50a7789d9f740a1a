"""Thin REST endpoints over the contract, order, invoice and payment services (SAL-6, SAL-7)."""

from __future__ import annotations

from typing import Any

from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS, ListOut
from kehu.core.web import download_response
from kehu.customers.selectors import customer_get

from . import billing, selectors, services
from .schemas import (
    AgingOut,
    ContractCreateIn,
    ContractOut,
    ContractPatchIn,
    CustomerOrderStatsOut,
    DeliverIn,
    DocumentOut,
    InstalmentIn,
    InstalmentOut,
    InstalmentPatchIn,
    InvoiceCreateIn,
    InvoiceOut,
    InvoicePatchIn,
    InvoiceVoidIn,
    OrderCreateIn,
    OrderOut,
    OrderPatchIn,
    PaymentCreateIn,
    PaymentOut,
    PaymentPatchIn,
    ReasonIn,
    ReceivableOut,
    ShipmentCreateIn,
    ShipmentOut,
    TransferIn,
    VersionIn,
    contract_out,
    document_out,
    instalment_out,
    invoice_out,
    order_out,
    payment_out,
    receivable_out,
    shipment_out,
)

router = Router(tags=["orders"])
FILE = File(None)  # one default object: ninja reads it, the linter does not call File() per parameter


def _upload(file: UploadedFile | None) -> tuple[str, bytes]:
    # No file: the service still decides (permission first, then "choose a file" naming the field).
    return ((file.name or "") if file else "", file.read() if file else b"")


def _contract(request: AuthedRequest, contract_id: int) -> dict[str, Any]:
    c = selectors.contract_get(actor=request.user, contract_id=contract_id)
    return contract_out(
        c,
        instalments=selectors.contract_instalments(contract=c),
        documents=selectors.contract_documents(contract=c),
    )


# --- contracts -----------------------------------------------------------------------------------------


class ContractFilters(Schema):
    status: str | None = None
    approval_status: str | None = None
    customer: int | None = None
    owner: int | None = None
    q: str | None = None
    signed_from: str | None = None
    signed_to: str | None = None
    sort: str = "-created_at"
    limit: int | None = None
    offset: int | None = None


@router.get("/contracts", response={200: ListOut[ContractOut], **ERRORS}, summary="List contracts")
def list_contracts(request: AuthedRequest, filters: Query[ContractFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.contract_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [contract_out(c) for c in page.items], "count": page.count}


@router.post("/contracts", response={201: ContractOut, **ERRORS}, summary="Draw up a contract")
def create_contract(request: AuthedRequest, payload: ContractCreateIn) -> Any:
    c = services.contract_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, _contract(request, c.pk))


@router.get("/contracts/{contract_id}", response={200: ContractOut, **ERRORS})
def get_contract(request: AuthedRequest, contract_id: int) -> Any:
    return _contract(request, contract_id)


@router.patch("/contracts/{contract_id}", response={200: ContractOut, **ERRORS})
def update_contract(request: AuthedRequest, contract_id: int, payload: ContractPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.contract_update(contract_id=contract_id, version=version, data=data, by=request.user)
    return _contract(request, contract_id)


@router.post("/contracts/{contract_id}/put-in-force", response={200: ContractOut, **ERRORS},
             summary="Put an approved contract in force (草稿 → 执行中)")  # fmt: skip
def put_in_force(request: AuthedRequest, contract_id: int, payload: VersionIn) -> Any:
    services.contract_put_in_force(contract_id=contract_id, version=payload.version, by=request.user)
    return _contract(request, contract_id)


@router.post("/contracts/{contract_id}/complete", response={200: ContractOut, **ERRORS})
def complete_contract(request: AuthedRequest, contract_id: int, payload: VersionIn) -> Any:
    services.contract_complete(contract_id=contract_id, version=payload.version, by=request.user)
    return _contract(request, contract_id)


@router.post("/contracts/{contract_id}/terminate", response={200: ContractOut, **ERRORS})
def terminate_contract(request: AuthedRequest, contract_id: int, payload: ReasonIn) -> Any:
    services.contract_terminate(
        contract_id=contract_id, version=payload.version, reason=payload.reason, by=request.user
    )
    return _contract(request, contract_id)


@router.post("/contracts/{contract_id}/transfer", response={200: ContractOut, **ERRORS},
             summary="Hand the contract (and its payment plan) to another user, with the reason")  # fmt: skip
def transfer_contract(request: AuthedRequest, contract_id: int, payload: TransferIn) -> Any:
    # Answered from the service's row: the new owner may be outside the caller's scope.
    c = services.contract_transfer(contract_id=contract_id, version=payload.version, to_user_id=payload.to_user,
                                   reason=payload.reason, by=request.user)  # fmt: skip
    return contract_out(c, instalments=selectors.contract_instalments(contract=c))


@router.post("/contracts/{contract_id}/attachments", response={201: DocumentOut, **ERRORS},
             summary="Attach a file to a contract (multipart field `file`)")  # fmt: skip
def add_contract_attachment(
    request: AuthedRequest, contract_id: int, file: UploadedFile | None = FILE
) -> Any:
    name, data = _upload(file)
    return Status(201, document_out(services.contract_attachment_add(contract_id=contract_id, name=name, data=data,
                                                                     by=request.user)))  # fmt: skip


@router.get("/contracts/{contract_id}/instalments", response={200: list[InstalmentOut], **ERRORS},
            summary="The payment plan of a contract")  # fmt: skip
def list_instalments(request: AuthedRequest, contract_id: int) -> Any:
    c = selectors.contract_get(actor=request.user, contract_id=contract_id)
    return [instalment_out(i) for i in selectors.contract_instalments(contract=c)]


@router.post("/contracts/{contract_id}/instalments", response={201: InstalmentOut, **ERRORS},
             summary="Add an instalment to the payment plan")  # fmt: skip
def add_instalment(request: AuthedRequest, contract_id: int, payload: InstalmentIn) -> Any:
    i = billing.instalment_add(
        contract_id=contract_id, data=payload.dict(exclude_unset=True), by=request.user
    )
    return Status(201, instalment_out(i))


@router.patch("/instalments/{instalment_id}", response={200: InstalmentOut, **ERRORS})
def update_instalment(request: AuthedRequest, instalment_id: int, payload: InstalmentPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return instalment_out(billing.instalment_update(instalment_id=instalment_id, version=version, data=data,
                                                    by=request.user))  # fmt: skip


@router.delete("/instalments/{instalment_id}", response={204: None, **ERRORS})
def delete_instalment(request: AuthedRequest, instalment_id: int) -> Any:
    billing.instalment_delete(instalment_id=instalment_id, by=request.user)
    return Status(204, None)


# --- orders and shipments -------------------------------------------------------------------------------


class OrderFilters(Schema):
    status: str | None = None
    customer: int | None = None
    contract: int | None = None
    owner: int | None = None
    late: bool | None = None
    q: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "-order_date"
    limit: int | None = None
    offset: int | None = None


def _order(request: AuthedRequest, order_id: int) -> dict[str, Any]:
    return order_out(selectors.order_get(actor=request.user, order_id=order_id), detail=True)


@router.get("/orders", response={200: ListOut[OrderOut], **ERRORS}, summary="The business ledger (orders)")
def list_orders(request: AuthedRequest, filters: Query[OrderFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    if not f.get("late"):
        f["late"] = None
    page = selectors.order_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [order_out(o) for o in page.items], "count": page.count}


@router.post("/orders", response={201: OrderOut, **ERRORS}, summary="Record an order with its lines")
def create_order(request: AuthedRequest, payload: OrderCreateIn) -> Any:
    data = payload.dict(exclude_unset=True)
    lines = data.pop("lines")
    order = services.order_create(data=data, lines=lines, by=request.user)
    return Status(201, _order(request, order.pk))


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def get_order(request: AuthedRequest, order_id: int) -> Any:
    return _order(request, order_id)


@router.patch("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def update_order(request: AuthedRequest, order_id: int, payload: OrderPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version, lines = data.pop("version"), data.pop("lines", None)
    services.order_update(order_id=order_id, version=version, data=data, lines=lines, by=request.user)
    return _order(request, order_id)


@router.post("/orders/{order_id}/start-production", response={200: OrderOut, **ERRORS})
def start_production(request: AuthedRequest, order_id: int, payload: VersionIn) -> Any:
    services.order_start_production(order_id=order_id, version=payload.version, by=request.user)
    return _order(request, order_id)


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, **ERRORS})
def cancel_order(request: AuthedRequest, order_id: int, payload: ReasonIn) -> Any:
    services.order_cancel(order_id=order_id, version=payload.version, reason=payload.reason, by=request.user)
    return _order(request, order_id)


@router.post("/orders/{order_id}/transfer", response={200: OrderOut, **ERRORS},
             summary="Hand the order (and its shipments) to another user, with the reason")  # fmt: skip
def transfer_order(request: AuthedRequest, order_id: int, payload: TransferIn) -> Any:
    o = services.order_transfer(order_id=order_id, version=payload.version, to_user_id=payload.to_user,
                                reason=payload.reason, by=request.user)  # fmt: skip
    return order_out(o)


@router.post("/orders/{order_id}/shipments", response={201: ShipmentOut, **ERRORS},
             summary="Ship (part of) an order")  # fmt: skip
def create_shipment(request: AuthedRequest, order_id: int, payload: ShipmentCreateIn) -> Any:
    data = payload.dict(exclude_unset=True)
    lines = {line["order_line"]: line["quantity"] for line in data.pop("lines")}
    s = services.shipment_create(order_id=order_id, data=data, lines=lines, by=request.user)
    return Status(201, shipment_out(selectors.shipment_get(actor=request.user, shipment_id=s.pk)))


@router.post("/shipments/{shipment_id}/deliver", response={200: ShipmentOut, **ERRORS},
             summary="The customer signed for a shipment")  # fmt: skip
def deliver_shipment(request: AuthedRequest, shipment_id: int, payload: DeliverIn) -> Any:
    services.shipment_deliver(shipment_id=shipment_id, delivered_at=payload.delivered_at, by=request.user)
    return shipment_out(selectors.shipment_get(actor=request.user, shipment_id=shipment_id))


@router.post("/shipments/{shipment_id}/proofs", response={201: DocumentOut, **ERRORS},
             summary="Keep a proof (签收单) with a shipment (multipart field `file`)")  # fmt: skip
def add_shipment_proof(request: AuthedRequest, shipment_id: int, file: UploadedFile | None = FILE) -> Any:
    name, data = _upload(file)
    return Status(201, document_out(services.shipment_proof_add(shipment_id=shipment_id, name=name, data=data,
                                                                by=request.user)))  # fmt: skip


# --- invoices ------------------------------------------------------------------------------------------


class InvoiceFilters(Schema):
    customer: int | None = None
    contract: int | None = None
    order: int | None = None
    kind: str | None = None
    approval_status: str | None = None
    q: str | None = None
    issued_from: str | None = None
    issued_to: str | None = None
    voided: str | None = None
    sort: str = "-created_at"
    limit: int | None = None
    offset: int | None = None


def _invoice(request: AuthedRequest, invoice_id: int) -> dict[str, Any]:
    return invoice_out(selectors.invoice_get(actor=request.user, invoice_id=invoice_id), detail=True)


@router.get("/invoices", response={200: ListOut[InvoiceOut], **ERRORS}, summary="List invoices")
def list_invoices(request: AuthedRequest, filters: Query[InvoiceFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.invoice_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [invoice_out(i) for i in page.items], "count": page.count}


@router.post("/invoices", response={201: InvoiceOut, **ERRORS}, summary="Register an invoice")
def create_invoice(request: AuthedRequest, payload: InvoiceCreateIn) -> Any:
    invoice = billing.invoice_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, _invoice(request, invoice.pk))


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS})
def get_invoice(request: AuthedRequest, invoice_id: int) -> Any:
    return _invoice(request, invoice_id)


@router.patch("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS})
def update_invoice(request: AuthedRequest, invoice_id: int, payload: InvoicePatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    billing.invoice_update(invoice_id=invoice_id, version=version, data=data, by=request.user)
    return _invoice(request, invoice_id)


@router.post("/invoices/{invoice_id}/void", response={200: InvoiceOut, **ERRORS},
             summary="Void (作废) an issued invoice, with the reason")  # fmt: skip
def void_invoice(request: AuthedRequest, invoice_id: int, payload: InvoiceVoidIn) -> Any:
    billing.invoice_void(
        invoice_id=invoice_id, version=payload.version, reason=payload.reason, by=request.user
    )
    return _invoice(request, invoice_id)


@router.post("/invoices/{invoice_id}/files", response={201: DocumentOut, **ERRORS},
             summary="Keep the invoice scan or PDF (multipart field `file`)")  # fmt: skip
def add_invoice_file(request: AuthedRequest, invoice_id: int, file: UploadedFile | None = FILE) -> Any:
    name, data = _upload(file)
    return Status(201, document_out(billing.invoice_file_add(invoice_id=invoice_id, name=name, data=data,
                                                             by=request.user)))  # fmt: skip


# --- payments ------------------------------------------------------------------------------------------


class PaymentFilters(Schema):
    customer: int | None = None
    contract: int | None = None
    approval_status: str | None = None
    method: str | None = None
    q: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "-received_on"
    limit: int | None = None
    offset: int | None = None


def _payment(request: AuthedRequest, payment_id: int) -> dict[str, Any]:
    return payment_out(selectors.payment_get(actor=request.user, payment_id=payment_id), detail=True)


@router.get(
    "/payments", response={200: ListOut[PaymentOut], **ERRORS}, summary="List payments received (回款)"
)
def list_payments(request: AuthedRequest, filters: Query[PaymentFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.payment_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [payment_out(p) for p in page.items], "count": page.count}


@router.post("/payments", response={201: PaymentOut, **ERRORS},
             summary="Record a payment, matched to instalments of its contract")  # fmt: skip
def create_payment(request: AuthedRequest, payload: PaymentCreateIn) -> Any:
    data = payload.dict(exclude_unset=True)
    contract_id, matches = data.pop("contract"), data.pop("matches", [])
    p = billing.payment_create(contract_id=contract_id, data=data, matches=matches, by=request.user)
    return Status(201, _payment(request, p.pk))


@router.get("/payments/{payment_id}", response={200: PaymentOut, **ERRORS})
def get_payment(request: AuthedRequest, payment_id: int) -> Any:
    return _payment(request, payment_id)


@router.patch("/payments/{payment_id}", response={200: PaymentOut, **ERRORS})
def update_payment(request: AuthedRequest, payment_id: int, payload: PaymentPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version, matches = data.pop("version"), data.pop("matches", None)
    billing.payment_update(
        payment_id=payment_id, version=version, data=data, matches=matches, by=request.user
    )
    return _payment(request, payment_id)


@router.delete("/payments/{payment_id}", response={204: None, **ERRORS})
def delete_payment(request: AuthedRequest, payment_id: int) -> Any:
    billing.payment_delete(payment_id=payment_id, by=request.user)
    return Status(204, None)


@router.post("/payments/{payment_id}/proofs", response={201: DocumentOut, **ERRORS},
             summary="Keep a payment proof (multipart field `file`)")  # fmt: skip
def add_payment_proof(request: AuthedRequest, payment_id: int, file: UploadedFile | None = FILE) -> Any:
    name, data = _upload(file)
    return Status(201, document_out(billing.payment_proof_add(payment_id=payment_id, name=name, data=data,
                                                              by=request.user)))  # fmt: skip


# --- receivables ---------------------------------------------------------------------------------------


@router.get(
    "/receivables/aging", response={200: AgingOut, **ERRORS}, summary="Receivables aging (应收账龄)",
    description="`scope`: mine / team / dept / all (those the user's roles allow; default the widest); `group`: "
    "customer (default) / owner / department; buckets current (未到期), d1_30, d31_60, d61_90, d90_plus.",
)  # fmt: skip
def get_aging(
    request: AuthedRequest, scope: str | None = None, group: str = "customer", sort: str = "-total",
    limit: int | None = None, offset: int | None = None,
) -> Any:  # fmt: skip
    a = selectors.receivables_aging(
        actor=request.user, scope=scope, group=group, sort=sort, limit=limit, offset=offset
    )
    return {
        "scope": a.scope, "group": a.group, "today": a.today, "count": a.count, "totals": a.totals, "total": a.total,
        "overdue": a.overdue,
        "items": [{"key": r.key, "label": r.label, "buckets": r.buckets, "total": r.total, "overdue": r.overdue}
                  for r in a.rows],
    }  # fmt: skip


@router.get("/receivables", response={200: ListOut[ReceivableOut], **ERRORS},
            summary="Open instalments behind the aging, oldest due first")  # fmt: skip
def list_receivables(
    request: AuthedRequest, scope: str | None = None, bucket: str | None = None, customer: int | None = None,
    owner: int | None = None, department: int | None = None, limit: int | None = None, offset: int | None = None,
) -> Any:  # fmt: skip
    filters = {"bucket": bucket, "customer": customer, "owner": owner, "department": department}
    page = selectors.receivable_list(
        actor=request.user, scope=scope, filters=filters, limit=limit, offset=offset
    )
    return {"items": [receivable_out(i) for i in page.items], "count": page.count}


# --- the customer's documents and figures ----------------------------------------------------------------


@router.get("/customers/{customer_id}/documents", response={200: ListOut[DocumentOut], **ERRORS},
            summary="Every invoice, shipment proof, payment proof and contract attachment of a customer")  # fmt: skip
def customer_documents(
    request: AuthedRequest, customer_id: int, kind: str | None = None, q: str | None = None,
    date_from: str | None = None, date_to: str | None = None, limit: int | None = None, offset: int | None = None,
) -> Any:  # fmt: skip
    customer = customer_get(actor=request.user, customer_id=customer_id)
    page = selectors.customer_documents(
        actor=request.user, customer=customer, filters={"kind": kind, "q": q, "date_from": date_from, "date_to": date_to},
        limit=limit, offset=offset,
    )  # fmt: skip
    return {"items": [document_out(d) for d in page.items], "count": page.count}


@router.get(
    "/order-documents/{document_id}", response={200: None, **ERRORS}, url_name="download_order_document"
)
def download_document(request: AuthedRequest, document_id: int) -> Any:
    d = selectors.document_get(actor=request.user, document_id=document_id)
    return download_response(d.file, name=d.name, content_type=d.content_type)


@router.delete("/order-documents/{document_id}", response={204: None, **ERRORS})
def delete_document(request: AuthedRequest, document_id: int) -> Any:
    services.document_remove(document_id=document_id, by=request.user)
    return Status(204, None)


@router.get("/customers/{customer_id}/order-stats", response={200: CustomerOrderStatsOut, **ERRORS},
            summary="First/last order date, number of orders, revenue of the last 12 months (CUS-2)")  # fmt: skip
def customer_order_stats(request: AuthedRequest, customer_id: int) -> Any:
    from dataclasses import asdict

    customer = customer_get(actor=request.user, customer_id=customer_id)
    return asdict(selectors.customer_order_figures(actor=request.user, customer=customer))
