"""Writes of the sales pipeline (SAL-3, SAL-4): every one opens with ``require`` and ends with an event.

Transitions are one service each (house style 2): ``opportunity_move_stage`` within the open stages,
``opportunity_win`` / ``opportunity_lose`` / ``opportunity_invalidate`` into the end states and
``opportunity_reopen`` (a manager's) back out of them. Every stage change is also a ``StageChange`` row,
which the opportunity's page and the customer's timeline show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.access.selectors import user_get_active
from kehu.catalog.models import Product
from kehu.core.errors import Conflict, NotFound, ValidationError
from kehu.core.events import diff, emit
from kehu.core.sequences import next_values
from kehu.customers.extensions import reassign
from kehu.customers.models import Contact
from kehu.customers.selectors import customer_get
from kehu.engagement.revisits import revisit_after_event

from . import rules
from .choices import OpportunityStatus, PricePosition, StageKind, Stance
from .events import OpportunityChanged, PipelineChanged
from .leads.models import Lead
from .models import (
    Competitor,
    Opportunity,
    OpportunityContact,
    OpportunityProduct,
    Stage,
    StageChange,
    StageGroup,
)
from .quotes.models import Quote
from .selectors import first_open_stage, opportunity_get, stage_group_for


def _event(by: User | None, verb: str, opp: Opportunity, changes: dict[str, Any] | None = None) -> Any:
    return OpportunityChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="opportunity",
        subject_id=opp.pk,
        subject_label=f"{opp.code} {opp.name}"[:200],
        customer_id=opp.customer_id,
        changes=changes or {},
    )


def _snapshot(opp: Opportunity) -> dict[str, Any]:
    return {
        "name": opp.name,
        "stage": str(opp.stage),
        "status": opp.status,
        "amount": f"{opp.amount} {opp.currency}",
        "expected_close": opp.expected_close.isoformat() if opp.expected_close else None,
        "owner": str(opp.owner),
    }


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ValidationError(_("金额格式不正确"), field=field) from None
    if amount < 0 or not amount.is_finite():
        raise ValidationError(_("金额不能为负数"), field=field)
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def opportunity_create(
    *,
    customer_id: int,
    name: str,
    amount: Any = 0,
    currency: str = "CNY",
    expected_close: date | None = None,
    description: str = "",
    owner: User | None = None,
    by: User,
) -> Opportunity:
    """Open an opportunity on a customer the actor can see (SAL-3). It starts in the first stage of the
    owner's department's stage group; the owner defaults to the actor."""
    require(by, Perm.OPPORTUNITY_EDIT)
    customer = customer_get(actor=by, customer_id=customer_id)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写商机名称"), field="name")
    owner = owner or by
    group = stage_group_for(owner.department)
    stage = first_open_stage(group)
    (number,) = next_values("opportunity")
    opp = Opportunity.objects.create(
        code=f"SJ{number:08d}",
        name=name[:120],
        customer=customer,
        owner=owner,
        department=owner.department,
        stage_group=group,
        stage=stage,
        rank=_top_rank(group.pk, stage.pk),
        amount=_amount(amount, "amount"),
        currency=(currency or "CNY").upper()[:3],
        expected_close=expected_close,
        description=description,
        created_by=by,
    )
    StageChange.objects.create(opportunity=opp, from_stage=None, to_stage=stage, by=by, at=opp.created_at)
    emit(_event(by, "create", opp, diff({}, _snapshot(opp))))
    _customer_pipeline_follows(opp.customer_id)
    return opp


RANK_STEP = 1024


def _customer_pipeline_follows(customer_id: int) -> None:
    """CUS-2: a customer with an open opportunity is 意向客户 (正在谈判) until it has orders."""
    from kehu.customers.services import customer_record_facts

    open_now = Opportunity.objects.filter(
        customer_id=customer_id, status=OpportunityStatus.OPEN, deleted_at__isnull=True
    ).exists()
    customer_record_facts(customer_id=customer_id, facts={"has_open_opportunity": open_now})


def _top_rank(group_id: int, stage_id: int) -> int:
    """A new or moved-in card goes to the top of its column (index ``opp_board``)."""
    low = (
        Opportunity.objects.open()
        .filter(stage_group_id=group_id, stage_id=stage_id, deleted_at__isnull=True)
        .aggregate(m=Min("rank"))["m"]
    )
    return 0 if low is None else low - RANK_STEP


def _editable(opportunity_id: int, by: User) -> Opportunity:
    """The opportunity if ``by`` may see it (else ``NotFound``), locked for the rest of the transaction."""
    opportunity_get(actor=by, opportunity_id=opportunity_id)
    return (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("stage", "owner", "customer", "stage_group")
        .get(pk=opportunity_id)
    )


def _check_version(opp: Opportunity, version: Any) -> int:
    try:
        expected = int(version)
    except (TypeError, ValueError):
        raise ValidationError(_("缺少版本号"), field="version") from None
    if expected != opp.version:
        raise Conflict(
            _("该商机已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
            field="version",
            code="stale_version",
            params={"version": expected},
        )
    return expected


def _require_open(opp: Opportunity) -> None:
    if opp.status != OpportunityStatus.OPEN:
        raise Conflict(
            _("商机已结束（%(status)s），不能再推进或修改"),
            code="opportunity_closed",
            field="status",
            params={"status": opp.get_status_display()},
        )


def _end_stage(opp: Opportunity, kind: str) -> Stage:
    stage = opp.stage_group.stages.filter(kind=kind).order_by("order").first()
    if stage is None:  # every group is created with its end states; a hand-made one may lack them
        raise ValidationError(_("阶段组缺少结束状态"), field="stage", code="no_end_stage")
    return stage


def _record_stage(opp: Opportunity, before: Stage | None, by: User, note: str = "") -> None:
    StageChange.objects.create(
        opportunity=opp, from_stage=before, to_stage=opp.stage, by=by, at=timezone.now(), note=note[:200]
    )


def _make_room(opp: Opportunity, stage_id: int, below_rank: int) -> None:
    """Push the cards from ``below_rank`` down by a step so an integer rank fits above them. One UPDATE
    over the column's tail (index ``opp_board``); rare, since ranks start a step apart."""
    Opportunity.objects.open().filter(
        stage_group_id=opp.stage_group_id, stage_id=stage_id, deleted_at__isnull=True, rank__gte=below_rank
    ).exclude(pk=opp.pk).update(rank=F("rank") + RANK_STEP)


