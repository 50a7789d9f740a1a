"""Reads of quotations (SAL-5), always starting from ``visible_to``; the quote history for judging a new
quote against past ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, filter_id, paginate
from kehu.customers.models import Customer

from .choices import QuoteStatus
from .models import LETTERHEAD_PK, Letterhead, Quote, QuoteLine

FILTERS = frozenset({"q", "status", "approval_status", "customer", "owner", "opportunity", "all_revisions"})
SORTS = frozenset({"quoted_on", "-quoted_on", "number", "-number", "total", "-total", "updated_at", "-updated_at",
                   "valid_until", "-valid_until"})  # fmt: skip
HISTORY_LIMIT = 10


def letterhead_get() -> Letterhead:
    """Our letterhead: the stored row, or an empty one not yet saved (the settings page creates it)."""
    return Letterhead.objects.filter(pk=LETTERHEAD_PK).first() or Letterhead(pk=LETTERHEAD_PK)


def quote_queryset(
    *, actor: User, filters: dict[str, Any] | None = None, sort: str = "-quoted_on"
) -> QuerySet:
    filters = clean_filters(filters, FILTERS)
    if sort not in SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    qs = Quote.objects.visible_to(actor)
    if str(filters.get("all_revisions", "")).lower() not in ("1", "true", "yes"):
        qs = qs.filter(is_current=True)
    q = str(filters.get("q", "")).strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(customer__name__icontains=q))
    if "status" in filters:
        if filters["status"] not in QuoteStatus.values:
            raise ValidationError(_("筛选值“%(v)s”无效"), field="status", params={"v": filters["status"]})
        qs = qs.filter(status=filters["status"])
    if "approval_status" in filters:
        from kehu.approvals.choices import ApprovalStatus

        if filters["approval_status"] not in ApprovalStatus.values:
            raise ValidationError(
                _("筛选值“%(v)s”无效"), field="approval_status", params={"v": filters["approval_status"]}
            )
        qs = qs.filter(approval_status=filters["approval_status"])
    for key in ("customer", "owner", "opportunity"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    tie = "-id" if sort.startswith("-") else "id"
    return qs.select_related("customer", "owner", "opportunity").order_by(sort, tie)


def quote_list(
    *, actor: User, filters: dict[str, Any] | None = None, sort: str = "-quoted_on", limit: Any = None,
    offset: Any = None,
) -> Page:  # fmt: skip
    return paginate(quote_queryset(actor=actor, filters=filters, sort=sort), limit=limit, offset=offset)


def quote_get(*, actor: User, quote_id: int) -> Quote:
    """One quote (revision) the actor may see; otherwise ``NotFound`` (never says it exists)."""
    found = (
        Quote.objects.visible_to(actor)
        .select_related("customer", "customer__industry", "owner", "contact", "opportunity", "previous")
        .filter(pk=quote_id)
        .first()
    )
    if found is None:
        raise NotFound(_("报价单不存在或无权查看"), field="quote", code="quote_not_found")
    return found


def quote_lines(quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product").order_by("position", "id"))


def quote_line_get(*, actor: User, line_id: int) -> QuoteLine:
    line = QuoteLine.objects.filter(pk=line_id, quote__in=Quote.objects.visible_to(actor)).first()
    if line is None:
        raise NotFound(_("报价明细不存在或无权查看"), field="line", code="line_not_found")
    return line


def quote_revisions(*, actor: User, quote: Quote) -> list[Quote]:
    """Every revision of the quote's number the actor may see, newest first."""
    return list(
        Quote.objects.visible_to(actor)
        .filter(number=quote.number)
        .order_by("-revision")
        .select_related("owner")
    )


def customer_quote_count(actor: User, customer: Customer) -> int:
    """The badge of the 360° page's 报价 tab: the customer's quotes (newest revisions) the actor sees."""
    return Quote.objects.visible_to(actor).filter(customer=customer, is_current=True).count()


@dataclass(frozen=True)
class HistoryRow:
    """One past quote line of a product, as the comparison panel shows it (SAL-5 quote history)."""

    quote_id: int
    label: str
    title: str
    customer_id: int
    customer_name: str
    quoted_on: date
    status: str
    status_label: str
    opportunity_status: str | None
    opportunity_status_label: str | None
    currency: str
    exchange_rate: Decimal
    unit_price: Decimal
    list_price: Decimal
    discount: Decimal
    quantity: Decimal
    unit_cost: Decimal
    cost_components: dict[str, Any]
    margin: Decimal | None
    competitor_notes: str
    annual_volume_notes: str

    @property
    def unit_price_cny(self) -> Decimal:
        return (self.unit_price * self.exchange_rate).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class ProductHistory:
    product_id: int
    product_name: str
    same_customer: list[HistoryRow]
    similar_customers: list[HistoryRow]


