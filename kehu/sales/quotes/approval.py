"""The quote's side of the approval contract (common approvals engine, issue 4): discounts beyond the
letterhead's threshold need approval before the quote may be sent (SAL-5).

The engine (``kehu.approvals``) registers the quote document type from these plain functions; this
module does not import it (the engine sits below sales and calls up through its registry)."""

from __future__ import annotations

from typing import Any

from kehu.access.models import User

from .models import Quote
from .rules import discount_needs_approval


def needs_approval(quote: Quote) -> bool:
    """True when some line sells more than the letterhead's threshold below its list price."""
    from .selectors import letterhead_get

    return discount_needs_approval(
        max_discount=quote.max_discount, threshold=letterhead_get().discount_threshold
    )


def load_quote(actor: User, pk: int) -> Quote:
    """The quote if ``actor`` may see it, else ``NotFound``."""
    from .selectors import quote_get

    return quote_get(actor=actor, quote_id=pk)


def describe_quote(quote: Quote) -> dict[str, Any]:
    """What an approver sees of the quote: title, amount and currency, owner, department, customer, page."""
    from django.urls import reverse

    return {
        "title": f"{quote.label} {quote.title}",
        "amount": quote.total,
        "currency": quote.currency,
        "owner": quote.owner,
        "department": quote.owner.department,
        "customer_id": quote.customer_id,
        "url": reverse("sales:quote_detail", args=[quote.pk]),
    }


def on_quote_status(quote: Quote, status: str, by: User | None) -> None:
    """The engine tells the quote its new approval status."""
    from .services import quote_set_approval_status

    quote_set_approval_status(quote=quote, status=status, by=by)
