"""Reads of the product catalogue (SAL-9), always starting from ``visible_to``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, paginate

from .choices import RiskLevel
from .models import Product

FILTERS = frozenset({"q", "category", "active", "risk_level"})
SORTS = frozenset({"code", "-code", "name", "-name", "price", "-price", "updated_at", "-updated_at"})


def product_search_q(q: str) -> Q | None:
    """Products whose name, pinyin, initials, code or model contain ``q`` (case-insensitive)."""
    query = "".join((q or "").split()).lower()
    return Q(search_text__contains=query) if query else None


def product_queryset(*, actor: User, filters: dict[str, Any] | None = None, sort: str = "code") -> QuerySet:
    """The products ``actor`` may see that match ``filters``, in ``sort`` order; a bad filter or sort is
    refused naming it."""
    filters = clean_filters(filters, FILTERS)
    if sort not in SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    qs = Product.objects.visible_to(actor)
    search = product_search_q(str(filters.get("q", "")))
    if search is not None:
        qs = qs.filter(search)
    if "category" in filters:
        qs = qs.filter(category=filters["category"])
    if "active" in filters:
        value = str(filters["active"]).lower()
        if value not in ("1", "0", "true", "false", "yes", "no"):
            raise ValidationError(_("筛选值“%(v)s”无效"), field="active", params={"v": filters["active"]})
        qs = qs.filter(is_active=value in ("1", "true", "yes"))
    if "risk_level" in filters:
        level = str(filters["risk_level"]).upper()
        if level not in RiskLevel.values and level != "NONE":
            raise ValidationError(
                _("筛选值“%(v)s”无效"), field="risk_level", params={"v": filters["risk_level"]}
            )
        qs = qs.filter(risk_level="" if level == "NONE" else level)
    tie = "-id" if sort.startswith("-") else "id"
    return qs.order_by(sort, tie)


def product_list(
    *, actor: User, filters: dict[str, Any] | None = None, sort: str = "code", limit: Any = None,
    offset: Any = None,
) -> Page:  # fmt: skip
    return paginate(product_queryset(actor=actor, filters=filters, sort=sort), limit=limit, offset=offset)


def product_get(*, actor: User, product_id: int) -> Product:
    """One product the actor may see; otherwise ``NotFound``."""
    found = Product.objects.visible_to(actor).filter(pk=product_id).first()
    if found is None:
        raise NotFound(_("产品不存在或无权查看"), field="product", code="product_not_found")
    return found


def product_categories(*, actor: User) -> list[str]:
    """The categories in use, for the list filter (a short list: categories are few)."""
    return list(
        Product.objects.visible_to(actor)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()[:200]
    )


def product_choices(*, actor: User, q: str = "", limit: int = 20) -> list[Product]:
    """Active products for a quote line's product picker (by name, pinyin, code or model)."""
    qs = Product.objects.visible_to(actor).active()
    search = product_search_q(q)
    if search is not None:
        qs = qs.filter(search)
    return list(qs.order_by("code")[:limit])


def product_picture(*, actor: User, product_id: int) -> tuple[bytes, str]:
    """The picture of a product the actor may see, with its content type; ``NotFound`` when none."""
    from .pictures import content_type_of

    product = product_get(actor=actor, product_id=product_id)
    if not product.picture:
        raise NotFound(_("该产品没有图片"), field="picture", code="no_picture")
    with product.picture.open("rb") as handle:
        return handle.read(), content_type_of(product.picture.name or "")


def picture_response(data: bytes, content_type: str) -> Any:
    """A stored picture as an HTTP answer: never sniffed, kept by the browser's private cache."""
    from django.http import HttpResponse

    response = HttpResponse(data, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response
