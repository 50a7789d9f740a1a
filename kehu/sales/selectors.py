"""Reads of the sales pipeline (SAL-3, SAL-4), always starting from ``visible_to``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import require, view_scope_owner_ids, view_scopes
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, filter_id, paginate
from kehu.customers.extensions import TimelineEntry
from kehu.customers.models import Contact, Customer

from . import rules
from .choices import OpportunityStatus, StageKind
from .models import (
    Competitor,
    Opportunity,
    OpportunityContact,
    OpportunityProduct,
    Stage,
    StageChange,
    StageGroup,
)


def stage_group_for(department: Department | None) -> StageGroup:
    """The stage group a department sells by (SAL-3): its own, else its nearest ancestor's, else the
    company default. ONE query: the ancestors are the ids in the department's ``path``."""
    ancestors = [int(part) for part in department.path.split("/") if part] if department else []
    if department is not None and department.pk not in ancestors:  # a path not yet written
        ancestors.append(department.pk)
    nearest = {pk: depth for depth, pk in enumerate(reversed(ancestors))}
    candidates = (
        StageGroup.objects.filter(is_active=True)
        .filter(Q(departments__in=ancestors) | Q(is_default=True))
        .annotate(department_id=F("departments__id"))
        .order_by("pk")
    )
    best: tuple[int, int, StageGroup] | None = None
    for group in candidates:
        dept = group.department_id  # type: ignore[attr-defined]
        if dept in nearest:
            rank = nearest[dept]
        elif group.is_default:
            rank = len(nearest)  # the company default comes after every ancestor
        else:
            continue  # a row for a department outside the chain
        if best is None or (rank, group.pk) < best[:2]:
            best = (rank, group.pk, group)
    if best is None:
        raise NotFound("没有可用的销售阶段组", field="stage_group", code="no_stage_group")
    return best[2]


def first_open_stage(group: StageGroup) -> Stage:
    return group.stages.filter(kind="open").order_by("order").first() or group.stages.order_by("order")[0]


def opportunity_get(*, actor: User, opportunity_id: int) -> Opportunity:
    """One opportunity the actor may see; otherwise ``NotFound`` (never says it exists)."""
    found = (
        Opportunity.objects.visible_to(actor)
        .select_related("customer", "owner", "stage", "stage_group", "department")
        .filter(pk=opportunity_id)
        .first()
    )
    if found is None:
        raise NotFound("商机不存在或无权查看", field="opportunity", code="opportunity_not_found")
    return found


def opportunity_visible(*, actor: User, opportunity_id: int) -> bool:
    return Opportunity.objects.visible_to(actor).filter(pk=opportunity_id).exists()


# --- list ------------------------------------------------------------------------------------------

OPPORTUNITY_FILTERS = frozenset(
    {"status", "stage", "stage_group", "owner", "department", "close_month", "customer", "q"}
)
SORTS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    "expected_close": ("expected_close", "id"),
    "-expected_close": ("-expected_close", "-id"),
    "name": ("name", "id"),
    "-updated_at": ("-updated_at", "-id"),
}


def month_range(value: str, field: str = "close_month") -> tuple[date, date]:
    """``YYYY-MM`` → first day of that month and of the next; anything else names ``field``."""
    try:
        year, month = (int(part) for part in str(value).split("-"))
        start = date(year, month, 1)
    except ValueError:
        raise ValidationError(_("月份格式应为 YYYY-MM"), field=field) from None
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, end


def _filtered(qs: QuerySet, filters: dict[str, Any]) -> QuerySet:
    if "status" in filters:
        if filters["status"] not in OpportunityStatus.values:
            raise ValidationError(_("状态无效"), field="status")
        qs = qs.filter(status=filters["status"])
    for key in ("stage", "stage_group", "owner", "department", "customer"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    if "close_month" in filters:
        start, end = month_range(filters["close_month"])
        qs = qs.filter(expected_close__gte=start, expected_close__lt=end)
    q = str(filters.get("q", "")).strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__iexact=q) | Q(customer__name__icontains=q))
    return qs


