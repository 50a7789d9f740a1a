"""Reads of the customer archive. Every query starts from ``visible_to(actor)`` (SEC-1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, owner_ids_in_scope, subordinate_ids
from kehu.access.selectors import UserChoice, user_choice_values, user_choices
from kehu.audit.models import AuditEvent
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, paginate, paginate_parts

from .choices import (
    CLASSIFICATION_DIMENSIONS,
    DERIVED_DIMENSIONS,
    CustomerKind,
    OptionKind,
    Relation,
    Size,
    Urgency,
)
from .extensions import TimelineEntry, timeline_sources
from .models import LIVE, Contact, Customer, CustomerCollaborator, Option
from .rules import OrderFacts, area_code_key, derive_all, normalize_query, phone_key, urgency_window

SCENES = {
    "mine": _("我负责的"),
    "collaborating": _("我参与的"),
    "subordinates": _("下属负责的"),
    "all": _("全部"),
    "pool": _("公海"),
}
# 公海 customers have their own scene, as in the Chinese CRMs users know; the other scenes list owned ones.
SORTS = {
    "updated_at",
    "-updated_at",
    "created_at",
    "-created_at",
    "name",
    "-name",
    "code",
    "-code",
    "last_contact_at",
    "-last_contact_at",
    "value_tier",
    "-value_tier",
    "next_follow_up_on",
    "-next_follow_up_on",
}
LIST_COLUMNS = (
    "id",
    "code",
    "kind",
    "name",
    "mobile",
    "value_tier",
    "status",
    "deal_status",
    "owner_id",
    "industry_id",
    "last_contact_at",
    "next_follow_up_on",
    "updated_at",
    "created_at",
    "version",
    "pool_id",
    "pool_locked",
    "owner_since",
    "last_order_date",
    "owner__username",
    "owner__display_name",
    "industry__label",
    "industry__label_en",
    "industry__code",
)
NULLABLE_SORTS = {"last_contact_at", "next_follow_up_on"}
FILTER_CHOICES: dict[str, Any] = {
    "kind": CustomerKind,
    "size": Size,
    "relation": Relation,
    **CLASSIFICATION_DIMENSIONS,
}
FILTERS = {
    *FILTER_CHOICES,
    "industry",
    "source",
    "tag",
    "owner",
    "province",
    "city",
    "q",
    "screened",
    "created_from",
    "created_to",
    "urgency",
    "idle",
}
# 遗忘提醒: customers not contacted for this many days (or never), ENG-2 / issue 3.
IDLE_DAYS = (7, 15, 30, 90, 180)


def _search_q(query: str, field: str = "search_text") -> Q:
    return Q(**{f"{field}__contains": query})


def customer_search_q(q: str) -> Q | None:
    """Customers matching ``q`` by name substring, pinyin, initials, code or phone — or a contact's.

    A customer's ``search_text`` also holds its live contacts' keys (``rules.customer_search_text``), so
    one substring test per customer finds both, and an index on it (pg_trgm) serves the whole archive.
    """
    query = normalize_query(q)
    return _search_q(query) if query else None


def urgency_q(bucket: str, *, field: str = "next_follow_up_on") -> Q:
    """Rows whose next follow-up date falls in the ENG-2 bucket ``bucket`` (today in Asia/Shanghai)."""
    from django.utils import timezone

    if bucket not in Urgency.values:
        raise ValidationError(_("筛选值“%(v)s”无效"), field="urgency", params={"v": bucket})
    window = urgency_window(bucket, today=timezone.localdate())
    if window is None:
        return Q(**{f"{field}__isnull": True})
    first, last = window
    q = Q()
    if first is not None:
        q &= Q(**{f"{field}__gte": first})
    if last is not None:
        q &= Q(**{f"{field}__lte": last})
    return q


def idle_q(days: Any) -> Q:
    """Customers nobody has contacted for at least ``days`` days — or ever (遗忘提醒)."""
    from datetime import timedelta

    from django.utils import timezone

    try:
        n = int(days)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("未联系天数必须是整数"), field="idle") from exc
    if not 1 <= n <= 3650:
        raise ValidationError(_("未联系天数必须在 1 到 3650 之间"), field="idle")
    return Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=timezone.now() - timedelta(days=n))


@dataclass(frozen=True)
class ListQuery:
    """What a customer list asks for, checked: the part of ``visible_to`` (owned or pool), the filter
    conditions and the order. The page (``customer_list``) and the export read the same rows."""

    part: str
    conditions: list[Q]
    order: tuple[Any, ...]


def customer_list_query(
    *, actor: User, scene: str = "all", filters: dict[str, Any] | None = None, sort: str = "-updated_at"
) -> ListQuery:
    """Scene (我负责的/我参与的/下属负责的/全部/公海), filters and sort turned into a ``ListQuery``; each bad
    one is refused naming it."""
    from .extensions import list_filters

    extra = {f.key: f for f in list_filters() if f.allowed(actor)}
    filters = clean_filters(filters, FILTERS | set(extra))
    if scene not in SCENES:
        raise ValidationError(_("场景“%(s)s”无效"), field="scene", params={"s": scene})
    if sort not in SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})

    conditions: list[Q] = []
    search = customer_search_q(filters.pop("q", ""))
    if search is not None:
        conditions.append(search)
    if scene == "mine":
        conditions.append(Q(owner=actor))
    elif scene == "collaborating":
        conditions.append(Q(pk__in=CustomerCollaborator.objects.filter(user=actor).values("customer_id")))
    elif scene == "subordinates":
        conditions.append(Q(owner_id__in=sorted(subordinate_ids(actor))))

    for key, choices in FILTER_CHOICES.items():
        if key in filters:
            value = filters.pop(key)
            if value not in choices.values:
                raise ValidationError(_("筛选值“%(v)s”无效"), field=key, params={"v": value})
            conditions.append(Q(**{key: value}))
    if "industry" in filters:
        conditions.append(Q(industry__kind=OptionKind.INDUSTRY, industry__code=filters.pop("industry")))
    if "source" in filters:
        conditions.append(Q(source__kind=OptionKind.SOURCE, source__code=filters.pop("source")))
    if "tag" in filters:
        conditions.append(
            Q(pk__in=Customer.tags.through.objects.filter(tag__name=filters.pop("tag")).values("customer_id"))
        )
    if "owner" in filters:
        try:
            conditions.append(Q(owner_id=int(filters.pop("owner"))))
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("负责人必须是用户ID"), field="owner") from exc
    for key in ("province", "city"):
        if key in filters:
            conditions.append(Q(**{key: filters.pop(key)}))
    if "screened" in filters:
        conditions.append(Q(screened=str(filters.pop("screened")).lower() in ("1", "true", "yes", "on")))
    for key, lookup in (("created_from", "created_at__date__gte"), ("created_to", "created_at__date__lte")):
        if key in filters:
            conditions.append(Q(**{lookup: filters.pop(key)}))
    if "urgency" in filters:
        conditions.append(urgency_q(filters.pop("urgency")))
    if "idle" in filters:
        conditions.append(idle_q(filters.pop("idle")))
    for key, list_filter in extra.items():
        if key in filters:
            conditions.append(list_filter.condition(str(filters.pop(key))))

    tie = "-id" if sort.startswith("-") else "id"
    field = sort.lstrip("-")
    # Customers without a date (never contacted, nothing planned) go last either way, on every database.
    order_key: Any = sort
    if field in NULLABLE_SORTS:
        order_key = F(field).desc(nulls_last=True) if sort.startswith("-") else F(field).asc(nulls_last=True)
    return ListQuery(
        part="pool" if scene == "pool" else "owned", conditions=conditions, order=(order_key, tie)
    )


def customer_list(
    *,
    actor: User,
    scene: str = "all",
    filters: dict[str, Any] | None = None,
    sort: str = "-updated_at",
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """A page of the customers ``actor`` may see, by scene and filters (``customer_list_query``)."""
    query = customer_list_query(actor=actor, scene=scene, filters=filters, sort=sort)
    # Each disjoint piece of the actor's rows (owned, collaborations, pool) is filtered, sorted and
    # counted on its own: see ``CustomerQuerySet.visible_parts``.
    parts = [
        part.filter(*query.conditions) for part in Customer.objects.visible_parts(actor, part=query.part)
    ]
    # Only the columns a list row shows: customers are wide.
    page = paginate_parts(
        parts,
        order=query.order,
        limit=limit,
        offset=offset,
        shape=lambda qs: qs.select_related("owner", "industry").only(*LIST_COLUMNS),
    )
    if query.part == "owned" and page.items:
        # 距退回公海: when each owned row goes back to its pool if nobody follows it up (CUS-7).
        from django.utils import timezone

        from .pool import pools_by_id, return_on

        pools = pools_by_id()
        today = timezone.localdate()
        for customer in page.items:
            customer.pool_return_on = return_on(customer, pools)
            home = pools.get(customer.pool_id) or pools.get(None)
            warn = home.warn_days if home else 0
            customer.pool_due_soon = bool(
                customer.pool_return_on and (customer.pool_return_on - today).days <= warn
            )
    return page


def customer_rows(*, actor: User, query: ListQuery) -> QuerySet:
    """Every row of a list, in its order, for exports (all of them, not a page): ``visible_to`` itself."""
    rows = Customer.objects.visible_to(actor, part=query.part).filter(*query.conditions)
    return rows.select_related("owner", "industry", "source").prefetch_related("tags").order_by(*query.order)


def owner_filter_choices(*, actor: User) -> list[UserChoice]:
    """The 负责人 filter of the customer list: the owners in ``actor``'s data scope (everyone active for
    全部). A rep's scope is the rep alone — the page then leaves the filter out."""
    ids = owner_ids_in_scope(actor)
    # A select shows the id and the name only (a board draws this too).
    if ids is None:
        return user_choice_values(user_choices())
    return user_choice_values(user_choices().filter(pk__in=sorted(ids))) if len(ids) > 1 else []


