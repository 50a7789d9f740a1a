"""Thin REST endpoints over the catalogue services and selectors (SAL-9)."""

from __future__ import annotations

from typing import Any

from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS

from . import selectors, services
from .schemas import ProductCreateIn, ProductListOut, ProductOut, ProductPatchIn, product_out

router = Router(tags=["products"])


class ProductFilters(Schema):
    q: str | None = None
    category: str | None = None
    active: str | None = None
    risk_level: str | None = None
    sort: str = "code"
    limit: int | None = None
    offset: int | None = None


@router.get("/products", response={200: ProductListOut, **ERRORS}, summary="List products")
def list_products(request: AuthedRequest, filters: Query[ProductFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.product_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [product_out(p) for p in page.items], "count": page.count}


@router.post("/products", response={201: ProductOut, **ERRORS}, summary="Add a product")
def create_product(request: AuthedRequest, payload: ProductCreateIn) -> Any:
    product = services.product_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, product_out(product))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS})
def get_product(request: AuthedRequest, product_id: int) -> Any:
    return product_out(selectors.product_get(actor=request.user, product_id=product_id))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS})
def update_product(request: AuthedRequest, product_id: int, payload: ProductPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    product = services.product_update(product_id=product_id, version=version, data=data, by=request.user)
    return product_out(product)


@router.post("/products/{product_id}/deactivate", response={200: ProductOut, **ERRORS})
def deactivate_product(request: AuthedRequest, product_id: int) -> Any:
    return product_out(services.product_deactivate(product_id=product_id, by=request.user))


@router.post("/products/{product_id}/reactivate", response={200: ProductOut, **ERRORS})
def reactivate_product(request: AuthedRequest, product_id: int) -> Any:
    return product_out(services.product_reactivate(product_id=product_id, by=request.user))


@router.post(
    "/products/{product_id}/picture",
    response={200: ProductOut, **ERRORS},
    summary="Replace the picture (multipart field `file`: JPG/PNG/GIF/WebP ≤ 5 MB)",
)
def upload_picture(
    request: AuthedRequest,
    product_id: int,
    file: UploadedFile | None = File(None),  # noqa: B008 (ninja)
) -> Any:
    data = file.read() if file else b""
    return product_out(services.product_set_picture(product_id=product_id, data=data, by=request.user))


@router.get("/products/{product_id}/picture", response={200: None, **ERRORS}, url_name="product_picture")
def get_picture(request: AuthedRequest, product_id: int) -> Any:
    data, content_type = selectors.product_picture(actor=request.user, product_id=product_id)
    return selectors.picture_response(data, content_type)