def _rows(lines: QuerySet) -> list[HistoryRow]:
    out = []
    for line in lines:
        q = line.quote
        opp = q.opportunity
        out.append(
            HistoryRow(
                quote_id=q.pk,
                label=q.label,
                title=q.title,
                customer_id=q.customer_id,
                customer_name=q.customer.name,
                quoted_on=q.quoted_on,
                status=q.status,
                status_label=str(q.get_status_display()),
                opportunity_status=opp.status if opp else None,
                opportunity_status_label=str(opp.get_status_display()) if opp else None,
                currency=q.currency,
                exchange_rate=q.exchange_rate,
                unit_price=line.unit_price,
                list_price=line.list_price,
                discount=line.discount,
                quantity=line.quantity,
                unit_cost=line.unit_cost,
                cost_components=line.cost_components,
                margin=line.margin,
                competitor_notes=q.competitor_notes,
                annual_volume_notes=q.annual_volume_notes,
            )
        )
    return out


def quote_history(
    *, actor: User, customer: Customer, product_ids: list[int], exclude_number: str | None = None,
    limit: int = HISTORY_LIMIT,
) -> list[ProductHistory]:  # fmt: skip
    """For each product: the past quote lines of it to this customer, and to similar customers (same
    industry and same size — as far as both are known), newest first, with margins, prices, exchange
    rates, notes and outcomes (the quote accepted/rejected, its opportunity won/lost). Only quotes the
    actor may see are shown (SEC-1); the quote being edited (``exclude_number``) is left out."""
    from kehu.catalog.models import Product

    visible = Quote.objects.visible_to(actor)
    if exclude_number:
        visible = visible.exclude(number=exclude_number)
    base = QuoteLine.objects.filter(quote__in=visible).select_related(
        "quote", "quote__customer", "quote__opportunity"
    )
    similar_q: Q | None = None
    if customer.industry_id and customer.size:
        similar_q = Q(quote__customer__industry_id=customer.industry_id, quote__customer__size=customer.size)
    elif customer.industry_id:
        similar_q = Q(quote__customer__industry_id=customer.industry_id)
    names = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "name"))
    out = []
    for product_id in product_ids:
        lines = base.filter(product_id=product_id).order_by("-quote__quoted_on", "-quote__revision", "-id")
        same = _rows(lines.filter(quote__customer=customer)[:limit])
        similar = (
            _rows(lines.filter(similar_q).exclude(quote__customer=customer)[:limit])
            if similar_q is not None
            else []
        )
        out.append(ProductHistory(product_id, names.get(product_id, ""), same, similar))
    return out


def letterhead_for(*, actor: User) -> Letterhead:
    """Our letterhead for those who quote or keep the settings."""
    from kehu.access.perms import Perm
    from kehu.access.scope import can
    from kehu.core.errors import PermissionDenied

    if not (can(actor, Perm.QUOTE_VIEW) or can(actor, Perm.SETTINGS_EDIT)):
        raise PermissionDenied(_("您没有查看报价抬头的权限"))
    return letterhead_get()


def letterhead_logo(*, actor: User) -> tuple[bytes, str]:
    from kehu.catalog.pictures import content_type_of

    letterhead = letterhead_for(actor=actor)
    if not letterhead.logo:
        raise NotFound(_("尚未上传公司标志"), field="logo", code="no_logo")
    with letterhead.logo.open("rb") as handle:
        return handle.read(), content_type_of(letterhead.logo.name or "")


def history_for(
    *, actor: User, customer_id: int, product_ids: list[int], exclude_number: str | None = None
) -> list[ProductHistory]:
    """The quote history for a customer the actor can see and up to 20 products (the new-quote page)."""
    from kehu.customers.selectors import customer_get

    customer = customer_get(actor=actor, customer_id=customer_id)
    ids = list(dict.fromkeys(int(p) for p in product_ids))[:20]
    return quote_history(actor=actor, customer=customer, product_ids=ids, exclude_number=exclude_number)