def customer_get(*, actor: User, customer_id: int) -> Customer:
    customer = (
        Customer.objects.visible_to(actor)
        .select_related("owner", "industry", "source", "created_by", "pool")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(_("客户不存在或您无权查看"), field="id")
    return customer


def customer_get_editable(*, customer_id: int, by: User) -> Customer:
    """The customer if ``by`` may change it; NotFound outside scope, PermissionDenied if read-only."""
    from kehu.core.errors import PermissionDenied

    customer = Customer.objects.visible_to(by).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("客户不存在或您无权查看"), field="id")
    if not Customer.objects.editable_by(by).filter(pk=customer_id).exists():
        raise PermissionDenied(_("您只能查看该客户，不能修改"), code="read_only")
    return customer


def customer_can_edit(*, actor: User, customer: Customer) -> bool:
    return Customer.objects.editable_by(actor).filter(pk=customer.pk).exists()


@dataclass(frozen=True)
class ClassificationRow:
    dimension: str
    label: str
    value: str
    value_label: str
    derived_value: str | None
    reason: str
    overridden: bool
    override: dict[str, Any] | None


def customer_classification(*, customer: Customer) -> list[ClassificationRow]:
    """Each CUS-2 dimension with its effective value and why (derived rule or the user's override)."""
    facts = OrderFacts(
        first_order_date=customer.first_order_date,
        last_order_date=customer.last_order_date,
        order_count=customer.order_count,
        revenue_12m=customer.revenue_12m,
        screened=customer.screened,
        has_open_opportunity=customer.has_open_opportunity,
    )
    from django.utils import timezone

    derived = derive_all(facts, today=timezone.localdate())
    labels = {f.name: f.verbose_name for f in Customer._meta.fields}
    rows = [
        ClassificationRow(
            "industry",
            str(_("行业")),
            customer.industry.code if customer.industry else "",
            str(customer.industry or "—"),
            None,
            str(_("人工录入")),
            False,
            None,
        ),
        ClassificationRow(
            "size",
            str(_("规模")),
            customer.size,
            customer.get_size_display() or "—",
            None,
            str(_("人工录入")),
            False,
            None,
        ),
        ClassificationRow(
            "relation",
            str(_("客户关系")),
            customer.relation,
            customer.get_relation_display(),
            None,
            str(_("人工录入")),
            False,
            None,
        ),
    ]
    for dim, choices in CLASSIFICATION_DIMENSIONS.items():
        override = (customer.overrides or {}).get(dim)
        value = getattr(customer, dim)
        d = derived.get(dim)
        if override:
            reason = str(_("人工调整：%(reason)s（%(by)s）")) % {
                "reason": override.get("reason", ""),
                "by": override.get("by", ""),
            }
        elif dim in DERIVED_DIMENSIONS and d is not None:
            reason = d.reason
        else:
            reason = str(_("人工录入"))
        rows.append(
            ClassificationRow(
                dim,
                str(labels[dim]),
                value,
                str(choices(value).label) if value else "—",
                d.value if d else None,
                reason,
                bool(override),
                override,
            )
        )
    return rows


