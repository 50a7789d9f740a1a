"""The one NinjaAPI (architecture.md): routers from each domain, errors mapped once."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from kehu.access.api import router as access_router
from kehu.access.api_auth import API_AUTH
from kehu.analytics.api import router as analytics_router
from kehu.approvals.api import router as approvals_router
from kehu.audit.api import router as audit_router
from kehu.catalog.api import router as catalog_router
from kehu.core.errors import KehuError
from kehu.customers.api import router as customers_router
from kehu.engagement.api import router as engagement_router
from kehu.engagement.mail.api import router as mail_router
from kehu.imports.api import router as imports_router
from kehu.jobs.api import router as jobs_router
from kehu.notifications.api import router as notifications_router
from kehu.orders.api import router as orders_router
from kehu.sales.api import router as sales_router
from kehu.sales.leads.api import router as leads_router
from kehu.sales.quotes.api import router as quotes_router
from kehu.service.api import router as service_router
from kehu.targets.api import router as targets_router

api = NinjaAPI(
    title="Kehu API",
    version="1",
    description="Kehu (客户) REST API. Authenticate with `POST /api/v1/auth/token`, then "
    "`Authorization: Bearer <token>`. Lists take `?limit=&offset=` and return `{items, count}`; "
    "errors are `{code, message, field}`; updates carry `version` (stale → 409).",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/", access_router)
api.add_router("/", customers_router)
api.add_router("/", audit_router)
api.add_router("/", engagement_router)
api.add_router("/", imports_router)
api.add_router("/", jobs_router)
api.add_router("/", notifications_router)
api.add_router("/", targets_router)
api.add_router("/", mail_router)
api.add_router("/", sales_router)
api.add_router("/", approvals_router)
api.add_router("/", catalog_router)
api.add_router("/", quotes_router)
api.add_router("/", orders_router)
api.add_router("/", leads_router)
api.add_router("/", analytics_router)
api.add_router("/", service_router)


def _error(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(KehuError)
def kehu_error(request: HttpRequest, exc: KehuError) -> HttpResponse:
    return _error(request, exc.status, exc.as_dict())


def _loc_field(loc: list[Any]) -> str | None:
    parts = [
        str(p)
        for p in loc
        if p not in ("body", "query", "path", "payload", "data") and not isinstance(p, int)
    ]
    return parts[-1] if parts else None


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    field = _loc_field(list(first.get("loc", [])))
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        zh, en = f"未知字段：{field}", f"Unknown field: {field}"
    elif kind == "missing":
        zh, en = f"缺少必填字段：{field}", f"Missing required field: {field}"
    else:
        zh = f"字段 {field} 的值无效：{first.get('msg', '')}"
        en = f"Invalid value for {field}: {first.get('msg', '')}"
    lang = getattr(request, "LANGUAGE_CODE", "zh-hans")
    return _error(
        request,
        422,
        {
            "code": "invalid",
            "message": en if lang == "en" else zh,
            "field": field,
            "messages": {"zh-hans": zh, "en": en},
            "errors": exc.errors,
        },
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(
        request,
        401,
        {"code": "unauthenticated", "message": _("请先登录或提供有效的 API 令牌"), "field": None},
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, {"code": "not_found", "message": _("资源不存在"), "field": None})


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, {"code": "http_error", "message": str(exc), "field": None})