def _neighbour_rank(opp: Opportunity, neighbour_id: int | None, stage_id: int, field: str) -> int | None:
    if neighbour_id is None:
        return None
    rank = (
        Opportunity.objects.open()
        .filter(
            pk=neighbour_id, stage_group_id=opp.stage_group_id, stage_id=stage_id, deleted_at__isnull=True
        )
        .values_list("rank", flat=True)
        .first()
    )
    if rank is None:
        # The neighbour moved or closed meanwhile: the board the user saw is stale.
        raise Conflict(_("看板已被他人修改，请刷新后重试"), field=field, code="stale_board")
    return rank


@transaction.atomic
def opportunity_move_stage(
    *,
    opportunity_id: int,
    version: int,
    stage_id: int,
    after_id: int | None = None,
    before_id: int | None = None,
    by: User,
) -> Opportunity:
    """Move an open opportunity to any open stage of its group, or reorder it within its column (SAL-3).

    ``after_id`` / ``before_id`` are the cards it now sits below / above on the board (neither: top of
    the column). A stage change is recorded as a ``StageChange`` (from, to, by, at) for the timeline. The
    kanban drag and the stage bar of the page both call this."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    expected = _check_version(opp, version)
    _require_open(opp)
    stage = Stage.objects.filter(pk=stage_id, group_id=opp.stage_group_id).first()
    if stage is None:
        raise ValidationError(_("该阶段不属于此商机的阶段组"), field="stage")
    if stage.kind != StageKind.OPEN:
        raise ValidationError(_("请使用赢单、输单或无效操作结束商机"), field="stage")
    if opp.pk in (after_id, before_id):
        raise ValidationError(_("不能相对于自己排序"), field="after_id")
    above = _neighbour_rank(opp, after_id, stage.pk, "after_id")
    below = _neighbour_rank(opp, before_id, stage.pk, "before_id")
    rank: int
    if after_id is None and before_id is None:
        rank = opp.rank if stage.pk == opp.stage_id else _top_rank(opp.stage_group_id, stage.pk)
    else:
        between = rules.rank_between(above, below, step=RANK_STEP)
        if between is None:
            assert above is not None and below is not None
            _make_room(opp, stage.pk, below)
            between = above + RANK_STEP // 2
        rank = between
    before_stage = opp.stage
    before = _snapshot(opp)
    opp.stage, opp.rank = stage, rank
    opp.save_versioned(expected_version=expected, fields=["stage", "rank"])
    if stage.pk != before_stage.pk:
        _record_stage(opp, before_stage, by)
        emit(_event(by, "stage", opp, diff(before, _snapshot(opp))))
    else:
        emit(_event(by, "rank", opp, {"rank": [None, rank]}))
    return opp


def _close(opp: Opportunity, *, kind: str, expected: int, reason: str, lost_to: str, by: User) -> None:
    before_stage = opp.stage
    before = _snapshot(opp)
    opp.status = kind
    opp.stage = _end_stage(opp, kind)
    opp.closed_at = timezone.now()
    opp.close_reason = reason
    opp.lost_to = lost_to
    opp.save_versioned(
        expected_version=expected, fields=["status", "stage", "closed_at", "close_reason", "lost_to"]
    )
    _record_stage(opp, before_stage, by, reason)
    emit(_event(by, kind if kind != "invalid" else "invalidate", opp, diff(before, _snapshot(opp))))
    _customer_pipeline_follows(opp.customer_id)


@transaction.atomic
def opportunity_win(*, opportunity_id: int, version: int, reason: str = "", by: User) -> Opportunity:
    """Close an open opportunity as won (赢单, SAL-3). The customer's after-sale revisit plans (ENG-4) are
    triggered as for an order, so the after-sale call is planned the day the deal is won."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    expected = _check_version(opp, version)
    _require_open(opp)
    _close(
        opp, kind=OpportunityStatus.WON, expected=expected, reason=(reason or "").strip(), lost_to="", by=by
    )
    revisit_after_event(
        trigger="after_order",
        customer_id=opp.customer_id,
        on=timezone.localdate(),
        about=f"{opp.code} {opp.name}",
    )
    return opp


