"""The approvable document types (审批单据类型): higher domains register theirs from ``AppConfig.ready``.

The approval engine sits below the domains whose documents it approves (contracts, invoices, payment
records, quotes), so it never imports them. Each of those domains describes its document to the
engine through a ``DocumentType``: how to load one for an actor, what to copy onto the request
(``ApprovalSubject``), and a callback the engine calls with every new status (the document stores
it, locks itself while ``LOCKED`` and, on 通过, does its follow-up). ADR 0012.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.core.errors import ValidationError


@dataclass(frozen=True)
class ApprovalSubject:
    """What the engine copies from a document when it is submitted: the request shows it even to an
    approver outside the document's data scope, and flows are chosen by its department and amount."""

    title: str
    amount: Decimal | None
    currency: str
    owner: User
    department: Department | None
    customer_id: int | None
    url: str


def _always(doc: Any) -> bool:
    return True


@dataclass(frozen=True)
class DocumentType:
    """One kind of approvable document. ``describe`` may return an ``ApprovalSubject`` or a dict with
    its keys (the document slices write plain functions returning dicts). ``submit_perm`` is the
    permission a submitter needs besides seeing the document (e.g. ``Perm.CONTRACT_EDIT``); None
    leaves it to ``load``."""

    key: str
    label: Promise | str
    load: Callable[[User, int], Any]
    describe: Callable[[Any], ApprovalSubject | Mapping[str, Any]]
    on_status: Callable[[Any, str, User | None], None]
    needs_approval: Callable[[Any], bool] = _always
    submit_perm: Perm | None = None


_types: dict[str, DocumentType] = {}


def register_document_type(doc_type: DocumentType) -> None:
    """Make ``doc_type`` approvable; registering a key again replaces it (tests re-register)."""
    _types[doc_type.key] = doc_type


def unregister_document_type(key: str) -> None:
    """Forget a type (test clean-up)."""
    _types.pop(key, None)


def document_types() -> list[DocumentType]:
    return sorted(_types.values(), key=lambda t: t.key)


def document_type_choices() -> list[tuple[str, str]]:
    return [(t.key, str(t.label)) for t in document_types()]


def document_type(key: str, *, field: str = "document_type") -> DocumentType:
    """The registered type ``key``; anything else is refused naming ``field``."""
    found = _types.get(key or "")
    if found is None:
        raise ValidationError(
            _("未知的审批单据类型：%(key)s"), field=field, code="unknown_document_type", params={"key": key}
        )
    return found


def document_type_label(key: str) -> str:
    found = _types.get(key)
    return str(found.label) if found else key


def subject_of(doc_type: DocumentType, doc: Any) -> ApprovalSubject:
    """``describe(doc)`` as an ``ApprovalSubject`` whether the type returned one or a dict."""
    described = doc_type.describe(doc)
    if isinstance(described, ApprovalSubject):
        return described
    amount = described.get("amount")
    return ApprovalSubject(
        title=str(described.get("title") or ""),
        amount=None if amount is None else Decimal(str(amount)),
        currency=str(described.get("currency") or "CNY"),
        owner=described["owner"],
        department=described.get("department"),
        customer_id=described.get("customer_id"),
        url=str(described.get("url") or ""),
    )
