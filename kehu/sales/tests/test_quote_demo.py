"""``kehu demo`` fills the catalogue, the letterhead and past quotes (ADR 0009), so that the quote history
has something to show on a fresh install."""

from __future__ import annotations

import pytest

from kehu.catalog.models import Product
from kehu.customers import demo
from kehu.sales.models import Quote, QuoteLine
from kehu.sales.quotes import selectors

pytestmark = pytest.mark.django_db


def test_the_demo_has_products_a_letterhead_and_past_quotes_with_history() -> None:
    loaded = demo.load_demo(customers=400, seed=5, password="kehu-Demo-Pass-2026")
    assert loaded.extra["products"] == Product.objects.count() >= 15
    assert Product.objects.filter(is_active=False).exists() and Product.objects.exclude(picture="").exists()
    assert selectors.letterhead_get().company_name
    assert loaded.extra["quotes"] == Quote.objects.count() > 0
    assert loaded.extra["quote_lines"] == QuoteLine.objects.count()
    quote = Quote.objects.select_related("owner", "customer").first()
    assert quote is not None and quote.total == sum(line.amount for line in quote.lines.all())
    history = selectors.quote_history(
        actor=quote.owner, customer=quote.customer, product_ids=[quote.lines.first().product_id]
    )
    assert history[0].same_customer[0].quote_id == quote.pk