@transaction.atomic
def opportunity_lose(
    *, opportunity_id: int, version: int, reason: str, competitor: str, by: User
) -> Opportunity:
    """Close an open opportunity as lost (输单, SAL-3): the reason AND the competitor who won it are both
    required — a loss nobody can learn from is not recorded."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    expected = _check_version(opp, version)
    _require_open(opp)
    reason, competitor = (reason or "").strip(), (competitor or "").strip()
    if not reason:
        raise ValidationError(_("请填写输单原因"), field="reason")
    if not competitor:
        raise ValidationError(_("请填写赢得该单的竞争对手"), field="competitor")
    _close(
        opp, kind=OpportunityStatus.LOST, expected=expected, reason=reason, lost_to=competitor[:120], by=by
    )
    return opp


@transaction.atomic
def opportunity_invalidate(*, opportunity_id: int, version: int, reason: str, by: User) -> Opportunity:
    """Declare an open opportunity invalid (无效, SAL-3): no real deal behind it; the reason is required."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    expected = _check_version(opp, version)
    _require_open(opp)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写无效原因"), field="reason")
    _close(opp, kind=OpportunityStatus.INVALID, expected=expected, reason=reason, lost_to="", by=by)
    return opp


@transaction.atomic
def opportunity_reopen(
    *, opportunity_id: int, version: int, stage_id: int | None = None, by: User
) -> Opportunity:
    """Reopen a lost or invalid opportunity (SAL-3) — a manager's decision (PIPELINE_MANAGE). A won one is
    never reopened: its contract and orders follow from it. It returns to ``stage_id`` (an open stage of
    its group) or the first open stage."""
    require(by, Perm.PIPELINE_MANAGE)
    opp = _editable(opportunity_id, by)
    expected = _check_version(opp, version)
    if not rules.can_move(opp.status, OpportunityStatus.OPEN):
        raise Conflict(_("只有输单或无效的商机可以重新打开"), code="not_reopenable", field="status")
    chosen = (
        first_open_stage(opp.stage_group)
        if stage_id is None
        else Stage.objects.filter(pk=stage_id, group_id=opp.stage_group_id, kind=StageKind.OPEN).first()
    )
    if chosen is None:
        raise ValidationError(_("请选择此商机阶段组中进行中的阶段"), field="stage")
    stage = chosen
    before_stage = opp.stage
    before = _snapshot(opp)
    opp.status = OpportunityStatus.OPEN
    opp.stage = stage
    opp.rank = _top_rank(opp.stage_group_id, stage.pk)
    opp.closed_at = None
    opp.close_reason = ""
    opp.lost_to = ""
    opp.save_versioned(
        expected_version=expected, fields=["status", "stage", "rank", "closed_at", "close_reason", "lost_to"]
    )
    _record_stage(opp, before_stage, by)
    emit(_event(by, "reopen", opp, diff(before, _snapshot(opp))))
    _customer_pipeline_follows(opp.customer_id)
    return opp


