"""The CDNOW sample (data/README.md) as arrays and as the ``customer,date,amount`` CSV of ``kehu analytics fit``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("data")
CALIBRATION_END = "1997-09-30"


@cache
def sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer id, date, amount) of the 6 919 sample transactions."""
    raw = np.loadtxt(DATA / "CDNOW_sample.txt", dtype=str)
    customers = raw[:, 1].astype(np.int64)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    amounts = raw[:, 4].astype(np.float64)
    return customers, dates, amounts


def write_sample_csv(path: Path) -> Path:
    customers, dates, amounts = sample()
    with path.open("w", encoding="utf-8") as fh:
        fh.write("customer,date,amount\n")
        for c, d, a in zip(customers.tolist(), dates.astype(str).tolist(), amounts.tolist(), strict=True):
            fh.write(f"{c},{d},{a:.2f}\n")
    return path


@cache
def summary_with_transactions() -> np.ndarray:
    """Columns ID, x, t_x, T, zbar (weeks; calibration to 1997-09-30)."""
    return np.genfromtxt(DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True)


@cache
def summary() -> np.ndarray:
    """Columns ID, frequency, recency, T."""
    return np.genfromtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", names=True)
