"""Customers, contacts, products, opportunities and quotes for the sales tests, made through the real
services (the pipeline tests' products are plain rows; the catalogue's own factories make real ones)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from kehu.catalog.models import Product
from kehu.customers import services as customer_services
from kehu.sales import services
from kehu.sales.models import Opportunity, Stage, StageGroup

_NAMES = iter(f"测试客户{chr(0x4E00 + i * 37)}{chr(0x5E00 + i * 53)}有限公司" for i in range(100000))


def make_customer(by: Any, name: str | None = None, **data: Any) -> Any:
    return customer_services.customer_create(
        data={"name": name or next(_NAMES), **data}, by=by, confirm_duplicates=True
    )


def make_contact(customer: Any, by: Any, name: str = "张三") -> Any:
    return customer_services.contact_create(customer_id=customer.pk, data={"name": name}, by=by)


def make_product(name: str = "数控机床", price: str = "1000.00", code: str = "P-001") -> Product:
    return Product.objects.create(code=code, name=name, price=Decimal(price))


def make_opportunity(
    by: Any,
    *,
    customer: Any = None,
    name: str = "二期产线改造",
    amount: Any = "100000",
    expected_close: date | None = None,
    owner: Any = None,
) -> Opportunity:
    customer = customer or make_customer(by)
    return services.opportunity_create(
        customer_id=customer.pk, name=name, amount=amount, expected_close=expected_close, owner=owner, by=by
    )


def default_group() -> StageGroup:
    return StageGroup.objects.get(is_default=True)


def stage(name: str, group: StageGroup | None = None) -> Stage:
    return (group or default_group()).stages.get(name=name)


def move(opp: Opportunity, stage_name: str, by: Any, **kw: Any) -> Opportunity:
    opp.refresh_from_db()
    return services.opportunity_move_stage(
        opportunity_id=opp.pk,
        version=opp.version,
        stage_id=stage(stage_name, opp.stage_group).pk,
        by=by,
        **kw,
    )


def make_quote(by: Any, customer: Any, title: str = "二期产线伺服电机报价", **data: Any) -> Any:
    from kehu.sales.quotes.services import quote_create

    return quote_create(customer_id=customer.pk, data={"title": title, **data}, by=by)


def add_line(by: Any, quote: Any, product: Any, quantity: str = "10", **data: Any) -> Any:
    from kehu.sales.quotes.services import quote_line_add

    return quote_line_add(
        quote_id=quote.pk, data={"product": product.pk, "quantity": quantity, **data}, by=by
    )
