"""The approval contract (see the approvals app): what the engine needs of contracts, invoices and
payments. The lead registers these with ``kehu.approvals.registry.register_document_type`` in apps.py:

    DocumentType(key="contract", label=_("合同"), load=load_contract, describe=describe_contract,
                 on_status=on_contract_status)
    … and likewise "invoice" and "payment".

``load_*`` returns the document if the actor may see it (else NotFound); ``describe_*`` what the
approval shows and routes on; ``on_*_status`` is called by the engine with the new status after its
own checks — an approved contract goes in force, an approved payment counts as received.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from kehu.access.models import User

from . import billing, selectors, services
from .models import Contract, Invoice, PaymentRecord


def load_contract(actor: User, pk: int) -> Contract:
    return selectors.contract_get(actor=actor, contract_id=pk)


def describe_contract(doc: Contract) -> dict[str, Any]:
    return {
        "title": f"{doc.number} {doc.title}", "amount": doc.amount, "currency": doc.currency, "owner": doc.owner,
        "department": doc.department, "customer_id": doc.customer_id,
        "url": reverse("orders:contract_detail", args=[doc.pk]),
    }  # fmt: skip


def on_contract_status(doc: Contract, status: str, by: User | None) -> None:
    services.contract_set_approval_status(contract=doc, status=status, by=by)


def load_invoice(actor: User, pk: int) -> Invoice:
    return selectors.invoice_get(actor=actor, invoice_id=pk)


def describe_invoice(doc: Invoice) -> dict[str, Any]:
    return {
        "title": f"{doc.get_kind_display()} {doc.title} {doc.number}".strip(), "amount": doc.amount,
        "currency": doc.currency, "owner": doc.owner, "department": doc.department, "customer_id": doc.customer_id,
        "url": reverse("orders:invoice_detail", args=[doc.pk]),
    }  # fmt: skip


def on_invoice_status(doc: Invoice, status: str, by: User | None) -> None:
    billing.invoice_set_approval_status(invoice=doc, status=status, by=by)


def load_payment(actor: User, pk: int) -> PaymentRecord:
    return selectors.payment_get(actor=actor, payment_id=pk)


def describe_payment(doc: PaymentRecord) -> dict[str, Any]:
    return {
        "title": f"{doc.number} {doc.payer}".strip(), "amount": doc.amount, "currency": doc.currency,
        "owner": doc.owner, "department": doc.department, "customer_id": doc.customer_id,
        "url": reverse("orders:payment_detail", args=[doc.pk]),
    }  # fmt: skip


def on_payment_status(doc: PaymentRecord, status: str, by: User | None) -> None:
    billing.payment_set_approval_status(payment=doc, status=status, by=by)
