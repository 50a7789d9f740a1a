"""Transactions CSV (``customer,date,amount``) for ``kehu analytics fit`` (interfaces.md), and the fit itself.

:func:`read_transactions_csv` checks every row and raises a :class:`~kehu.core.errors.ValidationError`
naming the row and the column at fault; :func:`fit_all` fits BG/NBD, Pareto/NBD and Gamma-Gamma on the
summary and returns the JSON-ready result the command prints.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError

from . import lifetime

COLUMNS = ("customer", "date", "amount")


@dataclass(frozen=True)
class Transactions:
    customers: npt.NDArray[Any]
    dates: npt.NDArray[np.datetime64]
    amounts: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.dates.shape[0])


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return dt.date.fromisoformat(text.replace("/", "-")[:10])


def read_transactions_csv(path: str | Path) -> Transactions:
    """Read and check a ``customer,date,amount`` CSV (UTF-8, with a header row; other columns ignored).

    Dates are ``YYYY-MM-DD`` (``YYYY/MM/DD`` and ``YYYYMMDD`` are accepted too); amounts are decimal
    numbers ≥ 0. Row numbers in errors count the header as row 1, as a spreadsheet shows them.
    """
    customers: list[str] = []
    dates: list[dt.date] = []
    amounts: list[float] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValidationError(_("文件为空，缺少表头 customer,date,amount"), field="transactions")
        names = [h.strip().lower() for h in header]
        for column in COLUMNS:
            if column not in names:
                raise ValidationError(
                    _("缺少列“%(column)s”（需要 customer,date,amount）"),
                    field=column,
                    params={"column": column},
                )
        ci, di, ai = (names.index(c) for c in COLUMNS)
        width = max(ci, di, ai) + 1
        for row_no, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            customer = row[ci].strip()
            if not customer:
                raise ValidationError(_("第 %(row)d 行：客户为空"), field="customer", params={"row": row_no})
            try:
                day = _parse_date(row[di])
            except ValueError:
                raise ValidationError(
                    _("第 %(row)d 行：日期“%(value)s”无效（应为 YYYY-MM-DD）"),
                    field="date",
                    params={"row": row_no, "value": row[di]},
                ) from None
            try:
                amount = Decimal(row[ai].strip().replace(",", ""))
            except InvalidOperation:
                amount = Decimal("NaN")
            if not amount.is_finite():
                raise ValidationError(
                    _("第 %(row)d 行：金额“%(value)s”不是有效数字"),
                    field="amount",
                    params={"row": row_no, "value": row[ai]},
                )
            if amount < 0:
                raise ValidationError(
                    _("第 %(row)d 行：金额“%(value)s”不能为负数"),
                    field="amount",
                    params={"row": row_no, "value": row[ai]},
                )
            customers.append(customer)
            dates.append(day)
            amounts.append(float(amount))
    if not customers:
        raise ValidationError(_("文件中没有交易记录"), field="transactions")
    return Transactions(
        customers=np.array(customers),
        dates=np.array(dates, dtype="datetime64[D]"),
        amounts=np.array(amounts, dtype=np.float64),
    )


def _sig(value: float, digits: int = 6) -> float | None:
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


def _rounded(params: dict[str, float]) -> dict[str, float | None]:
    out: dict[str, float | None] = {k: _sig(v) for k, v in params.items() if k != "log_likelihood"}
    ll = params["log_likelihood"]
    out["log_likelihood"] = round(ll, 2) if math.isfinite(ll) else None
    return out


def _fitted(fit: Callable[[], dict[str, float]]) -> dict[str, float | None] | None:
    """The rounded parameters, or None when the maximisation fails on degenerate data."""
    try:
        return _rounded(fit())
    except FloatingPointError:
        return None


def fit_all(
    tx: Transactions, *, until: dt.date | None = None, unit: lifetime.Unit = "week"
) -> dict[str, Any]:
    """Summarise ``tx`` up to ``until`` and fit the three models: the ``kehu analytics fit`` JSON object.

    Parameters are given to 6 significant figures and log-likelihoods to 2 decimals. A model that cannot
    be fitted (no repeat buyer at all, or a likelihood that does not converge) is ``null``.
    """
    if until is not None and tx.dates.min() > np.datetime64(until, "D"):
        raise ValidationError(
            _("截止日期 %(until)s 早于第一笔交易"), field="until", params={"until": until.isoformat()}
        )
    summary = lifetime.summarize_transactions(tx.customers, tx.dates, tx.amounts, until=until, unit=unit)
    repeat = int(np.count_nonzero(summary.x > 0))
    result: dict[str, Any] = {"customers": len(summary), "repeat_buyers": repeat}
    if repeat == 0:
        result.update(bgnbd=None, pareto_nbd=None, gamma_gamma=None)
        return result
    result["bgnbd"] = _fitted(lambda: lifetime.fit_bgnbd(summary.x, summary.t_x, summary.T).as_dict())
    result["pareto_nbd"] = _fitted(
        lambda: lifetime.fit_pareto_nbd(summary.x, summary.t_x, summary.T).as_dict()
    )
    if np.count_nonzero((summary.x > 0) & (summary.monetary > 0)) >= 2:
        result["gamma_gamma"] = _fitted(
            lambda: lifetime.fit_gamma_gamma(summary.x, summary.monetary).as_dict()
        )
    else:
        result["gamma_gamma"] = None
    return result
