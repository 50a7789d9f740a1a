"""Shared API schema pieces: strict input (unknown fields → 422), list envelopes, errors."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from ninja import Schema
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class StrictIn(Schema):
    """Base of every request body: unknown fields are rejected (interfaces.md)."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
    messages: dict[str, str] | None = None


# The error statuses every endpoint may answer with, as {code, message, field} (interfaces.md).
ERRORS: dict[int, Any] = {status: ErrorOut for status in (400, 401, 403, 404, 409, 422)}


class ListOut(BaseModel, Generic[T]):
    items: list[T]
    count: int


def page_out(page: Any, mapper: Any) -> dict[str, Any]:
    return {"items": [mapper(item) for item in page.items], "count": page.count}
