"""Quotes for tests, made through the real services."""

from __future__ import annotations

from typing import Any


def make_customer(by: Any, name: str = "苏州远航电子有限公司", **data: Any) -> Any:
    from kehu.customers.services import customer_create

    return customer_create(data={"name": name, **data}, by=by)


def make_quote(by: Any, customer: Any, title: str = "二期产线伺服电机报价", **data: Any) -> Any:
    from kehu.sales.quotes.services import quote_create

    return quote_create(customer_id=customer.pk, data={"title": title, **data}, by=by)


def add_line(by: Any, quote: Any, product: Any, quantity: str = "10", **data: Any) -> Any:
    from kehu.sales.quotes.services import quote_line_add

    return quote_line_add(
        quote_id=quote.pk, data={"product": product.pk, "quantity": quantity, **data}, by=by
    )