UPDATABLE = frozenset({"name", "amount", "currency", "expected_close", "description", "amount_from_lines"})


@transaction.atomic
def opportunity_update(*, opportunity_id: int, version: int, data: dict[str, Any], by: User) -> Opportunity:
    """Edit an open opportunity's name, amount, currency, expected close date, description, and whether
    the amount follows the product lines (SAL-3). A stale ``version`` is refused (409), nothing written."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    expected = _check_version(opp, version)
    _require_open(opp)
    unknown = sorted(set(data) - UPDATABLE)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    before = _snapshot(opp)
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            raise ValidationError(_("请填写商机名称"), field="name")
        opp.name = name[:120]
    if "currency" in data:
        currency = (data["currency"] or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationError(_("币种应为三位字母代码，如 CNY"), field="currency")
        opp.currency = currency
    if "expected_close" in data:
        opp.expected_close = data["expected_close"] or None
    if "description" in data:
        opp.description = data["description"] or ""
    if "amount_from_lines" in data:
        opp.amount_from_lines = bool(data["amount_from_lines"])
    if opp.amount_from_lines:
        opp.amount = _lines_total(opp)
    elif "amount" in data:
        opp.amount = _amount(data["amount"], "amount")
    opp.save_versioned(
        expected_version=expected,
        fields=["name", "currency", "expected_close", "description", "amount_from_lines", "amount"],
    )
    emit(_event(by, "update", opp, diff(before, _snapshot(opp))))
    return opp


@transaction.atomic
def opportunity_transfer(*, opportunity_id: int, version: int, to_user_id: int, by: User) -> Opportunity:
    """Hand an opportunity to another active user (SAL-3); its department follows the new owner's, so
    forecasts by department count it where it is now worked. The stage group stays: its stages are
    where the deal stands."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    expected = _check_version(opp, version)
    new_owner = user_get_active(user_id=to_user_id, field="to_user")
    if new_owner.pk == opp.owner_id:
        raise ValidationError(_("新负责人与当前负责人相同"), field="to_user")
    before = _snapshot(opp)
    opp.owner = new_owner
    opp.department = new_owner.department
    opp.save_versioned(expected_version=expected, fields=["owner", "department"])
    emit(_event(by, "transfer", opp, diff(before, _snapshot(opp))))
    return opp