def opportunity_list(
    *,
    actor: User,
    filters: dict[str, Any] | None = None,
    sort: str = "-created_at",
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """Opportunities the actor sees (SAL-3), filtered by status, stage, group, owner, department, expected
    close month, customer, and a search over name, code and customer name; sorted; paginated."""
    cleaned = clean_filters(filters, OPPORTUNITY_FILTERS)
    if sort not in SORTS:
        raise ValidationError(_("排序字段无效"), field="sort")
    qs = _filtered(Opportunity.objects.visible_to(actor), cleaned)
    qs = qs.select_related("customer", "owner", "stage", "department").order_by(*SORTS[sort])
    return paginate(qs, limit=limit, offset=offset)


def opportunity_filter_choices(*, actor: User) -> dict[str, Any]:
    """What the list's filters offer: owners in the actor's scope, departments, stage groups with stages."""
    from kehu.customers.selectors import owner_filter_choices

    groups = list(
        StageGroup.objects.filter(is_active=True).order_by("-is_default", "name").prefetch_related("stages")
    )
    return {
        "owners": owner_filter_choices(actor=actor),
        "departments": list(Department.objects.only("id", "name", "path").order_by("path")),
        "groups": groups,
        "stages": [s for g in groups for s in g.stages.all()],
        "statuses": OpportunityStatus.choices,
    }


# --- detail ----------------------------------------------------------------------------------------


def stage_history(*, opportunity: Opportunity) -> list[StageChange]:
    return list(
        opportunity.stage_changes.select_related("from_stage", "to_stage", "by").order_by("-at", "-id")
    )


def opportunity_lines(*, opportunity: Opportunity) -> list[OpportunityProduct]:
    return list(opportunity.lines.select_related("product"))


def buying_centre(*, opportunity: Opportunity) -> list[OpportunityContact]:
    return list(opportunity.buying_centre.select_related("contact"))


def competitors(*, opportunity: Opportunity) -> list[Competitor]:
    return list(opportunity.competitors.all())


def _members(rows: list[OpportunityContact]) -> list[rules.Member]:
    return [
        rules.Member(name=m.contact.name, roles=tuple(m.roles), stance=m.stance, influence=m.influence)
        for m in rows
    ]


def opportunity_warnings(
    *, opportunity: Opportunity, members: list[OpportunityContact] | None = None
) -> list[rules.Warning]:
    """The buying-centre warnings of one opportunity (SAL-4, ``rules.buying_centre_warnings``)."""
    rows = members if members is not None else buying_centre(opportunity=opportunity)
    return rules.buying_centre_warnings(
        _members(rows),
        past_proposal=opportunity.stage.past_proposal,
        is_open=opportunity.status == OpportunityStatus.OPEN,
    )


def customer_contacts(*, actor: User, opportunity: Opportunity) -> list[Contact]:
    """The customer's contacts the buying centre is picked from."""
    return list(
        Contact.objects.visible_to(actor)
        .filter(customer_id=opportunity.customer_id)
        .order_by("-is_primary", "id")[:200]
    )


def product_choices(*, actor: User) -> list[Any]:
    """Active catalogue products for a new product line."""
    from kehu.catalog.models import Product

    return list(Product.objects.visible_to(actor).active().order_by("name")[:500])


def transfer_choices(*, actor: User) -> list[User]:
    """Whom an opportunity may be handed to: the active users."""
    from kehu.access.selectors import user_choices

    return list(user_choices())


def open_stages(*, group: StageGroup) -> list[Stage]:
    return list(group.stages.filter(kind=StageKind.OPEN).order_by("order"))


def customer_choices(*, actor: User, q: str = "", limit: int = 20) -> list[Customer]:
    """The customer picker: visible customers matching ``q`` (name, pinyin, code, phone)."""
    from kehu.customers.selectors import customer_search_q

    qs = Customer.objects.visible_to(actor).filter(deleted_at__isnull=True)
    cond = customer_search_q(q) if q else None
    if cond is not None:
        qs = qs.filter(cond)
    return list(qs.order_by("-id")[:limit])


# --- kanban board (SAL-3) --------------------------------------------------------------------------

BOARD_CARDS = 30  # cards per column before "load more"
BOARD_FILTERS = frozenset({"department", "owner"})


@dataclass
class ColumnTotal:
    currency: str
    amount: Decimal
    weighted: Decimal


@dataclass(slots=True)
class Card:
    """An opportunity as a board card draws it (and the board API returns it): plain values, not model
    instances — a board builds 120 of them per request, and their customer, owner and stage as models
    were ~500 of the page's ~1,200 instances (issue-4 benchmark)."""

    pk: int
    code: str
    name: str
    customer_name: str
    owner_label: str
    amount: Decimal
    currency: str
    expected_close: date | None
    rank: int
    version: int
    stage_id: int
    past_proposal: bool
    is_open: bool
    warnings: list[rules.Warning] = field(default_factory=list)


@dataclass
class Column:
    stage: Stage
    cards: list[Card]
    count: int = 0
    totals: list[ColumnTotal] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return len(self.cards) < self.count


@dataclass
class Board:
    group: StageGroup
    columns: list[Column]
    filters: dict[str, Any]


def default_board_group(*, actor: User) -> StageGroup:
    """The board a user opens first: their department's stage group."""
    require(actor, Perm.OPPORTUNITY_VIEW)
    return stage_group_for(actor.department)


def stage_group_get(*, actor: User, group_id: Any) -> StageGroup:
    require(actor, Perm.OPPORTUNITY_VIEW)
    try:
        pk = int(group_id)
    except (TypeError, ValueError):
        raise ValidationError(_("阶段组必须是数字ID"), field="group") from None
    group = StageGroup.objects.filter(pk=pk).prefetch_related("stages", "departments").first()
    if group is None:
        raise NotFound(_("阶段组不存在"), field="group")
    return group


def _board_qs(actor: User, group: StageGroup, filters: dict[str, Any]) -> QuerySet:
    cleaned = clean_filters(filters, BOARD_FILTERS)
    qs = Opportunity.objects.visible_to(actor).open().filter(stage_group=group)
    for key in ("department", "owner"):
        if key in cleaned:
            qs = qs.filter(**{f"{key}_id": filter_id(cleaned, key)})
    return qs


def _with_warnings(cards: list[Card]) -> list[Card]:
    """Attach ``warnings`` (SAL-4) to the shown cards: one query for all their buying centres, read as
    the values the rules need."""
    by_opp: dict[int, list[rules.Member]] = {c.pk: [] for c in cards}
    members = OpportunityContact.objects.filter(opportunity_id__in=list(by_opp)).values_list(
        "opportunity_id", "contact__name", "roles", "stance", "influence"
    )
    for opportunity_id, name, roles, stance, influence in members:
        by_opp[opportunity_id].append(
            rules.Member(name=name, roles=tuple(roles), stance=stance, influence=influence)
        )
    for card in cards:
        card.warnings = rules.buying_centre_warnings(
            by_opp[card.pk], past_proposal=card.past_proposal, is_open=card.is_open
        )
    return cards


CARD_FIELDS = (
    "id", "code", "name", "customer__name", "owner__display_name", "owner__username", "amount", "currency",
    "expected_close", "rank", "version", "stage_id", "stage__past_proposal", "status",
)  # fmt: skip


def _card_rows(qs: QuerySet) -> QuerySet:
    """What a card draws, as a row of values (``_to_cards``)."""
    return qs.values_list(*CARD_FIELDS)


def _to_cards(rows: Any) -> list[Card]:
    cards = []
    for row in rows:
        (pk, code, name, customer_name, display_name, username, amount, currency, expected_close, rank, version,
         stage_id, past_proposal, status) = row  # fmt: skip
        cards.append(
            Card(
                pk=pk,
                code=code,
                name=name,
                customer_name=customer_name,
                owner_label=display_name or username,
                amount=amount,
                currency=currency,
                expected_close=expected_close,
                rank=rank,
                version=version,
                stage_id=stage_id,
                past_proposal=past_proposal,
                is_open=status == OpportunityStatus.OPEN,
            )
        )
    return cards


def _cards(qs: QuerySet, stage: Stage, offset: int, limit: int) -> list[Card]:
    return _to_cards(_card_rows(qs.filter(stage=stage).order_by("rank", "id"))[offset : offset + limit])


def board(
    *, actor: User, group: StageGroup, filters: dict[str, Any] | None = None, per_column: int = BOARD_CARDS
) -> Board:
    """The kanban board of a stage group (SAL-3): a column per open stage with its first ``per_column``
    cards by rank, and per column the count, amount and weighted amount — all columns' totals from ONE
    GROUP BY (index ``opp_board``), whatever the number of opportunities."""
    require(actor, Perm.OPPORTUNITY_VIEW)
    filters = dict(filters or {})
    qs = _board_qs(actor, group, filters)
    stages = open_stages(group=group)
    # COUNT(*): the id is in no covering index (opp_open_owner_close covers this for a scope of owners).
    totals = qs.order_by().values("stage_id", "currency").annotate(n=Count("*"), total=Sum("amount"))
    columns = {s.pk: Column(stage=s, cards=[]) for s in stages}
    for row in totals:
        column = columns.get(row["stage_id"])
        if column is None:
            continue
        amount = (row["total"] or Decimal("0")).quantize(rules.CENT)
        column.count += row["n"]
        column.totals.append(
            ColumnTotal(
                currency=row["currency"],
                amount=amount,
                weighted=rules.weighted(amount, column.stage.probability),
            )
        )
    for column in columns.values():
        column.totals.sort(key=lambda t: (t.currency != "CNY", t.currency))
    filled = [c for c in columns.values() if c.count] if per_column > 0 else []
    shown = _first_cards(qs, [c.stage for c in filled], per_column)
    for card in shown:
        columns[card.stage_id].cards.append(card)
    _with_warnings(shown)
    return Board(group=group, columns=list(columns.values()), filters=filters)


def _first_cards(qs: QuerySet, stages: list[Stage], per_column: int) -> list[Card]:
    """The first ``per_column`` cards of each stage, in rank order. Where the database takes a LIMIT
    inside a UNION ALL (PostgreSQL), one statement for all columns (each part still an index-ordered
    top-N); otherwise (SQLite, in-process: no round trip to save) one query per column."""
    parts = [_card_rows(qs.filter(stage=stage).order_by("rank", "id"))[:per_column] for stage in stages]
    if len(parts) > 1 and connection.features.supports_slicing_ordering_in_compound:
        cards = _to_cards(parts[0].union(*parts[1:], all=True))
        order = {stage.pk: i for i, stage in enumerate(stages)}
        cards.sort(key=lambda card: (order[card.stage_id], card.rank, card.pk))
        return cards
    return [card for part in parts for card in _to_cards(part)]


def board_cards_by_id(*, actor: User, ids: list[int]) -> list[Card]:
    """Cards as the board draws them (with their warnings), e.g. the one just moved."""
    return _with_warnings(_to_cards(_card_rows(Opportunity.objects.visible_to(actor).filter(pk__in=ids))))


def board_column(
    *,
    actor: User,
    group: StageGroup,
    stage_id: Any,
    filters: dict[str, Any] | None = None,
    offset: Any = 0,
    limit: int = BOARD_CARDS,
) -> list[Card]:
    """The next cards of one column ("load more")."""
    require(actor, Perm.OPPORTUNITY_VIEW)
    stage = Stage.objects.filter(pk=int(stage_id), group=group, kind=StageKind.OPEN).first()
    if stage is None:
        raise NotFound(_("阶段不存在"), field="stage")
    try:
        start = max(int(offset), 0)
    except (TypeError, ValueError):
        raise ValidationError(_("offset 必须是整数"), field="offset") from None
    return _with_warnings(_cards(_board_qs(actor, group, dict(filters or {})), stage, start, limit))


# --- weighted forecast (SAL-3) ---------------------------------------------------------------------

FORECAST_BY = ("month", "owner", "department")


@dataclass(frozen=True)
class ForecastRow:
    key: Any  # date (month) | user id | department id | None
    label: str
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal


def default_scope(actor: User) -> str | None:
    scopes = view_scopes(actor)
    return scopes[-1] if scopes else None


def forecast(
    *,
    actor: User,
    scope: str,
    by: str = "month",
    start: str | None = None,
    end: str | None = None,
) -> list[ForecastRow]:
    """The weighted pipeline of the open opportunities (SAL-3) by expected-close month, owner or
    department: count, amount and amount × the stage's cumulative win rate, per currency. ``scope`` is a
    view scope (本人 / 本人及下属 / 部门 / 全部, ``access.scope.view_scopes``). ONE aggregate query over
    the opportunities (grouped by column, stage and currency; months and weights folded here), one for
    the stages' win rates. ``start``/``end`` (YYYY-MM, inclusive) bound the expected-close month."""
    require(actor, Perm.OPPORTUNITY_VIEW)
    if by not in FORECAST_BY:
        raise ValidationError(_("分组方式无效（可选：month, owner, department）"), field="by")
    owner_ids = view_scope_owner_ids(actor, scope)
    qs = Opportunity.objects.visible_to(actor).open()
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=sorted(owner_ids))
    if start:
        qs = qs.filter(expected_close__gte=month_range(start, "start")[0])
    if end:
        qs = qs.filter(expected_close__lt=month_range(end, "end")[1])
    # Grouped by the raw column and the stage, then folded into months and weighted here: no function
    # runs per row (SQLite would call Django's Python date_trunc for each of 300,000 rows) and no join
    # to the stages; the partial index ``opp_open_close_stage`` covers the query in that order.
    column = {"month": "expected_close", "owner": "owner_id", "department": "department_id"}[by]
    grouped = (
        qs.order_by().values(column, "stage_id", "currency").annotate(n=Count("id"), total=Sum("amount"))
    )
    grouped = list(grouped)
    probability = dict(
        Stage.objects.filter(pk__in={r["stage_id"] for r in grouped}).values_list("pk", "probability")
    )
    folded: dict[tuple[Any, str], dict[str, Any]] = {}
    for r in grouped:
        k = r[column]
        if by == "month" and k is not None:
            k = date(k.year, k.month, 1)
        acc = folded.setdefault(
            (k, r["currency"]),
            {
                "k": k,
                "currency": r["currency"],
                "n": 0,
                "total": Decimal("0"),
                "weighted_total": Decimal("0"),
            },
        )
        total = Decimal(r["total"] or 0)
        acc["n"] += r["n"]
        acc["total"] += total
        acc["weighted_total"] += total * probability.get(r["stage_id"], 0) / 100
    rows = [folded[key] for key in sorted(folded, key=lambda kc: (kc[0] is None, kc[0] or 0, kc[1]))]
    labels = _labels(by, {r["k"] for r in rows if r["k"] is not None})
    out = []
    for r in rows:
        k = r["k"]
        if by == "month":
            label = k.strftime("%Y-%m") if k else str(_("未定"))
        else:
            label = labels.get(k, str(_("未填写")))
        out.append(
            ForecastRow(
                key=k,
                label=label,
                currency=r["currency"],
                count=r["n"],
                amount=(r["total"] or Decimal("0")).quantize(rules.CENT),
                weighted=Decimal(r["weighted_total"] or 0).quantize(rules.CENT),
            )
        )
    if by != "month":
        out.sort(key=lambda row: -row.weighted)
    return out


