"""Builders for the lead tests: products (the catalogue has no service on this branch yet, so they are
plain rows) and leads through the real ``lead_create``."""

from __future__ import annotations

from decimal import Decimal
from itertools import count
from typing import Any

from kehu.catalog.models import Product
from kehu.sales.leads import services
from kehu.sales.leads.models import Lead

_n = count(1)


def make_product(**fields: Any) -> Product:
    n = next(_n)
    values: dict[str, Any] = {"code": f"P{n:05d}", "name": f"产品{n}", "price": Decimal("100"), "unit": "台"}
    values.update(fields)
    return Product.objects.create(**values)


def lead_data(**data: Any) -> dict[str, Any]:
    n = next(_n)
    out: dict[str, Any] = {
        "company_name": f"测试询盘公司{n}有限公司",
        "contact_name": "李工",
        "mobile": f"139{n:08d}",
        "email": f"buyer{n}@testco{n}.cn",
        "website": f"www.testco{n}.cn",
        "content": "请报价",
        "source": "inbound",
    }
    out.update(data)
    return out


def make_lead(by: Any, **data: Any) -> Lead:
    return services.lead_create(data=lead_data(**data), by=by)