@transaction.atomic
def opportunity_delete(*, opportunity_id: int, by: User) -> None:
    """Soft-delete an opportunity (SEC-6): it leaves lists, board and forecast; the audit keeps it."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    opp.deleted_at = timezone.now()
    opp.deleted_by = by
    opp.save(update_fields=["deleted_at", "deleted_by"])
    emit(_event(by, "delete", opp, {"deleted_at": [None, opp.deleted_at.isoformat()]}))
    _customer_pipeline_follows(opp.customer_id)


# --- product lines ---------------------------------------------------------------------------------


def _lines_total(opp: Opportunity) -> Decimal:
    total = OpportunityProduct.objects.filter(opportunity=opp).aggregate(t=Sum("amount"))["t"]
    return (total or Decimal("0")).quantize(rules.CENT)


def _follow_lines(opp: Opportunity) -> None:
    """When the amount follows the lines, bring it up to date (and bump the version: the amount moved)."""
    if opp.amount_from_lines:
        opp.amount = _lines_total(opp)
        opp.save_versioned(expected_version=None, fields=["amount"])


def _line_values(data: dict[str, Any], product: Product) -> dict[str, Any]:
    quantity = rules.parse_decimal(data.get("quantity"), field="quantity", default="1")
    if quantity <= 0:
        raise ValidationError(_("数量必须大于 0"), field="quantity")
    unit_price = rules.parse_decimal(data.get("unit_price"), field="unit_price", default=str(product.price))
    discount = rules.parse_decimal(data.get("discount"), field="discount")
    amount = rules.line_amount(quantity, unit_price, discount)
    return {
        "quantity": quantity.quantize(rules.CENT),
        "unit_price": unit_price.quantize(rules.CENT),
        "discount": discount.quantize(rules.CENT),
        "amount": amount,
        "notes": (data.get("notes") or "")[:200],
    }


def _product(product_id: Any, by: User) -> Product:
    try:
        pk = int(product_id)
    except (TypeError, ValueError):
        raise ValidationError(_("请选择产品"), field="product") from None
    product = Product.objects.visible_to(by).filter(pk=pk, is_active=True).first()
    if product is None:
        raise ValidationError(_("产品不存在或已停售"), field="product")
    return product


@transaction.atomic
def opportunity_line_add(*, opportunity_id: int, data: dict[str, Any], by: User) -> OpportunityProduct:
    """Add a product line (SAL-3): catalogue product, quantity, unit price (default: the list price),
    discount %; the amount is computed. The opportunity's amount follows when it is set to."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    _require_open(opp)
    product = _product(data.get("product"), by)
    line = OpportunityProduct.objects.create(opportunity=opp, product=product, **_line_values(data, product))
    _follow_lines(opp)
    emit(_event(by, "line_add", opp, {"line": [None, f"{product.name} × {line.quantity} = {line.amount}"]}))
    return line


def _line(opportunity_id: int, line_id: int, by: User) -> tuple[Opportunity, OpportunityProduct]:
    opp = _editable(opportunity_id, by)
    line = OpportunityProduct.objects.select_related("product").filter(pk=line_id, opportunity=opp).first()
    if line is None:
        raise NotFound(_("产品明细不存在"), field="line")
    return opp, line


@transaction.atomic
def opportunity_line_update(
    *, opportunity_id: int, line_id: int, data: dict[str, Any], by: User
) -> OpportunityProduct:
    require(by, Perm.OPPORTUNITY_EDIT)
    opp, line = _line(opportunity_id, line_id, by)
    _require_open(opp)
    merged = {
        "quantity": line.quantity, "unit_price": line.unit_price, "discount": line.discount, "notes": line.notes,
        **{k: v for k, v in data.items() if k in {"quantity", "unit_price", "discount", "notes"}},
    }  # fmt: skip
    before = f"{line.quantity} × {line.unit_price} − {line.discount}% = {line.amount}"
    for key, value in _line_values(merged, line.product).items():
        setattr(line, key, value)
    line.save()
    _follow_lines(opp)
    after = f"{line.quantity} × {line.unit_price} − {line.discount}% = {line.amount}"
    emit(_event(by, "line_update", opp, {line.product.name: [before, after]}))
    return line


@transaction.atomic
def opportunity_line_remove(*, opportunity_id: int, line_id: int, by: User) -> None:
    require(by, Perm.OPPORTUNITY_EDIT)
    opp, line = _line(opportunity_id, line_id, by)
    _require_open(opp)
    label = f"{line.product.name} × {line.quantity} = {line.amount}"
    line.delete()
    _follow_lines(opp)
    emit(_event(by, "line_remove", opp, {"line": [label, None]}))


# --- buying centre (SAL-4) -------------------------------------------------------------------------


def _member_values(data: dict[str, Any]) -> dict[str, Any]:
    stance = data.get("stance") or Stance.NEUTRAL
    if stance not in Stance.values:
        raise ValidationError(_("态度无效"), field="stance")
    return {
        "roles": rules.clean_roles(data.get("roles") or []),
        "stance": stance,
        "influence": rules.clean_influence(data.get("influence", 3)),
        "notes": data.get("notes") or "",
    }