def _labels(by: str, keys: set[Any]) -> dict[Any, str]:
    if by == "owner":
        return {u.pk: u.label for u in User.objects.filter(pk__in=keys)}
    if by == "department":
        return {d.pk: d.name for d in Department.objects.filter(pk__in=keys)}
    return {}


# --- stage groups (settings) -----------------------------------------------------------------------


def stage_group_list(*, actor: User) -> list[StageGroup]:
    require(actor, Perm.OPPORTUNITY_VIEW)
    return list(StageGroup.objects.prefetch_related("stages", "departments").order_by("-is_default", "name"))


# --- customer 360° page ----------------------------------------------------------------------------


def customer_opportunities(*, actor: User, customer: Customer, limit: int = 50) -> Page:
    qs = (
        Opportunity.objects.visible_to(actor)
        .filter(customer=customer)
        .select_related("stage", "owner")
        .order_by("-created_at", "-id")
    )
    return paginate(qs, limit=limit)


def customer_opportunity_count(actor: User, customer: Customer) -> int:
    return Opportunity.objects.visible_to(actor).filter(customer=customer).count()


def timeline_entries(actor: User, customer_ids: list[int], limit: int) -> list[TimelineEntry]:
    """Stage changes of the customer's opportunities on the 360° timeline (SAL-3), only of opportunities
    the actor may see."""
    visible = Opportunity.objects.visible_to(actor).filter(customer_id__in=customer_ids).values("pk")
    rows = (
        StageChange.objects.filter(opportunity_id__in=visible)
        .select_related("opportunity", "from_stage", "to_stage", "by")
        .order_by("-at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            at=c.at,
            template="sales/partials/_timeline_stage.html",
            item=c,
            kind="stage_change",
            data={
                "actor": c.by.label if c.by else "",
                "verb": "stage",
                "subject_type": "opportunity",
                "subject_id": c.opportunity_id,
                "subject_label": f"{c.opportunity.code} {c.opportunity.name}",
                "summary": f"{c.from_stage or '—'} → {c.to_stage}",
                "changes": {"stage": [str(c.from_stage) if c.from_stage else None, str(c.to_stage)]},
            },
        )
        for c in rows
    ]
