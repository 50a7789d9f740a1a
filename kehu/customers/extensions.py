"""Where higher domains plug into the customer's 360° page, the home page and ``kehu demo``.

Domains depend downwards only (architecture.md): customers may not import engagement, sales or
service, yet the 360° page and the home page (工作台) show their records. Each higher domain
registers, in its ``AppConfig.ready``, a timeline source (entries merged into the customer's 动态 in
time order) and, where it has one, a tab rendered into the 360° page or a panel of the home page —
a demo contributor, so ``kehu demo`` fills its tables too (interactions, tasks, …; ADR 0009) — and a
merge move, so merging two customers takes their records along (CUS-5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F
from django.utils import timezone

from kehu.core.models import VersionedModel


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the 360° timeline: when, the template that draws it, and the record it draws."""

    at: datetime
    template: str
    item: Any
    kind: str = "audit"
    data: dict[str, Any] | None = None  # what the API shows of it (TimelineItemOut)


@dataclass(frozen=True)
class TimelineSource:
    """``entries(actor, customer_ids, limit)`` → the newest entries for those customers (the customer and
    those merged into it). ``replaces_audit`` lists (subject_type, verb) audit events the entries show
    better, so they are not drawn twice."""

    entries: Callable[[Any, list[int], int], list[TimelineEntry]]
    replaces_audit: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DetailTab:
    """A tab of the 360° page: ``render(request, customer)`` returns its HTML; ``count`` its badge."""

    key: str
    label: Any
    render: Callable[[Any, Any], str]
    count: Callable[[Any, Any], int] | None = None
    order: int = 100


@dataclass(frozen=True)
class HomePanel:
    """A panel of the home page (工作台): ``render(request)`` returns its HTML."""

    key: str
    render: Callable[[Any], str]
    order: int = 100


@dataclass(frozen=True)
class DemoLoad:
    """What ``kehu demo`` just loaded, for the domains that add their own demo records: the run's
    customers have ids ``first_customer_id`` … ``+ customers - 1``, customer ``i`` of the run has the
    contacts ``first_contact_id + i * contacts_per_customer`` onwards. ``users`` maps the demo
    usernames to users; ``seed`` makes the additions as deterministic as the customers."""

    first_customer_id: int
    customers: int
    first_contact_id: int
    contacts_per_customer: int
    users: dict[str, Any]
    today: date
    seed: int
    progress: Callable[[str], None]
    # insert(model, columns, rows) → rows written: the demo's bulk writer (executemany / COPY).
    insert: Callable[[Any, tuple[str, ...], list[tuple]], int]


@dataclass(frozen=True)
class DemoContributor:
    """Adds a domain's demo records after the customers are in (same transaction: all or nothing).
    ``contribute(load)`` returns rows written per kind, e.g. ``{"interactions": 1200, "tasks": 80}``;
    it must insert in bulk through ``load.insert`` (the demo is a benchmark)."""

    key: str
    contribute: Callable[[DemoLoad], dict[str, int]]
    order: int = 100


@dataclass(frozen=True)
class ListFilter:
    """A filter a higher domain adds to the customer list, its export and ``GET /customers`` (e.g. the
    analytics' RFM class). ``condition(value)`` gives the ``Q`` on customers, refusing a bad value with a
    ``ValidationError`` naming ``key``; ``choices()`` the options the page's select offers; ``allowed(actor)``
    whether the actor may filter by it (a filter they may not use is ignored)."""

    key: str
    label: Any
    condition: Callable[[str], Any]
    choices: Callable[[], list[tuple[str, Any]]]
    allowed: Callable[[Any], bool] = lambda actor: True
    order: int = 100
    on_page: bool = True  # False: API and export only (a number range, not a select)


@dataclass(frozen=True)
class MergeMove:
    """What a higher domain does when customer ``drop`` is merged into ``keep`` (CUS-5: merged "without
    losing any history"): ``move(drop, keep, by)`` files its records of ``drop`` under ``keep`` (orders,
    opportunities, interactions, tickets, …) and brings ``keep``'s derived facts up to date, inside the
    merge's transaction; it returns the rows moved per kind, e.g. ``{"orders": 3}``, which the merge's
    audit event records. :func:`reassign` moves the rows."""

    key: str
    move: Callable[[Any, Any, Any], dict[str, int]]
    order: int = 100


def reassign(model: Any, field: str, drop: Any, keep: Any) -> int:
    """Point ``field`` (a foreign key to the customer) of every ``model`` row that names ``drop`` at
    ``keep``, in one UPDATE; rows in a recycle bin too (they are history). A versioned row's version goes
    up, so an edit form opened on it before the merge is refused as stale rather than writing the old
    customer back (SEC-6), and its update time is now. Returns the rows moved."""
    values: dict[str, Any] = {field: keep}
    if issubclass(model, VersionedModel):
        values.update(version=F("version") + 1, updated_at=timezone.now())
    return int(model._base_manager.filter(**{field: drop}).update(**values))


_merge_moves: dict[str, MergeMove] = {}
_list_filters: dict[str, ListFilter] = {}
_timeline_sources: dict[str, TimelineSource] = {}
_demo_contributors: dict[str, DemoContributor] = {}
_home_panels: dict[str, HomePanel] = {}
_detail_tabs: dict[str, DetailTab] = {}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    _timeline_sources[name] = source


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources.values())


def register_detail_tab(tab: DetailTab) -> None:
    _detail_tabs[tab.key] = tab


def detail_tabs() -> list[DetailTab]:
    return sorted(_detail_tabs.values(), key=lambda t: (t.order, t.key))


def register_home_panel(panel: HomePanel) -> None:
    _home_panels[panel.key] = panel


def home_panels() -> list[HomePanel]:
    return sorted(_home_panels.values(), key=lambda p: (p.order, p.key))


def register_demo_contributor(contributor: DemoContributor) -> None:
    _demo_contributors[contributor.key] = contributor


def demo_contributors() -> list[DemoContributor]:
    return sorted(_demo_contributors.values(), key=lambda c: (c.order, c.key))


def register_list_filter(list_filter: ListFilter) -> None:
    _list_filters[list_filter.key] = list_filter


def list_filters() -> list[ListFilter]:
    return sorted(_list_filters.values(), key=lambda f: (f.order, f.key))


def register_merge_move(move: MergeMove) -> None:
    _merge_moves[move.key] = move


def merge_moves() -> list[MergeMove]:
    return sorted(_merge_moves.values(), key=lambda m: (m.order, m.key))
