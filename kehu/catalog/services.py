"""Writes of the product catalogue (SAL-9): every one opens with ``require`` and ends with an event."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import Conflict, NotFound, ValidationError
from kehu.core.events import diff, emit

from .events import ProductChanged
from .models import Product
from .pictures import check_picture
from .rules import clean_product, product_search_text

SNAPSHOT_FIELDS = ("code", "name", "model", "specification", "category", "unit", "unit_kind", "price", "cost",
                   "currency", "packaging", "features", "risk_level", "electronic_delivery", "sample_limit",
                   "is_active")  # fmt: skip


def _event(by: User | None, verb: str, product: Product, changes: dict[str, Any] | None = None) -> Any:
    return ProductChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="product",
        subject_id=product.pk,
        subject_label=f"{product.code} {product.name}"[:200],
        changes=changes or {},
    )


def _snapshot(product: Product) -> dict[str, Any]:
    return {name: getattr(product, name) for name in SNAPSHOT_FIELDS}


def _get(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("产品不存在"), field="product", code="product_not_found")
    return product


def _code_free(code: str, *, except_id: int | None = None) -> None:
    taken = Product.objects.filter(code__iexact=code)
    if except_id is not None:
        taken = taken.exclude(pk=except_id)
    if taken.exists():
        raise ValidationError(_("产品编号“%(c)s”已被使用"), field="code", params={"c": code})


def _store_picture(product: Product, data: bytes) -> None:
    """Store a checked picture under a fresh name; the old file stays, since quotes that copied it
    still show it (a signed document never changes its pictures)."""
    picture = check_picture(data)
    name = f"{uuid.uuid4().hex}.{picture.extension}"
    product.picture.save(name, ContentFile(picture.data), save=False)


@transaction.atomic
def product_create(*, data: dict[str, Any], picture: bytes | None = None, by: User) -> Product:
    """Add a product to the catalogue (SAL-9). The code is unique (case-insensitive)."""
    require(by, Perm.PRODUCT_MANAGE)
    cleaned = clean_product(data, creating=True)
    _code_free(cleaned["code"])
    product = Product(**cleaned)
    product.search_text = product_search_text(name=product.name, code=product.code, model=product.model)
    if picture:
        _store_picture(product, picture)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise ValidationError(
            _("产品编号“%(c)s”已被使用"), field="code", params={"c": product.code}
        ) from None
    emit(_event(by, "create", product, diff({}, _snapshot(product))))
    return product


@transaction.atomic
def product_update(
    *, product_id: int, version: int, data: dict[str, Any], picture: bytes | None = None, by: User
) -> Product:
    """Change a product's fields (and picture). Quotes and orders keep the values they copied."""
    require(by, Perm.PRODUCT_MANAGE)
    product = _get(product_id)
    if product.version != version:
        raise Conflict(
            _("该记录已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
            field="version",
            code="stale_version",
            params={"version": version},
        )
    cleaned = clean_product(data, creating=False)
    if "code" in cleaned:
        _code_free(cleaned["code"], except_id=product.pk)
    before = _snapshot(product)
    for key, value in cleaned.items():
        setattr(product, key, value)
    product.search_text = product_search_text(name=product.name, code=product.code, model=product.model)
    fields = [*cleaned, "search_text"]
    if picture:
        _store_picture(product, picture)
        fields.append("picture")
    product.save_versioned(expected_version=version, fields=fields)
    changes = diff(before, _snapshot(product))
    if picture:
        changes["picture"] = [None, product.picture.name]
    emit(_event(by, "update", product, changes))
    return product


@transaction.atomic
def product_set_picture(*, product_id: int, data: bytes, by: User) -> Product:
    """Replace a product's picture (JPG/PNG/GIF/WebP up to 5 MB, checked with Pillow)."""
    require(by, Perm.PRODUCT_MANAGE)
    product = _get(product_id)
    old = product.picture.name
    _store_picture(product, data)
    product.save_versioned(expected_version=None, fields=["picture"])
    emit(_event(by, "picture", product, {"picture": [old or None, product.picture.name]}))
    return product


def _set_active(product_id: int, active: bool, by: User) -> Product:
    product = _get(product_id)
    if product.is_active == active:
        message = _("该产品已在售") if active else _("该产品已停售")
        raise Conflict(message, field="is_active", code="unchanged")
    product.is_active = active
    product.save_versioned(expected_version=None, fields=["is_active"])
    emit(_event(by, "reactivate" if active else "deactivate", product, {"is_active": [not active, active]}))
    return product


@transaction.atomic
def product_deactivate(*, product_id: int, by: User) -> Product:
    """Take a product off sale: it stays on every quote and order that has it, but new quote lines
    cannot pick it (products are never deleted once used)."""
    require(by, Perm.PRODUCT_MANAGE)
    return _set_active(product_id, False, by)


@transaction.atomic
def product_reactivate(*, product_id: int, by: User) -> Product:
    """Put a product back on sale."""
    require(by, Perm.PRODUCT_MANAGE)
    return _set_active(product_id, True, by)
