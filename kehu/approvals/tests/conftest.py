"""A TEST-ONLY approvable document type, so the engine can be exercised before the real documents
(contracts, invoices, payment records, quotes) exist on this branch.

``test_deal`` is backed by ``kehu.sales.models.Opportunity``: loading goes through the real
``opportunity_get`` (so the opportunity's visibility applies), and the "document's" approval status
lives in the in-memory dict ``DOC_STATUS`` keyed by the opportunity's id — the engine only ever talks
to a document through its ``DocumentType``, which is exactly what this stands in for. An opportunity
whose description contains "免审" needs no approval. Nothing here is registered outside the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from kehu.access.services import department_update
from kehu.approvals.choices import ApprovalStatus
from kehu.approvals.flows import approval_flow_create
from kehu.approvals.registry import DocumentType, register_document_type, unregister_document_type
from kehu.customers.services import customer_create
from kehu.sales.selectors import opportunity_get
from kehu.sales.services import opportunity_create

TEST_TYPE = "test_deal"
DOC_STATUS: dict[int, str] = {}
STATUS_CALLS: list[tuple[int, str, Any]] = []


def _load(actor: Any, pk: int) -> Any:
    return opportunity_get(actor=actor, opportunity_id=pk)


def _describe(opp: Any) -> dict[str, Any]:
    return {
        "title": f"测试单据 {opp.name}",
        "amount": opp.amount,
        "currency": opp.currency,
        "owner": opp.owner,
        "department": opp.department,
        "customer_id": opp.customer_id,
        "url": reverse("customers:detail", args=[opp.customer_id]),
    }


def _on_status(opp: Any, status: str, by: Any) -> None:
    DOC_STATUS[opp.pk] = status
    STATUS_CALLS.append((opp.pk, status, by.pk if by else None))


def _needs_approval(opp: Any) -> bool:
    return "免审" not in (opp.description or "")


TEST_DOCUMENT = DocumentType(
    key=TEST_TYPE,
    label="测试单据",
    load=_load,
    describe=_describe,
    on_status=_on_status,
    needs_approval=_needs_approval,
)


@pytest.fixture(autouse=True)
def test_document_type() -> Iterator[DocumentType]:
    register_document_type(TEST_DOCUMENT)
    DOC_STATUS.clear()
    STATUS_CALLS.clear()
    yield TEST_DOCUMENT
    unregister_document_type(TEST_TYPE)


def doc_status(opp: Any) -> str:
    return DOC_STATUS.get(opp.pk, ApprovalStatus.DRAFT.value)


@pytest.fixture
def org(cast: SimpleNamespace) -> SimpleNamespace:
    """The cast's departments with managers: 华东 is managed by 王经理 (manager_east), 销售部 by 吴理财
    (rm), 总部 by the admin."""
    for dept, manager in ((cast.east, cast.manager_east), (cast.sales, cast.rm), (cast.hq, cast.admin)):
        department_update(department=dept, version=dept.version, manager=manager, by=cast.admin)
        dept.refresh_from_db()
    return cast


def make_deal(owner: Any, *, amount: Any = "1000", name: str = "华东大单", description: str = "") -> Any:
    """An opportunity of ``owner`` on a fresh customer of theirs — the test document."""
    customer = customer_create(
        data={"name": f"{name}客户{Decimal(str(amount)):.0f}{_seq()}"}, by=owner, confirm_duplicates=True
    )
    return opportunity_create(
        customer_id=customer.pk, name=name, amount=amount, description=description, by=owner
    )


_counter = iter(range(1, 1_000_000))


def _seq() -> str:
    return f"{next(_counter):04d}"


def make_flow(
    by: Any, *steps: dict[str, Any], department: Any = None, min_amount: Any = None, name: str = ""
) -> Any:
    return approval_flow_create(
        data={
            "document_type": TEST_TYPE,
            "name": name or f"测试流程{_seq()}",
            "department": department.pk if department is not None else None,
            "min_amount": min_amount,
            "steps": list(steps),
        },
        by=by,
    )


def supervisor() -> dict[str, Any]:
    return {"kind": "supervisor"}


def any_of(*users: Any) -> dict[str, Any]:
    return {"kind": "any_of", "users": [u.pk for u in users]}


def all_of(*users: Any) -> dict[str, Any]:
    return {"kind": "all_of", "users": [u.pk for u in users]}