def contact_list(
    *, actor: User, customer: Customer | None = None, q: str = "", limit: Any = None, offset: Any = None
) -> Page:
    qs = Contact.objects.visible_to(actor).select_related("customer", "reports_to")
    if customer is not None:
        qs = qs.filter(customer=customer)
    query = normalize_query(q)
    if query:
        qs = qs.filter(_search_q(query))
    return paginate(qs.order_by("-is_primary", "id"), limit=limit, offset=offset)


def contact_get(*, actor: User, contact_id: int) -> Contact:
    contact = (
        Contact.objects.visible_to(actor)
        .select_related("customer", "reports_to")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(_("联系人不存在或您无权查看"), field="id")
    return contact


# --- finding a caller by telephone number (SVC-3) ---------------------------------------------------


@dataclass(frozen=True)
class PhoneMatch:
    """A customer or contact holding the caller's number.

    ``visible``: the actor may see the customer (``Customer.objects.visible_to``). A match the actor
    may not see carries nothing else — no customer, no contact, not which number — and all of them
    together appear as one such entry, so the actor learns only that the number is known.
    """

    visible: bool
    customer: Customer | None = None
    contact: Contact | None = None  # None: the customer's own number
    field: str = ""  # which of the record's numbers matched: "mobile" or "phone"


@dataclass(frozen=True)
class PhoneMatches:
    """The answer to "who is calling?": the normalised ``key`` looked up, whether any live customer or
    contact holds it (``known``, whoever may see it), and the ``matches`` in display order."""

    key: str
    known: bool
    matches: tuple[PhoneMatch, ...]

    @property
    def visible(self) -> tuple[PhoneMatch, ...]:
        return tuple(m for m in self.matches if m.visible)


def _visible_among(actor: User, owner_of: dict[int, int | None]) -> set[int]:
    """Which of a few customers (id → owner id) ``actor`` may see, by ``Customer.objects.visible_to``.

    Owned ones are asked with ``owners=`` (their owners in the actor's scope by the owner index, any
    other only where the actor collaborates): the same rows as the owned part of ``visible_to``, but
    without its ``id IN (every owned id UNION collaborations)``, which makes the database list all the
    customers a manager may see to answer for one. Pool customers (no owner): the pool part, and the
    whole rule only for one the actor may not see there.
    """
    owned = {pk for pk, owner in owner_of.items() if owner is not None}
    unowned = set(owner_of) - owned
    visible: set[int] = set()
    if owned and can(actor, Perm.CUSTOMER_VIEW) and owner_ids_in_scope(actor) is None:
        # 全部 scope: ``visible_to(owners=…)`` keeps every live customer of those owners, and these rows
        # were read live — asking the database again would cost a round trip of the screen pop.
        visible |= owned
        owned = set()
    if owned:
        owners = {owner for owner in owner_of.values() if owner is not None}
        rows = Customer.objects.visible_to(actor, part="owned", owners=owners).filter(pk__in=sorted(owned))
        visible |= set(rows.order_by().values_list("pk", flat=True))
    if unowned:
        rows = Customer.objects.visible_to(actor, part="pool").filter(pk__in=sorted(unowned))
        visible |= set(rows.order_by().values_list("pk", flat=True))
    if unowned - visible:
        # Not in a pool the actor sees: the actor may still collaborate on it.
        rows = Customer.objects.visible_to(actor).filter(pk__in=sorted(unowned - visible))
        visible |= set(rows.order_by().values_list("pk", flat=True))
    return visible


# What the screen pop shows of a matched customer and contact (its card, the greeting, the API).
POP_CUSTOMER_FIELDS = (
    "id", "kind", "code", "name", "gender", "value_tier", "mobile", "phone", "owner",
    "owner__username", "owner__display_name",
)  # fmt: skip
POP_CONTACT_FIELDS = ("id", "customer", "name", "gender", "position", "mobile", "phone", "is_primary")


def phone_matches(*, number: str, actor: User, local_area_code: str = "", limit: int = 20) -> PhoneMatches:
    """The live customers and contacts whose number is the caller's ``number`` (SVC-3, 来电弹屏).

    The number is reduced to its key (``rules.phone_key``: "+86 21 5555 1234" → "02155551234"), then
    found with indexed equality lookups only — ``mobile`` or ``phone_key`` of customers, and of live
    contacts of live customers — so the answer takes milliseconds at a million customers. A local
    number (no area code) is looked up with ``local_area_code`` in front and also as it is, since a
    number may have been stored without its area code.

    Order: the customers' own numbers first (mobile before landline), then contacts (primary contact
    first, mobile before landline); at most ``limit`` visible matches. Visibility is the one rule,
    ``Customer.objects.visible_to(actor)``: a match the actor may not see is flagged, never shown
    (``PhoneMatch``), and ``known`` says the number is on file all the same.
    """
    try:
        area_code_key(local_area_code)
    except ValueError:
        raise ValidationError(
            _("区号“%(code)s”无效"), field="local_area_code", params={"code": local_area_code}
        ) from None
    key = phone_key(number, local_area_code=local_area_code)
    if not key:
        return PhoneMatches(key="", known=False, matches=())
    keys = sorted({key, phone_key(number)} - {""})
    # Each side is one equality (or a two-key IN) on an indexed column; ordered by id, not by the
    # models' updated_at ordering, which would tempt the planner to walk a list index instead.
    # Only the columns a caller's card shows (``POP_CUSTOMER_FIELDS``): building the SQL and the
    # objects of every column of a customer, its owner and a contact was a third of a screen pop.
    number_q = Q(mobile=key) | Q(phone_key__in=keys)
    customers = list(
        Customer.objects.filter(LIVE)
        .filter(number_q)
        .select_related("owner")
        .only(*POP_CUSTOMER_FIELDS)
        .order_by("id")[:limit]
    )
    contacts = list(
        Contact.objects.filter(number_q, deleted_at__isnull=True)
        .filter(customer__deleted_at__isnull=True, customer__merged_into__isnull=True)
        .select_related("customer", "customer__owner")
        .only(*POP_CONTACT_FIELDS, *(f"customer__{name}" for name in POP_CUSTOMER_FIELDS))
        .order_by("id")[:limit]
    )
    if not customers and not contacts:
        return PhoneMatches(key=key, known=False, matches=())
    owner_of = {c.pk: c.owner_id for c in customers} | {c.customer_id: c.customer.owner_id for c in contacts}
    visible_ids = _visible_among(actor, owner_of)

    def field(row: Customer | Contact) -> str:
        return "mobile" if row.mobile == key else "phone"

    own = sorted((c for c in customers if c.pk in visible_ids), key=lambda c: (field(c) != "mobile", c.pk))
    by_contact = sorted(
        (c for c in contacts if c.customer_id in visible_ids),
        key=lambda c: (not c.is_primary, field(c) != "mobile", c.pk),
    )
    matches = [PhoneMatch(visible=True, customer=c, field=field(c)) for c in own]
    matches += [PhoneMatch(visible=True, customer=c.customer, contact=c, field=field(c)) for c in by_contact]
    matches = matches[:limit]
    hidden = any(c.pk not in visible_ids for c in customers) or any(
        c.customer_id not in visible_ids for c in contacts
    )
    if hidden:
        matches.append(PhoneMatch(visible=False))
    return PhoneMatches(key=key, known=True, matches=tuple(matches))


def customer_timeline(*, actor: User, customer: Customer, limit: int = 100) -> list[TimelineEntry]:
    """The 360° timeline (CUS-1): audit events of this customer and of customers merged into it, merged
    in time order with what other domains register (interactions, …; ``extensions``).

    Reveal events are for the auditors' page, not the sales timeline.
    """
    ids = [customer.pk, *Customer.objects.filter(merged_into=customer).values_list("pk", flat=True)]
    sources = timeline_sources()
    hidden = [pair for source in sources for pair in source.replaces_audit]
    events = AuditEvent.objects.for_customer(ids).exclude(verb="reveal")
    for subject_type, verb in hidden:
        events = events.exclude(subject_type=subject_type, verb=verb)
    entries = [
        TimelineEntry(
            at=e.at,
            template="customers/partials/_timeline_audit.html",
            item=e,
            data={
                "actor": e.actor_name,
                "verb": e.verb,
                "subject_type": e.subject_type,
                "subject_id": e.subject_id,
                "subject_label": e.subject_label,
                "changes": e.changes,
            },
        )
        for e in events.order_by("-at", "-id")[:limit]
    ]
    for source in sources:
        entries.extend(source.entries(actor, ids, limit))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def recycle_bin(*, actor: User, limit: Any = None, offset: Any = None) -> Page:
    from kehu.access.perms import Perm
    from kehu.access.scope import require

    require(actor, Perm.CUSTOMER_RESTORE)
    qs = (
        Customer.objects.recycled_visible_to(actor)
        .select_related("owner", "deleted_by")
        .order_by("-deleted_at")
    )
    return paginate(qs, limit=limit, offset=offset)


def options(kind: str, *, include_inactive: bool = False) -> list[Option]:
    qs = Option.objects.filter(kind=kind)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return list(qs)


def option_groups(*, actor: User) -> list[tuple[str, str, list[Option]]]:
    """The admin page of configurable lists (needs ``settings.edit``)."""
    from kehu.access.perms import Perm
    from kehu.access.scope import require

    require(actor, Perm.SETTINGS_EDIT)
    return [(k, str(label), options(k, include_inactive=True)) for k, label in OptionKind.choices]


def collaborators(*, customer: Customer) -> list[CustomerCollaborator]:
    return list(customer.collaborators.select_related("user").order_by("added_at"))


def customer_get_by_code(*, actor: User, code: str, field: str = "code") -> Customer:
    customer = Customer.objects.visible_to(actor).filter(code=(code or "").strip().upper()).first()
    if customer is None:
        raise ValidationError(_("找不到编号为“%(c)s”的客户（或您无权查看）"), field=field, params={"c": code})
    return customer


def scoped_customers(*, actor: User, owner_ids: set[int] | None) -> Any:
    """The actor's visible owned customers whose owner is one of ``owner_ids`` (``None``: any owner) —
    a view scope (``access.scope.view_scope_owner_ids``) applied on top of ``visible_to``."""
    if owner_ids is None:
        return Customer.objects.visible_to(actor, part="owned")
    return Customer.objects.visible_to(actor, part="owned", owners=owner_ids)


def follow_up_summary(*, actor: User, owner_ids: set[int] | str | None = "mine") -> dict[str, Any]:
    """The actor's own customers (or those of ``owner_ids``, a view scope) by urgency of the next
    follow-up (ENG-2) and by days since the last contact (遗忘提醒: 7 / 15 / 30 / 90 / 180 days) —
    two aggregate queries over the owners' rows, each served by an index on (owner, date)."""
    from django.db.models import Count
    from django.utils import timezone

    mine = scoped_customers(actor=actor, owner_ids={actor.pk} if owner_ids == "mine" else owner_ids)  # type: ignore[arg-type]
    today = timezone.localdate()
    buckets = {bucket: urgency_q(bucket) for bucket in Urgency.values}
    by_urgency = mine.aggregate(**{b: Count("id", filter=q) for b, q in buckets.items()})
    now = timezone.now()
    from datetime import timedelta

    idle = mine.aggregate(
        **{
            f"d{n}": Count(
                "id", filter=Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=now - timedelta(days=n))
            )
            for n in IDLE_DAYS
        }
    )
    return {
        "today": today,
        "urgency": [
            {"code": b, "label": str(Urgency(b).label), "count": by_urgency[b]} for b in Urgency.values
        ],
        "idle": [{"days": n, "count": idle[f"d{n}"]} for n in IDLE_DAYS],
    }


