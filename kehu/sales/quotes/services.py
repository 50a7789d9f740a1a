"""Writes of quotations (SAL-5): every one opens with ``require`` and ends with an event.

A quote changes only while it is the newest revision, a draft, and not locked by approval; after it is
sent the customer's answer is recorded (accepted / rejected) or it expires, and a new offer is a new
revision (``quote_revise``) that copies the lines. Totals are recomputed from the lines on every change.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.approvals.choices import LOCKED, ApprovalStatus
from kehu.catalog.models import Product
from kehu.catalog.pictures import check_picture
from kehu.core.errors import Conflict, NotFound, ValidationError
from kehu.core.events import diff, emit
from kehu.core.sequences import next_values
from kehu.customers.models import Contact
from kehu.customers.selectors import customer_get

from ..selectors import opportunity_get
from .approval import needs_approval
from .choices import QUOTE_TRANSITIONS, QuoteStatus
from .events import LetterheadChanged, QuoteChanged
from .models import Letterhead, Quote, QuoteLine
from .rules import (
    LineFigures,
    check_title,
    clean_components,
    decimal_of,
    line_amount,
    margin_of,
    quote_totals,
    unit_cost_of,
)
from .selectors import letterhead_get

ONE = Decimal("1")
MAX_LINES = 200
HEADER_FIELDS = ("title", "contact", "opportunity", "currency", "exchange_rate", "quoted_on", "valid_until", "terms",
                 "notes", "competitor_notes", "annual_volume_notes")  # fmt: skip
LINE_TEXT = {"name": 120, "model": 80, "specification": 200, "packaging": 200, "features": 4000, "unit": 20}
LETTERHEAD_TEXT = {"company_name": 120, "company_name_en": 160, "address": 200, "phone": 60, "email": 120,
                   "website": 120, "tax_number": 30, "bank_name": 120, "bank_account": 40, "default_terms": 8000}  # fmt: skip


# --- events ---------------------------------------------------------------------------------------


def _event(by: User | None, verb: str, quote: Quote, changes: dict[str, Any] | None = None) -> Any:
    return QuoteChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="quote",
        subject_id=quote.pk,
        subject_label=f"{quote.label} {quote.title}"[:200],
        customer_id=quote.customer_id,
        changes=changes or {},
    )


def _snapshot(quote: Quote) -> dict[str, Any]:
    return {
        "title": quote.title,
        "contact": str(quote.contact) if quote.contact_id else None,
        "opportunity": quote.opportunity.name if quote.opportunity is not None else None,
        "currency": quote.currency,
        "exchange_rate": str(quote.exchange_rate),
        "quoted_on": quote.quoted_on.isoformat(),
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "terms": quote.terms,
        "notes": quote.notes,
        "competitor_notes": quote.competitor_notes,
        "annual_volume_notes": quote.annual_volume_notes,
        "total": f"{quote.total} {quote.currency}",
        "status": quote.status,
    }


def _line_snapshot(line: QuoteLine) -> dict[str, Any]:
    return {
        "name": line.name,
        "unit_price": str(line.unit_price),
        "quantity": str(line.quantity),
        "discount": str(line.discount),
        "amount": str(line.amount),
        "unit_cost": str(line.unit_cost),
    }


# --- letterhead -----------------------------------------------------------------------------------


@transaction.atomic
def letterhead_update(
    *, data: dict[str, Any], version: int | None, logo: bytes | None = None, by: User
) -> Letterhead:
    """Change our letterhead (name, logo, address, phone, e-mail, bank account, default terms and the
    discount threshold that needs approval). Stored once; the first save creates it."""
    require(by, Perm.SETTINGS_EDIT)
    letterhead = letterhead_get()
    creating = letterhead._state.adding
    before = {} if creating else _letterhead_snapshot(letterhead)
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key in LETTERHEAD_TEXT:
            text = str(value or "").strip()
            if len(text) > LETTERHEAD_TEXT[key]:
                raise ValidationError(
                    _("内容过长（最多 %(n)s 个字）"), field=key, params={"n": LETTERHEAD_TEXT[key]}
                )
            cleaned[key] = text
        elif key == "discount_threshold":
            cleaned[key] = decimal_of(value, field=key, maximum=Decimal("100"))
        elif key == "default_valid_days":
            try:
                days = int(value)
            except (TypeError, ValueError):
                raise ValidationError(_("请填写有效的天数"), field=key) from None
            if not 1 <= days <= 365:
                raise ValidationError(_("有效天数必须在 1 到 365 之间"), field=key)
            cleaned[key] = days
        else:
            raise ValidationError(_("未知字段：%(f)s"), field=key, params={"f": key})
    if cleaned.get("email"):
        from django.core.validators import validate_email

        try:
            validate_email(cleaned["email"])
        except Exception:
            raise ValidationError(_("电子邮箱格式不正确"), field="email") from None
    for key, value in cleaned.items():
        setattr(letterhead, key, value)
    if logo:
        picture = check_picture(logo, field="logo")
        letterhead.logo.save(
            f"logo-{uuid.uuid4().hex[:12]}.{picture.extension}", ContentFile(picture.data), save=False
        )
    if creating:
        letterhead.save()
    else:
        fields = [*cleaned, *(["logo"] if logo else [])]
        letterhead.save_versioned(expected_version=version, fields=fields)
    changes = diff(before, _letterhead_snapshot(letterhead))
    emit(LetterheadChanged(actor_id=by.pk, verb="update", subject_type="letterhead", subject_id=letterhead.pk,
                           subject_label=letterhead.company_name[:200], changes=changes))  # fmt: skip
    return letterhead


def _letterhead_snapshot(letterhead: Letterhead) -> dict[str, Any]:
    out: dict[str, Any] = {key: getattr(letterhead, key) for key in LETTERHEAD_TEXT}
    out["discount_threshold"] = str(letterhead.discount_threshold)
    out["default_valid_days"] = letterhead.default_valid_days
    out["logo"] = letterhead.logo.name or None
    return out


# --- quotes ---------------------------------------------------------------------------------------


def _visible(quote_id: int, by: User, *, lock: bool = True) -> Quote:
    qs = Quote.objects.visible_to(by).filter(pk=quote_id)
    if lock:
        qs = qs.select_for_update()
    quote = qs.first()
    if quote is None:
        raise NotFound(_("报价单不存在或无权查看"), field="quote", code="quote_not_found")
    return quote


def _editable(quote_id: int, by: User, *, version: int | None = None) -> Quote:
    """The quote if it may still change: newest revision, draft, not under or past approval."""
    quote = _visible(quote_id, by)
    if version is not None and quote.version != version:
        raise Conflict(
            _("该记录已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
            field="version", code="stale_version", params={"version": version},
        )  # fmt: skip
    if not quote.is_current:
        raise Conflict(_("这是旧版本报价单，只能查看；请修改最新版本"), code="old_revision")
    if quote.approval_status in LOCKED:
        raise Conflict(_("报价单已提交审批或已通过审批，不能修改"), code="locked")
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(_("报价单已发出，不能修改；如需调整请生成新版本"), code="not_draft")
    return quote


def _clean_header(data: dict[str, Any], *, customer_id: int, by: User, creating: bool) -> dict[str, Any]:
    unknown = sorted(set(data) - set(HEADER_FIELDS))
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    out: dict[str, Any] = {}
    if "title" in data or creating:
        out["title"] = check_title(str(data.get("title") or ""))
    if "contact" in data:
        contact_id = data.get("contact")
        if contact_id in (None, ""):
            out["contact"] = None
        else:
            contact = Contact.objects.filter(
                pk=contact_id, customer_id=customer_id, deleted_at__isnull=True
            ).first()
            if contact is None:
                raise ValidationError(_("联系人必须是该客户的联系人"), field="contact")
            out["contact"] = contact
    if "opportunity" in data:
        opportunity_id = data.get("opportunity")
        if opportunity_id in (None, ""):
            out["opportunity"] = None
        else:
            try:
                opportunity = opportunity_get(actor=by, opportunity_id=int(opportunity_id))
            except (NotFound, TypeError, ValueError):
                raise ValidationError(_("商机不存在或无权查看"), field="opportunity") from None
            if opportunity.customer_id != customer_id:
                raise ValidationError(_("商机必须属于该客户"), field="opportunity")
            out["opportunity"] = opportunity
    if "currency" in data:
        currency = str(data.get("currency") or "CNY").strip().upper()
        if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            raise ValidationError(_("币种应为三位字母代码，如 CNY、USD"), field="currency")
        out["currency"] = currency
    if "exchange_rate" in data:
        out["exchange_rate"] = decimal_of(data["exchange_rate"], field="exchange_rate", places=6,
                                          minimum=Decimal("0.000001"), maximum=Decimal("100000"))  # fmt: skip
    for key in ("quoted_on", "valid_until"):
        if key in data:
            value = data.get(key)
            if value in (None, ""):
                if key == "quoted_on":
                    raise ValidationError(_("请填写报价日期"), field=key)
                out[key] = None
            elif isinstance(value, date):
                out[key] = value
            else:
                try:
                    out[key] = date.fromisoformat(str(value))
                except ValueError:
                    raise ValidationError(_("日期格式应为 YYYY-MM-DD"), field=key) from None
    for key in ("terms", "notes", "competitor_notes", "annual_volume_notes"):
        if key in data:
            text = str(data.get(key) or "").strip()
            if len(text) > 8000:
                raise ValidationError(_("内容过长（最多 %(n)s 个字）"), field=key, params={"n": 8000})
            out[key] = text
    return out


def _check_consistency(quote: Quote) -> None:
    if quote.currency == "CNY" and quote.exchange_rate != ONE:
        raise ValidationError(_("人民币报价的汇率应为 1"), field="exchange_rate")
    if quote.valid_until and quote.valid_until < quote.quoted_on:
        raise ValidationError(_("有效期不能早于报价日期"), field="valid_until")


@transaction.atomic
def quote_create(*, customer_id: int, data: dict[str, Any], by: User) -> Quote:
    """Start a quote for a customer the actor can see (SAL-5). Its owner is the actor; the date is today,
    the validity and the terms come from the letterhead unless given."""
    require(by, Perm.QUOTE_EDIT)
    customer = customer_get(actor=by, customer_id=customer_id)
    cleaned = _clean_header(data, customer_id=customer.pk, by=by, creating=True)
    letterhead = letterhead_get()
    today = timezone.localdate()
    quote = Quote(customer=customer, owner=by, created_by=by, quoted_on=today, terms=letterhead.default_terms)
    quote.valid_until = today + timedelta(days=letterhead.default_valid_days)
    if cleaned.get("currency", "CNY") == "CNY" and "exchange_rate" not in cleaned:
        quote.exchange_rate = ONE
    for key, value in cleaned.items():
        setattr(quote, key, value)
    if "quoted_on" in cleaned and "valid_until" not in cleaned:
        quote.valid_until = quote.quoted_on + timedelta(days=letterhead.default_valid_days)
    if quote.currency != "CNY" and "exchange_rate" not in cleaned:
        raise ValidationError(_("外币报价请填写汇率（1 外币 = ? 人民币）"), field="exchange_rate")
    _check_consistency(quote)
    (number,) = next_values("quote")
    quote.number = f"BJ{number:08d}"
    quote.save()
    emit(_event(by, "create", quote, diff({}, _snapshot(quote))))
    return quote


@transaction.atomic
def quote_update(*, quote_id: int, version: int, data: dict[str, Any], by: User) -> Quote:
    """Change the header of a draft quote (title, contact, opportunity, currency and rate, dates, terms,
    notes, competitor and annual-volume notes)."""
    require(by, Perm.QUOTE_EDIT)
    quote = _editable(quote_id, by, version=version)
    cleaned = _clean_header(data, customer_id=quote.customer_id, by=by, creating=False)
    before = _snapshot(quote)
    for key, value in cleaned.items():
        setattr(quote, key, value)
    if cleaned.get("currency") == "CNY" and "exchange_rate" not in cleaned:
        quote.exchange_rate = ONE
    _check_consistency(quote)
    quote.save_versioned(expected_version=version, fields=[*cleaned, "exchange_rate"])
    emit(_event(by, "update", quote, diff(before, _snapshot(quote))))
    return quote


def _recompute(quote: Quote) -> None:
    """Totals, margin and deepest discount of the quote from its lines (bumps the quote's version)."""
    lines = list(quote.lines.all())
    totals = quote_totals(
        LineFigures(
            list_price=l.list_price,
            unit_price=l.unit_price,
            quantity=l.quantity,
            discount=l.discount,
            unit_cost=l.unit_cost,
        )
        for l in lines  # noqa: E741
    )
    quote.subtotal, quote.discount_amount, quote.total = totals.subtotal, totals.discount_amount, totals.total
    quote.cost_total, quote.margin, quote.max_discount = totals.cost_total, totals.margin, totals.max_discount
    quote.save_versioned(
        expected_version=None,
        fields=["subtotal", "discount_amount", "total", "cost_total", "margin", "max_discount"],
    )


def _fill_line(line: QuoteLine, data: dict[str, Any], *, product: Product | None) -> None:
    """Copy the product into the line (when one is chosen), then apply the user's values, then derive
    amount, unit cost and margin."""
    if product is not None:
        line.product = product
        line.name, line.model, line.specification = product.name, product.model, product.specification
        line.packaging, line.features, line.unit = product.packaging, product.features, product.unit
        line.picture = product.picture.name or ""
        line.list_price = product.price
        if "unit_price" not in data:
            line.unit_price = product.price
        if "cost_components" not in data and "unit_cost" not in data:
            line.unit_cost = product.cost
            line.cost_components = {}
    for key, limit in LINE_TEXT.items():
        if key in data:
            text = str(data.get(key) or "").strip()
            if len(text) > limit:
                raise ValidationError(_("内容过长（最多 %(n)s 个字）"), field=key, params={"n": limit})
            setattr(line, key, text)
    if not line.name:
        raise ValidationError(_("请选择产品或填写产品名称"), field="product")
    if "unit_price" in data:
        line.unit_price = decimal_of(data["unit_price"], field="unit_price")
    if line.unit_price is None:
        raise ValidationError(_("请填写单价"), field="unit_price")
    if "quantity" in data:
        line.quantity = decimal_of(data["quantity"], field="quantity", places=3)
    if line.quantity is None or line.quantity <= 0:
        raise ValidationError(_("数量必须大于 0"), field="quantity")
    if "discount" in data:
        line.discount = decimal_of(data["discount"], field="discount", maximum=Decimal("100"))
    if "cost_components" in data:
        components = clean_components(data["cost_components"])
        line.cost_components = {k: str(v) for k, v in components.items()}
        if data.get("unit_cost") not in (None, ""):
            fallback = decimal_of(data["unit_cost"], field="unit_cost")
        else:
            fallback = product.cost if product is not None else line.unit_cost
        line.unit_cost = unit_cost_of(components, fallback)
    elif "unit_cost" in data:
        line.cost_components = {}
        line.unit_cost = decimal_of(data["unit_cost"], field="unit_cost")
    line.amount = line_amount(unit_price=line.unit_price, quantity=line.quantity, discount=line.discount)
    line.margin = margin_of(amount=line.amount, cost=line.unit_cost * line.quantity)


LINE_FIELDS = {"product", "unit_price", "quantity", "discount", "cost_components", "unit_cost", *LINE_TEXT}


def _product(value: Any) -> Product | None:
    if value in (None, ""):
        return None
    try:
        product = Product.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        product = None
    if product is None:
        raise ValidationError(_("产品不存在"), field="product")
    return product


@transaction.atomic
def quote_line_add(*, quote_id: int, data: dict[str, Any], version: int | None = None, by: User) -> QuoteLine:
    """Add a line: a product from the catalogue (on sale) whose name, model, specification, packaging,
    features, unit, picture, price and cost are copied, or a free line with a name; quantity, price,
    discount and cost components as given."""
    require(by, Perm.QUOTE_EDIT)
    quote = _editable(quote_id, by, version=version)
    unknown = sorted(set(data) - LINE_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    product = _product(data.get("product"))
    if product is not None and not product.is_active:
        raise ValidationError(
            _("产品“%(p)s”已停售，不能加入新报价"), field="product", params={"p": product.name}
        )
    count = quote.lines.count()
    if count >= MAX_LINES:
        raise ValidationError(_("一张报价单最多 %(n)s 行"), field="product", params={"n": MAX_LINES})
    # Price and quantity start unset: the product's price or the user's value fills them, else refused.
    line = QuoteLine(quote=quote, position=count + 1, unit_price=None, quantity=None)  # type: ignore[misc]
    _fill_line(line, data, product=product)
    line.save()
    _recompute(quote)
    emit(_event(by, "line_add", quote, {f"line{line.position}": [None, _line_snapshot(line)]}))
    return line


@transaction.atomic
def quote_line_update(
    *, line_id: int, data: dict[str, Any], version: int | None = None, by: User
) -> QuoteLine:
    """Change a line's quantity, price, discount, costs or copied texts; choosing another product copies
    that product again."""
    require(by, Perm.QUOTE_EDIT)
    line = QuoteLine.objects.filter(pk=line_id).first()
    if line is None:
        raise NotFound(_("报价明细不存在或无权查看"), field="line", code="line_not_found")
    quote = _editable(line.quote_id, by, version=version)
    unknown = sorted(set(data) - LINE_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    before = _line_snapshot(line)
    product = None
    if "product" in data and str(data.get("product") or "") != str(line.product_id or ""):
        product = _product(data["product"])
        if product is not None and not product.is_active:
            raise ValidationError(
                _("产品“%(p)s”已停售，不能加入新报价"), field="product", params={"p": product.name}
            )
    _fill_line(line, data, product=product)
    line.save()
    _recompute(quote)
    emit(_event(by, "line_update", quote, {f"line{line.position}": [before, _line_snapshot(line)]}))
    return line


@transaction.atomic
def quote_line_remove(*, line_id: int, version: int | None = None, by: User) -> Quote:
    """Remove a line; the lines after it move up."""
    require(by, Perm.QUOTE_EDIT)
    line = QuoteLine.objects.filter(pk=line_id).first()
    if line is None:
        raise NotFound(_("报价明细不存在或无权查看"), field="line", code="line_not_found")
    quote = _editable(line.quote_id, by, version=version)
    before = _line_snapshot(line)
    position = line.position
    line.delete()
    for i, rest in enumerate(quote.lines.order_by("position", "id"), start=1):
        if rest.position != i:
            rest.position = i
            rest.save(update_fields=["position"])
    _recompute(quote)
    emit(_event(by, "line_remove", quote, {f"line{position}": [before, None]}))
    return quote


@transaction.atomic
def quote_revise(*, quote_id: int, by: User) -> Quote:
    """A new revision (n + 1) of the quote: a draft copying the header and every line, the previous
    revision kept read-only with everything it said (SAL-5: "quotes are versioned")."""
    require(by, Perm.QUOTE_EDIT)
    old = _visible(quote_id, by)
    if not old.is_current:
        raise Conflict(_("这是旧版本报价单，只能在最新版本上生成新版本"), code="old_revision")
    if old.approval_status == ApprovalStatus.PENDING:
        raise Conflict(_("报价单正在审批中，请等待审批结果或撤回后再生成新版本"), code="locked")
    lines = list(old.lines.order_by("position", "id"))
    Quote.objects.filter(pk=old.pk).update(is_current=False)
    new = Quote.objects.get(pk=old.pk)
    new.pk = None
    new._state.adding = True
    new.revision = old.revision + 1
    new.previous_id = old.pk
    new.is_current = True
    new.status = QuoteStatus.DRAFT
    new.approval_status = ApprovalStatus.DRAFT
    new.sent_at = new.decided_at = None
    new.decision_note = ""
    new.version = 1
    new.created_at = new.updated_at = timezone.now()
    new.created_by = by
    new.quoted_on = timezone.localdate()
    if old.valid_until:
        new.valid_until = new.quoted_on + (old.valid_until - old.quoted_on)
    new.save()
    for line in lines:
        line.pk = None
        line._state.adding = True
        line.quote = new
    QuoteLine.objects.bulk_create(lines)
    emit(_event(by, "revise", new, {"revision": [old.revision, new.revision]}))
    return new


def _transition(quote: Quote, verb: str, by: User | None, note: str = "") -> Quote:
    sources, target = QUOTE_TRANSITIONS[verb]
    if not quote.is_current:
        raise Conflict(_("这是旧版本报价单，只能查看"), code="old_revision")
    if quote.status not in sources:
        raise Conflict(
            _("报价单当前状态为“%(s)s”，不能执行此操作"), field="status", code="bad_transition",
            params={"s": quote.get_status_display()},
        )  # fmt: skip
    before = quote.status
    quote.status = target
    now = timezone.now()
    fields = ["status"]
    if verb == "send":
        quote.sent_at = now
        fields.append("sent_at")
    elif verb in ("accept", "reject"):
        quote.decided_at, quote.decision_note = now, note.strip()[:2000]
        fields += ["decided_at", "decision_note"]
    quote.save_versioned(expected_version=None, fields=fields)
    changes: dict[str, Any] = {"status": [before, target]}
    if note.strip():
        changes["note"] = [None, note.strip()[:2000]]
    emit(_event(by, verb, quote, changes))
    return quote


@transaction.atomic
def quote_send(*, quote_id: int, by: User) -> Quote:
    """Mark a draft as sent to the customer. Refused without lines, and when a discount beyond the
    letterhead's threshold has not been approved (SAL-5 discount approval)."""
    require(by, Perm.QUOTE_EDIT)
    quote = _visible(quote_id, by)
    if not quote.lines.exists():
        raise ValidationError(_("报价单还没有明细，不能发送"), field="lines")
    if needs_approval(quote) and quote.approval_status != ApprovalStatus.APPROVED:
        raise Conflict(
            _("报价单最大折扣 %(d)s%% 超过需审批的阈值 %(t)s%%，审批通过后才能发送"),
            field="approval_status", code="approval_required",
            params={"d": quote.max_discount, "t": letterhead_get().discount_threshold},
        )  # fmt: skip
    return _transition(quote, "send", by)


@transaction.atomic
def quote_accept(*, quote_id: int, note: str = "", by: User) -> Quote:
    """Record that the customer accepted the sent quote."""
    require(by, Perm.QUOTE_EDIT)
    return _transition(_visible(quote_id, by), "accept", by, note)


@transaction.atomic
def quote_reject(*, quote_id: int, note: str = "", by: User) -> Quote:
    """Record that the customer rejected the sent quote (the note says why: price, competitor, …)."""
    require(by, Perm.QUOTE_EDIT)
    return _transition(_visible(quote_id, by), "reject", by, note)


@transaction.atomic
def quote_expire(*, quote_id: int, by: User) -> Quote:
    """Mark a draft or sent quote as expired (past its validity, or withdrawn by us)."""
    require(by, Perm.QUOTE_EDIT)
    return _transition(_visible(quote_id, by), "expire", by)


@transaction.atomic
def quote_set_approval_status(*, quote: Quote, status: str, by: User | None) -> Quote:
    """The approval engine tells the quote its new approval status (after its own permission checks,
    hence no ``require`` here). Approved discounts let the quote be sent."""
    if status not in ApprovalStatus.values:
        raise ValidationError(_("审批状态“%(s)s”无效"), field="approval_status", params={"s": status})
    before = quote.approval_status
    quote.approval_status = status
    quote.save_versioned(expected_version=None, fields=["approval_status"])
    emit(_event(by, "approval", quote, {"approval_status": [before, status]}))
    return quote


def quotes_expire_due(*, today: date | None = None) -> int:
    """The nightly job (no actor: the calendar does it): every current draft or sent quote whose validity
    ended before ``today`` becomes 已过期 — each through the same transition as the 标记过期 button, so it
    is audited — and its owner is told once. Returns how many quotes expired. Idempotent."""
    from django.urls import reverse

    from kehu.notifications.services import notify

    today = today or timezone.localdate()
    sources, _target = QUOTE_TRANSITIONS["expire"]
    due = (
        Quote.objects.filter(is_current=True, status__in=sources, valid_until__lt=today)
        .select_related("owner", "customer")
        .order_by("valid_until", "id")
    )
    expired = 0
    for quote in due.iterator(chunk_size=500):
        with transaction.atomic():
            _transition(quote, "expire", by=None)
        expired += 1
        notify(
            recipient=quote.owner, kind="quote_expired", key=f"quote_expired:{quote.pk}",
            title=_("报价单 %(n)s（%(c)s）已过有效期 %(d)s，已标记为过期")
            % {"n": quote.label, "c": quote.customer.name, "d": quote.valid_until},
            url=reverse("sales:quote_detail", args=[quote.pk]),
        )  # fmt: skip
    return expired