@transaction.atomic
def opportunity_contact_add(*, opportunity_id: int, data: dict[str, Any], by: User) -> OpportunityContact:
    """Put one of the customer's contacts into the opportunity's buying centre (SAL-4) with their roles
    (one or several), stance and influence 1–5."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    try:
        contact_id = int(data.get("contact"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(_("请选择联系人"), field="contact") from None
    contact = Contact.objects.filter(
        pk=contact_id, customer_id=opp.customer_id, deleted_at__isnull=True
    ).first()
    if contact is None:
        raise ValidationError(_("请选择该客户的联系人"), field="contact")
    if OpportunityContact.objects.filter(opportunity=opp, contact=contact).exists():
        raise ValidationError(_("该联系人已在采购中心"), field="contact")
    member = OpportunityContact.objects.create(opportunity=opp, contact=contact, **_member_values(data))
    emit(_event(by, "buying_centre_add", opp, {contact.name: [None, _member_label(member)]}))
    return member


def _member_label(member: OpportunityContact) -> str:
    return f"{'/'.join(member.role_labels())} · {member.get_stance_display()} · {member.influence}"


def _member(opportunity_id: int, member_id: int, by: User) -> tuple[Opportunity, OpportunityContact]:
    opp = _editable(opportunity_id, by)
    member = (
        OpportunityContact.objects.select_related("contact").filter(pk=member_id, opportunity=opp).first()
    )
    if member is None:
        raise NotFound(_("采购中心成员不存在"), field="member")
    return opp, member


@transaction.atomic
def opportunity_contact_update(
    *, opportunity_id: int, member_id: int, data: dict[str, Any], by: User
) -> OpportunityContact:
    require(by, Perm.OPPORTUNITY_EDIT)
    opp, member = _member(opportunity_id, member_id, by)
    before = _member_label(member)
    merged = {
        "roles": member.roles,
        "stance": member.stance,
        "influence": member.influence,
        "notes": member.notes,
    }
    merged.update({k: v for k, v in data.items() if k in merged})
    for key, value in _member_values(merged).items():
        setattr(member, key, value)
    member.save()
    emit(_event(by, "buying_centre_update", opp, {member.contact.name: [before, _member_label(member)]}))
    return member


@transaction.atomic
def opportunity_contact_remove(*, opportunity_id: int, member_id: int, by: User) -> None:
    require(by, Perm.OPPORTUNITY_EDIT)
    opp, member = _member(opportunity_id, member_id, by)
    label = _member_label(member)
    name = member.contact.name
    member.delete()
    emit(_event(by, "buying_centre_remove", opp, {name: [label, None]}))


# --- competitors (SAL-4) ---------------------------------------------------------------------------


def _competitor_values(data: dict[str, Any]) -> dict[str, Any]:
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError(_("请填写竞争对手名称"), field="name")
    position = data.get("price_position") or PricePosition.SIMILAR
    if position not in PricePosition.values:
        raise ValidationError(_("价格定位无效"), field="price_position")
    return {
        "name": name[:120],
        "strengths": data.get("strengths") or "",
        "weaknesses": data.get("weaknesses") or "",
        "price_position": position,
        "notes": data.get("notes") or "",
    }


@transaction.atomic
def competitor_add(*, opportunity_id: int, data: dict[str, Any], by: User) -> Competitor:
    """Record a competitor on the deal (SAL-4): strengths, weaknesses, price position."""
    require(by, Perm.OPPORTUNITY_EDIT)
    opp = _editable(opportunity_id, by)
    competitor = Competitor.objects.create(opportunity=opp, **_competitor_values(data))
    emit(_event(by, "competitor_add", opp, {"competitor": [None, competitor.name]}))
    return competitor


def _competitor(opportunity_id: int, competitor_id: int, by: User) -> tuple[Opportunity, Competitor]:
    opp = _editable(opportunity_id, by)
    competitor = Competitor.objects.filter(pk=competitor_id, opportunity=opp).first()
    if competitor is None:
        raise NotFound(_("竞争对手记录不存在"), field="competitor")
    return opp, competitor


@transaction.atomic
def competitor_update(
    *, opportunity_id: int, competitor_id: int, data: dict[str, Any], by: User
) -> Competitor:
    require(by, Perm.OPPORTUNITY_EDIT)
    opp, competitor = _competitor(opportunity_id, competitor_id, by)
    fields = ("name", "strengths", "weaknesses", "price_position", "notes")
    merged = {f: getattr(competitor, f) for f in fields}
    merged.update({k: v for k, v in data.items() if k in fields})
    before = {f: getattr(competitor, f) for f in fields}
    for key, value in _competitor_values(merged).items():
        setattr(competitor, key, value)
    competitor.save()
    emit(_event(by, "competitor_update", opp, diff(before, {f: getattr(competitor, f) for f in fields})))
    return competitor


@transaction.atomic
def competitor_remove(*, opportunity_id: int, competitor_id: int, by: User) -> None:
    require(by, Perm.OPPORTUNITY_EDIT)
    opp, competitor = _competitor(opportunity_id, competitor_id, by)
    name = competitor.name
    competitor.delete()
    emit(_event(by, "competitor_remove", opp, {"competitor": [name, None]}))


# --- stage groups (SAL-3) --------------------------------------------------------------------------

END_STATES = (
    (90, "赢单", "Won", StageKind.WON, 100, True),
    (91, "输单", "Lost", StageKind.LOST, 0, False),
    (92, "无效", "Invalid", StageKind.INVALID, 0, False),
)


def _plans(stages: Sequence[dict[str, Any]]) -> list[rules.StagePlan]:
    plans = []
    for position, raw in enumerate(stages, 1):
        try:
            probability = int(raw.get("probability"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(
                _("第 %(n)s 个阶段的赢率必须是整数"), field="probability", params={"n": position}
            ) from None
        plans.append(
            rules.StagePlan(
                name=str(raw.get("name") or "")[:40],
                name_en=str(raw.get("name_en") or "")[:40],
                probability=probability,
                past_proposal=bool(raw.get("past_proposal")),
                id=int(raw["id"]) if raw.get("id") not in (None, "") else None,
            )
        )
    rules.validate_stage_plan(plans)
    return plans


def _departments(ids: Sequence[Any], group: StageGroup | None) -> list[Department]:
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ValidationError(_("部门必须是数字ID"), field="departments") from None
    found = list(Department.objects.filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError(_("部门不存在"), field="departments")
    # A department sells by one group: stage_group_for must not have to choose.
    links = StageGroup.departments.through.objects.filter(
        department_id__in=wanted, stagegroup__is_active=True
    )
    if group is not None:
        links = links.exclude(stagegroup_id=group.pk)
    clash = links.values_list("stagegroup__name", "department__name").first()
    if clash:
        raise ValidationError(
            _("部门“%(dept)s”已使用阶段组“%(group)s”"),
            field="departments",
            params={"dept": clash[1], "group": clash[0]},
        )
    return found


def _write_stages(group: StageGroup, plans: list[rules.StagePlan]) -> list[str]:
    """Bring the group's open stages to ``plans`` in order; returns what changed, for the audit."""
    existing = {s.pk: s for s in group.stages.filter(kind=StageKind.OPEN)}
    unknown = [p.id for p in plans if p.id is not None and p.id not in existing]
    if unknown:
        raise ValidationError(_("阶段不属于此阶段组"), field="stages")
    kept = {p.id for p in plans if p.id is not None}
    dropped = [s for pk, s in existing.items() if pk not in kept]
    in_use = [
        s.name for s in dropped if s.opportunities.exists() or StageChange.objects.filter(to_stage=s).exists()
    ]
    if in_use:
        raise ValidationError(
            _("阶段“%(name)s”已有商机使用，不能删除"), field="stages", params={"name": in_use[0]}
        )
    changes = [f"- {s.name}" for s in dropped]
    for s in dropped:
        s.delete()
    # Two passes: the (group, order) pairs are unique, so move everything out of the way first.
    for offset, s in enumerate(existing.values()):
        if s.pk in kept:
            Stage.objects.filter(pk=s.pk).update(order=200 + offset)
    for position, plan in enumerate(plans, 1):
        values = {
            "order": position,
            "name": plan.name.strip(),
            "name_en": plan.name_en.strip(),
            "probability": plan.probability,
            "past_proposal": plan.past_proposal,
        }
        if plan.id is None:
            Stage.objects.create(group=group, kind=StageKind.OPEN, **values)
            changes.append(f"+ {plan.name} {plan.probability}%")
        else:
            old = existing[plan.id]
            if (old.name, old.probability, old.past_proposal, old.order) != (
                values["name"], plan.probability, plan.past_proposal, position,
            ):  # fmt: skip
                changes.append(f"{old.name} → {plan.name} {plan.probability}%")
            Stage.objects.filter(pk=plan.id).update(**values)
    return changes


