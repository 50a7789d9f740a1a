"""``?limit=&offset=`` pagination shared by API and pages (interfaces.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def paginate(queryset: Any, *, limit: Any = None, offset: Any = None) -> Page:
    lim, off = clean_window(limit, offset)
    count = queryset.count()
    items = list(queryset[off : off + lim])
    return Page(items=items, count=count, limit=lim, offset=off)