def customer_overview(*, actor: User) -> dict[str, Any]:
    """Counts for the home page (工作台), all within ``visible_to``: the actor's customers by status
    and value tier, new this month, the pool, collaborations, the latest changed."""
    from datetime import datetime

    from django.db.models import Count
    from django.utils import timezone

    from .choices import Status, ValueTier

    visible = Customer.objects.visible_to(actor)
    mine = Customer.objects.visible_to(actor, part="owned", owners={actor.pk})
    month_start = timezone.make_aware(
        datetime.combine(timezone.localdate().replace(day=1), datetime.min.time())
    )
    # One pass over the owner's rows for both breakdowns (and so the total).
    pairs = mine.values_list("status", "value_tier").annotate(n=Count("id")).order_by()
    by_status: dict[str, int] = {}
    by_tier: dict[str, int] = {}
    for status, tier, n in pairs:
        by_status[status] = by_status.get(status, 0) + n
        by_tier[tier] = by_tier.get(tier, 0) + n
    return {
        "mine": sum(by_status.values()),
        "new_this_month": mine.filter(created_at__gte=month_start).count(),
        "pool": Customer.objects.visible_to(actor, part="pool").count(),
        "collaborating": visible.filter(
            pk__in=CustomerCollaborator.objects.filter(user=actor).values("customer_id")
        ).count(),
        "by_status": [{"name": str(s.label), "value": by_status.get(s.value, 0)} for s in Status],
        "by_tier": [{"name": str(t.label), "value": by_tier.get(t.value, 0)} for t in ValueTier],
        "recent": list(mine.select_related("industry").order_by("-updated_at", "-id")[:8]),
    }


def period_counts(*, actor: User, owner_ids: set[int] | None, start: Any, end: Any) -> dict[str, int]:
    """New customers and new contacts created in [start, end) among the customers of ``owner_ids``
    (a view scope), within ``visible_to`` (ANA-8, the home dashboard)."""
    customers = scoped_customers(actor=actor, owner_ids=owner_ids)
    # Contacts are visible exactly when their customer is: those of the scope's (visible) customers.
    contacts = Contact.objects.filter(
        customer__in=customers, deleted_at__isnull=True, created_at__gte=start, created_at__lt=end
    )
    return {
        "customers": customers.filter(created_at__gte=start, created_at__lt=end).count(),
        "contacts": contacts.count(),
    }