def _group_event(by: User, verb: str, group: StageGroup, changes: dict[str, Any]) -> PipelineChanged:
    return PipelineChanged(
        actor_id=by.pk, verb=verb, subject_type="stage_group", subject_id=group.pk,
        subject_label=group.name, changes=changes,
    )  # fmt: skip


@transaction.atomic
def stage_group_create(*, data: dict[str, Any], by: User) -> StageGroup:
    """A new stage group (SAL-3): name, ordered open stages with cumulative win rates, which are past the
    proposal, and the departments selling by it. The three end states 赢单 / 输单 / 无效 are added."""
    require(by, Perm.PIPELINE_MANAGE)
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError(_("请填写阶段组名称"), field="name")
    plans = _plans(data.get("stages") or [])
    departments = _departments(data.get("departments") or [], None)
    group = StageGroup.objects.create(name=name[:60], name_en=(data.get("name_en") or "")[:60])
    group.departments.set(departments)
    _write_stages(group, plans)
    for order, stage_name, stage_en, kind, probability, past in END_STATES:
        Stage.objects.create(
            group=group, order=order, name=stage_name, name_en=stage_en, kind=kind,
            probability=probability, past_proposal=past,
        )  # fmt: skip
    emit(_group_event(by, "create", group, {"stages": [None, [f"{p.name} {p.probability}%" for p in plans]]}))
    return group


