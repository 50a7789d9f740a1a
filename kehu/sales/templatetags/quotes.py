"""Template filters of the quote pages."""

from __future__ import annotations

from typing import Any

from django import template

from kehu.sales.quotes.rules import amount_in_words

register = template.Library()


@register.filter
def in_words(quote: Any) -> str:
    """The quote's total in 大写: the RMB amount itself, or the amount converted to RMB."""
    return amount_in_words(quote.total if quote.currency == "CNY" else quote.total_cny)
