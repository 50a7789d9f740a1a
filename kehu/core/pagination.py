"""``?limit=&offset=`` pagination shared by API and pages (interfaces.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from .errors import ValidationError

DEFAULT_LIMIT = 25
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    items: list[Any]
    count: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.count

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def previous_offset(self) -> int:
        return max(self.offset - self.limit, 0)

    @property
    def next_offset(self) -> int:
        return self.offset + self.limit

    @property
    def number(self) -> int:
        return self.offset // self.limit + 1

    @property
    def num_pages(self) -> int:
        return max((self.count + self.limit - 1) // self.limit, 1)

    @property
    def first_index(self) -> int:
        return self.offset + 1 if self.count else 0

    @property
    def last_index(self) -> int:
        return min(self.offset + self.limit, self.count)


def clean_filters(filters: dict[str, Any] | None, allowed: set[str] | frozenset[str]) -> dict[str, Any]:
    """A list's filters without the blank ones; an unknown one is refused naming it (both languages)."""
    cleaned = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unknown = sorted(set(cleaned) - set(allowed))
    if unknown:
        raise ValidationError(_("未知筛选条件：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    return cleaned


def filter_id(filters: dict[str, Any], key: str) -> int:
    """A filter that names a record by its numeric id; anything else is refused naming the filter."""
    try:
        return int(filters[key])
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("%(f)s 必须是数字ID"), field=key, params={"f": key}) from exc


def filter_date(filters: dict[str, Any], key: str) -> date:
    """A filter holding a date (YYYY-MM-DD); anything else is refused naming the filter."""
    try:
        return date.fromisoformat(str(filters[key]))
    except ValueError as exc:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD"), field=key) from exc


def clean_window(limit: Any, offset: Any) -> tuple[int, int]:
    try:
        lim = DEFAULT_LIMIT if limit in (None, "") else int(limit)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("limit 必须是整数"), field="limit") from exc
    try:
        off = 0 if offset in (None, "") else int(offset)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("offset 必须是整数"), field="offset") from exc
    if not 1 <= lim <= MAX_LIMIT:
        raise ValidationError(_("limit 必须在 1 到 %(max)s 之间"), field="limit", params={"max": MAX_LIMIT})
    if off < 0:
        raise ValidationError(_("offset 不能为负数"), field="offset")
    return lim, off


def paginate(queryset: Any, *, limit: Any = None, offset: Any = None, count: int | None = None) -> Page:
    """A page of ``queryset``; ``count`` when the caller has already counted the same rows."""
    lim, off = clean_window(limit, offset)
    count = queryset.count() if count is None else count
    items = list(queryset[off : off + lim])
    return Page(items=items, count=count, limit=lim, offset=off)


def paginate_parts(
    parts: Sequence[Any], *, order: Sequence[Any], limit: Any = None, offset: Any = None, shape: Any = None
) -> Page:
    """A page over the union of disjoint querysets of one model, in ``order`` (which ends in a tie-breaker).

    The first ``offset + limit`` rows of a union are among the first ``offset + limit`` of each part,
    so each part gives only that many ids — straight from an index when one has the order — and the
    page is fetched and ordered from those. Two queries whatever the number of parts: the count (a
    ``UNION ALL`` of the parts, which are disjoint) and the page. ``shape`` (queryset → queryset) adds
    ``select_related``/``only`` to the rows fetched.
    """
    lim, off = clean_window(limit, offset)
    shape = shape or (lambda qs: qs)
    if len(parts) == 1:
        return paginate(shape(parts[0]).order_by(*order), limit=lim, offset=off)
    if not parts:
        return Page(items=[], count=0, limit=lim, offset=off)
    ids = [part.order_by().values("pk") for part in parts]
    count = ids[0].union(*ids[1:], all=True).count()
    if off >= count:
        return Page(items=[], count=count, limit=lim, offset=off)
    # Databases refuse ORDER BY/LIMIT inside a compound SELECT, but not inside its sub-selects.
    tops = [
        part.order_by(*order).values_list("pk", flat=True)[: off + lim].query.sql_with_params()
        for part in parts
    ]
    sql = " UNION ALL ".join(f"SELECT * FROM ({text}) AS part{i}" for i, (text, _params) in enumerate(tops))
    params = tuple(param for _text, part_params in tops for param in part_params)
    model = parts[0].model
    rows = model._default_manager.filter(pk__in=RawSQL(sql, params))
    items = list(shape(rows).order_by(*order)[off : off + lim])
    return Page(items=items, count=count, limit=lim, offset=off)
