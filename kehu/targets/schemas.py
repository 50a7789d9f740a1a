"""API schemas of sales targets (SAL-8). Money and counts travel as decimal strings."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from .models import SalesTarget
from .selectors import TargetRow


class TargetIn(StrictIn):
    metric: str
    period_kind: str
    year: int
    number: int = 1
    value: Decimal
    user_id: int | None = None
    department_id: int | None = None
    notes: str = ""


class TargetPatch(StrictIn):
    version: int
    value: Decimal
    notes: str | None = None


class TargetOut(BaseModel):
    id: int
    version: int
    user_id: int | None
    department_id: int | None
    subject: str
    metric: str
    period_kind: str
    year: int
    number: int
    period: str  # 2026-12 / 2026-Q4 / 2026
    period_label: str
    value: Decimal
    notes: str


class TargetProgressOut(TargetOut):
    actual: Decimal
    percent: Decimal
    rank: int


class TargetProgressListOut(BaseModel):
    items: list[TargetProgressOut]
    count: int
    period: str


def target_out(target: SalesTarget) -> dict:
    return {
        "id": target.pk,
        "version": target.version,
        "user_id": target.user_id,
        "department_id": target.department_id,
        "subject": target.subject_label,
        "metric": target.metric,
        "period_kind": target.period_kind,
        "year": target.year,
        "number": target.number,
        "period": target.period.key,
        "period_label": target.period.label,
        "value": target.value,
        "notes": target.notes,
    }


def progress_out(row: TargetRow) -> dict:
    return {**target_out(row.target), "actual": row.actual, "percent": row.percent, "rank": row.rank}