def history_of_quote(*, actor: User, quote: Quote) -> list[ProductHistory]:
    """The quote history of the products on ``quote`` (its other revisions left out)."""
    ids = [pid for pid in quote.lines.order_by("position").values_list("product_id", flat=True) if pid]
    return quote_history(
        actor=actor,
        customer=quote.customer,
        product_ids=list(dict.fromkeys(ids))[:20],
        exclude_number=quote.number,
    )


def quote_document(*, actor: User, quote_id: int, fmt: str) -> tuple[bytes, str]:
    """The quote as a PDF or .xlsx and its file name (number, revision and title)."""
    from .documents import quote_pdf, quote_xlsx

    quote = quote_get(actor=actor, quote_id=quote_id)
    lines = quote_lines(quote)
    letterhead = letterhead_get()
    safe_title = "".join(ch for ch in quote.title if ch not in '\\/:*?"<>|')[:60]
    if fmt == "pdf":
        return quote_pdf(quote, lines, letterhead), f"{quote.label} {safe_title}.pdf"
    if fmt == "xlsx":
        return quote_xlsx(quote, lines, letterhead), f"{quote.label} {safe_title}.xlsx"
    raise ValidationError(_("格式只能是 pdf 或 xlsx"), field="fmt")


def customer_opportunities(*, actor: User, customer: Customer) -> list[Any]:
    """The customer's opportunities the actor may see, open ones first, for a quote's 商机 field."""
    from ..models import Opportunity

    return list(
        Opportunity.objects.visible_to(actor)
        .filter(customer=customer)
        .order_by("closed_at", "-created_at")[:50]
    )


def quote_line_picture(*, actor: User, line_id: int) -> tuple[bytes, str]:
    """The picture copied onto a quote line, for those who may see the quote."""
    from django.core.files.storage import default_storage

    from kehu.catalog.pictures import content_type_of

    line = quote_line_get(actor=actor, line_id=line_id)
    if not line.picture:
        raise NotFound(_("该明细没有图片"), field="picture", code="no_picture")
    try:
        with default_storage.open(line.picture, "rb") as handle:
            return handle.read(), content_type_of(line.picture)
    except OSError:
        raise NotFound(_("该明细没有图片"), field="picture", code="no_picture") from None


# What the customer's timeline says a quote went through (the other verbs — line edits — stay in the audit log).
TIMELINE_VERBS = {
    "create": _("创建了报价单"),
    "revise": _("生成了报价单新版本"),
    "send": _("向客户发送了报价单"),
    "accept": _("客户接受了报价单"),
    "reject": _("客户拒绝了报价单"),
    "expire": _("报价单已过期"),
    "approval": _("报价单审批状态变为"),
}
QUOTE_VERBS = ("create", "update", "line_add", "line_update", "line_remove", "revise", "send", "accept", "reject",
               "expire", "approval")  # fmt: skip


def timeline_entries(actor: User, customer_ids: list[int], limit: int) -> list[Any]:
    """Quote milestones on the 360° timeline (registered in sales/apps.py): created, new revision, sent,
    accepted or rejected (with the customer's reason), expired, approval — for quotes the actor may see."""
    from kehu.audit.models import AuditEvent
    from kehu.customers.extensions import TimelineEntry

    visible = Quote.objects.visible_to(actor).filter(customer_id__in=customer_ids).values("pk")
    events = AuditEvent.objects.filter(
        customer_id__in=customer_ids,
        subject_type="quote",
        verb__in=list(TIMELINE_VERBS),
        subject_id__in=visible,
    ).order_by("-at", "-id")[:limit]
    out = []
    for e in events:
        text = str(TIMELINE_VERBS[e.verb])
        note = (e.changes or {}).get("note", [None, ""])[1] or ""
        if e.verb == "approval":
            from kehu.approvals.choices import ApprovalStatus

            status = (e.changes or {}).get("approval_status", [None, ""])[1]
            text = f"{text}“{ApprovalStatus(status).label if status in ApprovalStatus.values else status}”"
        out.append(
            TimelineEntry(
                at=e.at,
                template="sales/quotes/partials/_timeline_quote.html",
                item={"event": e, "text": text, "note": note},
                kind="quote",
                data={
                    "actor": e.actor_name,
                    "verb": e.verb,
                    "subject_type": "quote",
                    "subject_id": e.subject_id,
                    "subject_label": e.subject_label,
                    "summary": note or text,
                    "changes": e.changes or {},
                },
            )
        )
    return out
