"""Template helpers: query strings that keep filters, masking, choice labels."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

from kehu.core.identity import mask_id_number, mask_mobile

register = template.Library()


@register.simple_tag
def query_string(base: dict[str, Any] | None = None, **changes: Any) -> str:
    """``base`` with ``changes`` applied, URL-encoded; empty values are dropped."""
    params = {**(base or {}), **changes}
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@register.filter
def sub(value: Any, arg: Any) -> int:
    return max(int(value) - int(arg), 0)


@register.filter
def masked_mobile(value: str) -> str:
    return mask_mobile(value or "")


@register.filter
def masked_id(value: str) -> str:
    return mask_id_number(value or "")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def sort_link(base: dict[str, Any], current: str, field: str) -> str:
    """The query string that sorts by ``field``, toggling direction when it is already the sort key."""
    new = f"-{field}" if current == field else field
    return urlencode({k: v for k, v in {**base, "sort": new, "offset": ""}.items() if v not in (None, "")})


@register.filter
def percent(value: Any, digits: int = 1) -> str:
    """A share (0.8312) as a percentage (83.1%); empty for a missing value."""
    if value in (None, ""):
        return "—"
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return "—"


_SENTINEL = 987654321


@lru_cache(maxsize=256)
def _pk_url_pattern(name: str, urlconf: str | None, prefix: str) -> str:
    return reverse(name, args=[_SENTINEL], urlconf=urlconf).replace(str(_SENTINEL), "{}")


@register.filter
def pk_url(pk: Any, name: str) -> str:
    """``{{ o.pk|pk_url:"sales:detail" }}`` = ``{% url "sales:detail" o.pk %}`` for a URL whose only argument
    is the primary key, with the pattern reversed once: a board draws a few hundred such links."""
    return _pk_url_pattern(name, get_urlconf(), get_script_prefix()).format(int(pk))
