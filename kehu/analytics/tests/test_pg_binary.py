"""The binary COPY of NumPy columns (``pg_binary``): every type the score table has, NULLs, signs and the
largest money, round-tripped through a real PostgreSQL table and compared with what was meant.

PostgreSQL only: binary COPY is PostgreSQL's protocol (SQLite's scores go through ADBC, tested in
``test_refresh``/``test_sqlite_adbc``). The layout grouping itself is plain NumPy and is also checked here
byte for byte against a row-by-row encoding, on any database."""

from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.analytics import pg_binary as B

POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
TYPES = {
    "id": "bigint", "n": "integer", "s": "smallint", "f": "double precision", "d": "date", "b": "boolean",
    "m": "numeric(16,2)", "t": "character varying(20)",
}  # fmt: skip


def _row_by_row(columns: list[B.Values]) -> list[bytes]:
    """A plain encoding of each row in order, field by field — the reference the packed rows must match."""
    out = []
    for i in range(columns[0].values.shape[0]):
        row = struct.pack(">h", len(columns))
        for c in columns:
            if c.null[i]:
                row += struct.pack(">i", -1)
                continue
            v = c.values[i]
            kind = c.pg_type.split("(")[0]
            if kind == "numeric":
                cents = int(v)
                whole, frac = divmod(abs(cents), 100)
                digits = [whole // 10**12 % 10_000, whole // 10**8 % 10_000, whole // 10**4 % 10_000,
                          whole % 10_000, frac * 100]  # fmt: skip
                body = struct.pack(">hhHH5H", 5, 3, 0x4000 if cents < 0 else 0, 2, *digits)
            elif kind == "character varying":
                body = str(v).encode()
            else:
                fmt = {"bigint": ">q", "integer": ">i", "smallint": ">h", "double precision": ">d", "date": ">i",
                       "boolean": ">B"}[kind]  # fmt: skip
                body = struct.pack(fmt, int(v) - B.EPOCH_2000 if kind == "date" else v.item())
            row += struct.pack(">i", len(body)) + body
        out.append(row)
    return out


def _split(packed: bytes, columns: list[B.Values]) -> list[bytes]:
    """Packed COPY rows cut back into rows (by reading each field's length)."""
    rows, at = [], 0
    while at < len(packed):
        start = at
        at += 2
        for _ in columns:
            (length,) = struct.unpack_from(">i", packed, at)
            at += 4 + max(length, 0)
        rows.append(packed[start:at])
    return rows


def _columns(data: list[tuple[Any, ...]]) -> list[B.Values]:
    def col(name: str, i: int, dtype: Any) -> B.Values:
        null = np.array([r[i] is None for r in data], dtype=bool)
        fill: Any = "" if dtype is object else 0
        values = np.array([fill if r[i] is None else r[i] for r in data], dtype=dtype)
        return B.Values(name, TYPES[name], values, null)

    return [
        col("id", 0, np.int64), col("n", 1, np.int64), col("s", 2, np.int64), col("f", 3, np.float64),
        col("d", 4, np.int64), col("b", 5, bool), col("m", 6, np.int64), col("t", 7, object),
    ]  # fmt: skip


rows_strategy = st.lists(
    st.tuples(
        st.integers(1, 2**62),
        st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
        st.one_of(st.none(), st.integers(0, 2**15 - 1)),
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
        st.one_of(st.none(), st.integers(-36_000, 2_900_000)),
        st.booleans(),
        st.one_of(st.none(), st.integers(-(10**16) + 1, 10**16 - 1)),
        st.one_of(st.none(), st.sampled_from(["", "重要价值", "一般挽留", "decline", "stability"])),
    ),
    max_size=40,
)


@hsettings(max_examples=150, deadline=None)
@given(rows_strategy, st.integers(1, 7))
def test_packed_rows_are_the_row_by_row_encoding_regrouped(data: list[tuple[Any, ...]], block: int) -> None:
    columns = _columns(data)
    packed = b"".join(B.binary_rows(columns, block=block))
    expected = _row_by_row(columns) if data else []
    got = _split(packed, columns)
    # Grouped by layout inside each block of rows, each row intact.
    assert sorted(got) == sorted(expected)
    for lo in range(0, len(data), block):
        assert sorted(got[lo : lo + block]) == sorted(expected[lo : lo + block])
    # The text column given as codes of its labels instead of as strings: the same rows.
    labels = ("stability", "", "一般挽留", "重要价值", "decline", "unused")
    text = columns[-1]
    coded = np.array([labels.index(v) if not n else 5 for v, n in zip(text.values, text.null, strict=True)])
    columns[-1] = B.Values(text.name, text.pg_type, coded, text.null, labels)
    assert sorted(_split(b"".join(B.binary_rows(columns, block=block)), columns)) == sorted(expected)


def test_an_unknown_type_is_refused_before_anything_is_sent() -> None:
    col = B.Values("x", "point", np.zeros(2, dtype=np.int64), np.zeros(2, dtype=bool))
    with pytest.raises(ValueError, match="point"):
        list(B.binary_rows([col]))


@pytest.mark.skipif(not POSTGRES, reason="binary COPY is PostgreSQL's protocol")
@pytest.mark.django_db
def test_the_values_arrive_in_postgresql_as_meant() -> None:
    data: list[tuple[Any, ...]] = [
        (1, 0, 0, 0.0, B.EPOCH_2000, False, 0, ""),
        (2, -5, 32_767, -1.5e-300, 0, True, -1, "重要价值"),
        (3, 2**31 - 1, None, 1e300, None, True, 10**16 - 1, "decline"),
        (4, None, 5, None, 20_790, False, None, None),
        (5, -(2**31), 1, 0.1, -1, True, -(10**16) + 1, "一般挽留"),
        (6, 7, 2, 2.5, 20_790, False, 12_345_678_90, "stability"),
    ]
    columns = _columns(data)
    with connection.cursor() as cursor:
        ddl = ", ".join(f"{name} {kind}" for name, kind in TYPES.items())
        cursor.execute(f"CREATE TEMPORARY TABLE copy_check ({ddl})")
        assert B.column_types(cursor, "copy_check") == TYPES
        B.copy_into(cursor, "copy_check", columns)
        cursor.execute("SELECT id, n, s, f, d, b, m, t FROM copy_check ORDER BY id")
        back = cursor.fetchall()
        cursor.execute("SELECT m::text FROM copy_check WHERE id IN (1, 2, 6) ORDER BY id")
        texts = [r[0] for r in cursor.fetchall()]
        cursor.execute("DROP TABLE copy_check")
    epoch = dt.date(1970, 1, 1)
    expected = [
        (i, n, s, f, None if d is None else epoch + dt.timedelta(days=d), b,
         None if m is None else Decimal(m).scaleb(-2), t)
        for i, n, s, f, d, b, m, t in data
    ]  # fmt: skip
    assert back == expected
    assert texts == ["0.00", "-0.01", "12345678.90"]  # stored as the decimal text would be
