"""NumPy columns into a PostgreSQL table by one binary ``COPY``, each value in the column's own type.

PostgreSQL's binary COPY format is, per row, a 16-bit field count and then per field a 32-bit length
(−1 for NULL) followed by that many bytes of the type's binary form. A row's length therefore depends on
which of its fields are NULL and on the length of its text — but rows that agree on those have the same
layout. Each block of rows is sorted by that *layout key* (a few hundred layouts for the score table:
buyers or not, costs known or not, the RFM class, the lifecycle stage…), and every run of equal keys is
packed at once as a 2-D byte array, one column slice per field. The table's rows come out in that order,
which a heap table does not care about (the score table's primary key is built after the rows).

Numeric values travel as integer cents in a fixed form of five base-10,000 digits (weight 3, scale 2):
PostgreSQL's ``numeric_recv`` strips leading and trailing zero digits and checks the column's precision,
so any value below 10¹⁶ is stored exactly as its decimal text would be.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

EPOCH_2000 = 10_957  # 2000-01-01 as days since 1970-01-01: PostgreSQL's date zero
HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
NULL_LENGTH = b"\xff\xff\xff\xff"
_FIXED = {  # PostgreSQL type → (NumPy big-endian type, bytes)
    "bigint": (">i8", 8),
    "integer": (">i4", 4),
    "smallint": (">i2", 2),
    "double precision": (">f8", 8),
    "date": (">i4", 4),
    "boolean": ("u1", 1),
}
_NUMERIC_DIGITS = 5  # base-10,000 digits: 10¹² 10⁸ 10⁴ 10⁰ 10⁻⁴
_NUMERIC_WIDTH = 8 + 2 * _NUMERIC_DIGITS


@dataclass(frozen=True)
class Values:
    """One column to copy: ``values`` (integers for int/date/bool, float for float, integer cents for
    numeric; for text, Python ``str`` or — given ``labels`` — each row's index in ``labels``), where it
    is NULL, and its PostgreSQL type (``format_type``)."""

    name: str
    pg_type: str
    values: npt.NDArray[Any]
    null: npt.NDArray[np.bool_]
    labels: tuple[str, ...] | None = None

    def text(self) -> tuple[list[str], npt.NDArray[np.int64]]:
        """A text column's distinct values and each row's index among them (see :func:`text_codes`)."""
        if self.labels is not None:
            return list(self.labels), np.asarray(self.values, dtype=np.int64)
        return text_codes(self.values)


def text_codes(values: npt.NDArray[Any]) -> tuple[list[str], npt.NDArray[np.int64]]:
    """A text column of a handful of distinct values (classes, stages) as those values, in order of first
    appearance, and each row's index among them — by a dict, not a sort of a million strings."""
    rows = np.asarray(values, dtype=object).tolist()
    index = {str(v): i for i, v in enumerate(dict.fromkeys(rows))}
    return list(index), np.fromiter((index[str(v)] for v in rows), dtype=np.int64, count=len(rows))


def column_types(cursor: Any, table: str) -> dict[str, str]:
    """The table's columns and their types as ``format_type`` spells them (``numeric(16,2)``, …)."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    return {str(name): str(kind) for name, kind in cursor.fetchall()}


def _base(pg_type: str) -> str:
    return pg_type.split("(", 1)[0]


def _is_text(pg_type: str) -> bool:
    return _base(pg_type) in ("character varying", "text", "character")


def _fixed_bytes(col: Values, pick: npt.NDArray[np.intp]) -> npt.NDArray[np.uint8]:
    """The binary form of the picked non-NULL values of a fixed-width column, one row of bytes each."""
    base = _base(col.pg_type)
    v = col.values[pick]
    if base == "numeric":
        cents = v.astype(np.int64)
        sign = np.where(cents < 0, 0x4000, 0).astype(np.int64)
        whole, frac = np.divmod(np.abs(cents), 100)
        out = np.empty((pick.shape[0], 4 + _NUMERIC_DIGITS), dtype=">u2")
        out[:, 0] = _NUMERIC_DIGITS
        out[:, 1] = 3  # weight: the first digit is the 10,000³ place
        out[:, 2] = sign
        out[:, 3] = 2  # display scale: two decimals
        out[:, 4] = whole // 10**12 % 10_000
        out[:, 5] = whole // 10**8 % 10_000
        out[:, 6] = whole // 10**4 % 10_000
        out[:, 7] = whole % 10_000
        out[:, 8] = frac * 100
        return out.view(np.uint8).reshape(pick.shape[0], _NUMERIC_WIDTH)
    kind, width = _FIXED[base]
    if base == "date":
        v = v.astype(np.int64) - EPOCH_2000
    return np.ascontiguousarray(v.astype(kind)).view(np.uint8).reshape(pick.shape[0], width)


def _width(pg_type: str) -> int:
    base = _base(pg_type)
    if base == "numeric":
        return _NUMERIC_WIDTH
    if base not in _FIXED:
        raise ValueError(f"no binary COPY form for the type {pg_type}")
    return _FIXED[base][1]


def binary_rows(columns: Sequence[Values], block: int = 131_072) -> Iterator[bytes]:
    """The rows of ``columns`` in PostgreSQL's binary COPY format (without the header and trailer), a block
    of rows at a time, the rows of each block grouped by layout."""
    n = int(columns[0].values.shape[0]) if columns else 0
    count = np.array([len(columns)], dtype=">i2").view(np.uint8)
    # Per row, a layout key: a bit per nullable column, then the code of each text column's value.
    key = np.zeros(n, dtype=np.int64)
    shift = 0
    texts: dict[str, list[bytes]] = {}
    codes: dict[str, npt.NDArray[np.int64]] = {}
    for col in columns:
        if _is_text(col.pg_type):
            distinct, code = col.text()
            texts[col.name] = [v.encode() for v in distinct]
            codes[col.name] = np.where(col.null, len(texts[col.name]), code)
            key |= codes[col.name] << shift
            shift += max(len(texts[col.name]).bit_length(), 1)
        else:
            _width(col.pg_type)  # refuse an unknown type before anything is sent
            if col.null.any():
                key |= col.null.astype(np.int64) << shift
                shift += 1
    if shift > 62:
        raise ValueError("too many nullable or text columns for one layout key")
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        order = np.argsort(key[lo:hi], kind="stable") + lo
        keys = key[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], keys.shape[0]]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            yield _pack(columns, order[s:e], count, texts, codes)


def _pack(
    columns: Sequence[Values],
    pick: npt.NDArray[np.intp],
    count: npt.NDArray[np.uint8],
    texts: dict[str, list[bytes]],
    codes: dict[str, npt.NDArray[np.int64]],
) -> bytes:
    """Rows ``pick``, which share one layout, as one run of binary COPY rows."""
    first = int(pick[0])
    parts: list[tuple[int, Any]] = []  # (bytes of the field, what fills them)
    for col in columns:
        if col.name in texts:
            code = int(codes[col.name][first])
            if code == len(texts[col.name]):
                parts.append((4, NULL_LENGTH))
            else:
                value = texts[col.name][code]
                parts.append((4 + len(value), len(value).to_bytes(4, "big", signed=True) + value))
        elif col.null[first]:
            parts.append((4, NULL_LENGTH))
        else:
            width = _width(col.pg_type)
            parts.append((4, width.to_bytes(4, "big", signed=True)))
            parts.append((width, col))
    m = int(pick.shape[0])
    rows = np.empty((m, 2 + sum(w for w, _ in parts)), dtype=np.uint8)
    rows[:, :2] = count
    at = 2
    for width, fill in parts:
        if isinstance(fill, bytes):
            rows[:, at : at + width] = np.frombuffer(fill, dtype=np.uint8)
        else:
            rows[:, at : at + width] = _fixed_bytes(fill, pick)
        at += width
    return rows.tobytes()


def copy_into(cursor: Any, table: str, columns: Sequence[Values]) -> None:
    """``COPY table (columns…) FROM STDIN (FORMAT BINARY)`` with the rows of ``columns`` (a Django cursor
    on PostgreSQL; psycopg 3 underneath)."""
    names = ", ".join(c.name for c in columns)
    copy_rows(cursor.cursor, f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)", columns)


def copy_rows(raw: Any, statement: str, columns: Sequence[Values]) -> None:
    """The rows of ``columns`` sent to a binary ``COPY … FROM STDIN`` on a psycopg 3 cursor. A thread of
    psycopg's sends each block while the next is packed, so the server stores rows while NumPy packs: on
    two cores the two overlap."""
    from psycopg.copy import QueuedLibpqWriter

    with raw.copy(statement, writer=QueuedLibpqWriter(raw)) as copy:
        copy.write(HEADER)
        for chunk in binary_rows(columns):
            copy.write(chunk)
        copy.write(TRAILER)