@transaction.atomic
def stage_group_update(*, group_id: int, version: int, data: dict[str, Any], by: User) -> StageGroup:
    """Edit a stage group (SAL-3): rename, reorder, re-rate, add open stages, remove unused ones, change
    its departments. The end states stay. Stale ``version`` → 409."""
    require(by, Perm.PIPELINE_MANAGE)
    group = StageGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(_("阶段组不存在"), field="group")
    before = {"name": group.name, "departments": sorted(d.name for d in group.departments.all())}
    if "name" in data:
        name = (data.get("name") or "").strip()
        if not name:
            raise ValidationError(_("请填写阶段组名称"), field="name")
        group.name = name[:60]
    if "name_en" in data:
        group.name_en = (data.get("name_en") or "")[:60]
    changes: list[str] = []
    if "stages" in data:
        changes = _write_stages(group, _plans(data.get("stages") or []))
    if "departments" in data:
        group.departments.set(_departments(data.get("departments") or [], group))
    group.save_versioned(expected_version=int(version), fields=["name", "name_en"])
    after = {"name": group.name, "departments": sorted(d.name for d in group.departments.all())}
    emit(
        _group_event(
            by, "update", group, {**diff(before, after), **({"stages": [None, changes]} if changes else {})}
        )
    )
    return group


def customer_records_move(drop: Any, keep: Any, by: User) -> dict[str, int]:
    """Merging ``drop`` into ``keep`` (CUS-5, registered in apps.py): ``drop``'s opportunities and quotes
    are ``keep``'s from now on, the leads converted into ``drop`` point at ``keep`` (the funnel follows
    them there), and ``keep``'s deal status follows its open opportunities. The merge service checked
    the permission."""
    moved = {
        "opportunities": reassign(Opportunity, "customer", drop, keep),
        "quotes": reassign(Quote, "customer", drop, keep),
        "leads": reassign(Lead, "converted_customer", drop, keep),
    }
    if moved["opportunities"]:
        _customer_pipeline_follows(keep.pk)
    return {kind: n for kind, n in moved.items() if n}
