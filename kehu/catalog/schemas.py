"""API schemas of the product catalogue (SAL-9): strict input, outputs built by ``product_out``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from .models import Product


class ProductFields(StrictIn):
    name: str | None = None
    model: str | None = None
    specification: str | None = None
    category: str | None = None
    unit: str | None = None
    unit_kind: str | None = None
    price: Decimal | None = None
    cost: Decimal | None = None
    currency: str | None = None
    packaging: str | None = None
    features: str | None = None
    risk_level: str | None = None
    electronic_delivery: bool | None = None
    sample_limit: int | None = None


class ProductCreateIn(ProductFields):
    code: str
    name: str


class ProductPatchIn(ProductFields):
    version: int
    code: str | None = None


class ProductOut(BaseModel):
    id: int
    code: str
    name: str
    model: str
    specification: str
    category: str
    unit: str
    unit_kind: str
    price: Decimal
    cost: Decimal
    margin: Decimal | None
    currency: str
    packaging: str
    features: str
    risk_level: str
    electronic_delivery: bool
    sample_limit: int
    is_active: bool
    picture_url: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class ProductListOut(BaseModel):
    items: list[ProductOut]
    count: int


def product_out(p: Product) -> dict[str, Any]:
    margin = p.margin
    return {
        "id": p.pk, "code": p.code, "name": p.name, "model": p.model, "specification": p.specification,
        "category": p.category, "unit": p.unit, "unit_kind": p.unit_kind, "price": p.price, "cost": p.cost,
        "margin": margin.quantize(Decimal("0.0001")) if margin is not None else None, "currency": p.currency,
        "packaging": p.packaging, "features": p.features, "risk_level": p.risk_level,
        "electronic_delivery": p.electronic_delivery, "sample_limit": p.sample_limit, "is_active": p.is_active,
        "picture_url": reverse("api:product_picture", args=[p.pk]) if p.picture else None,
        "created_at": p.created_at, "updated_at": p.updated_at, "version": p.version,
    }  # fmt: skip
