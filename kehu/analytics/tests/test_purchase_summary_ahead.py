"""The stored purchase summaries read ahead, on a connection of their own, while the sync works
(``purchase_summary.start_load``): used only while the stored rows are still the ones read."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.db import connection, transaction

from kehu.analytics import facts as F
from kehu.analytics import purchase_summary as S

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
END, WINDOW = 20_000, 180


def _records(ids: list[int], amount: int) -> np.ndarray:
    records = np.zeros(len(ids), S.SUMMARY)
    records["customer_id"] = ids
    records["purchases"] = 1
    records["amount"] = amount
    records["valid_until"] = S.NEVER  # nothing to sum again on END
    return records


def _stored(ids: list[int], amount: int) -> None:
    with transaction.atomic():
        S.store(S.Summaries(_records(ids, amount), END, WINDOW, "built", 0))


class _Loads:
    """``S.load`` counted: the read on the refresh's own connection, which the read ahead spares."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = S.load

        def counted() -> Any:
            self.calls += 1
            return real()

        monkeypatch.setattr(S, "load", counted)


def _updated(read_ahead: Any) -> S.Summaries | None:
    with transaction.atomic():
        return S.update(np.zeros(0, np.int64), end=END, window=WINDOW, read_ahead=read_ahead)


def _check(
    monkeypatch: pytest.MonkeyPatch, change: Any, expect_amount: int | None, expect_loads: int
) -> None:
    _stored([3, 5, 8], amount=100)
    loads = _Loads(monkeypatch)
    with ThreadPoolExecutor(max_workers=1) as pool:
        read_ahead = S.start_load(pool)
        assert read_ahead is not None
        read_ahead()  # read before the change, as when the sync comes after the read
        change()
        got = _updated(read_ahead)
    assert loads.calls == expect_loads
    if expect_amount is None:
        assert got is None and S.load() is None  # nothing kept: forgotten, summed from every day next
    else:
        assert got is not None and got.source == "stored"
        assert got.records["customer_id"].tolist() == [3, 5, 8]
        assert got.records["amount"].tolist() == [expect_amount] * 3


@pytest.mark.skipif(
    not ON_POSTGRES, reason="PostgreSQL: the read ahead needs rows committed (see the SQLite test)"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestOnPostgres:
    def test_the_rows_read_ahead_are_used_while_they_are_the_stored_ones(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _check(monkeypatch, change=lambda: None, expect_amount=100, expect_loads=0)

    def test_rows_stored_again_since_are_read_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # The same shape, other values: only the rows' xmin tells them apart.
        _check(monkeypatch, change=lambda: _stored([3, 5, 8], amount=200), expect_amount=200, expect_loads=1)

    def test_rows_deleted_since_are_not_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _check(monkeypatch, change=S.forget, expect_amount=None, expect_loads=1)

    def test_nothing_stored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        S.forget()
        with ThreadPoolExecutor(max_workers=1) as pool:
            read_ahead = S.start_load(pool)
            assert read_ahead is not None and read_ahead().summaries is None
            assert _updated(read_ahead) is None


@pytest.mark.django_db
def test_inside_a_transaction_nothing_is_read_ahead() -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert S.start_load(pool) is None


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite: the read ahead opens the database's file")
@pytest.mark.django_db
class TestOnAnSQLiteFile:
    """The test database is in memory, inside the test's transaction: it is copied to a file, and the read
    ahead told that file is the database's (as ``test_refresh`` does for the score write)."""

    @pytest.fixture(autouse=True)
    def _as_a_file(self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        _stored([3, 5, 8], amount=100)
        path = tmp_path / "copy.sqlite3"
        connection.ensure_connection()
        path.write_bytes(connection.connection.serialize())
        monkeypatch.setattr(F, "_sqlite_file", lambda: str(path))

    @staticmethod
    def _read_ahead(pool: ThreadPoolExecutor) -> Any:
        """start_load as outside a transaction (it asks only to know that another connection sees the rows:
        here, the file's), its read waited for."""
        inside = connection.in_atomic_block
        connection.in_atomic_block = False
        try:
            read_ahead = S.start_load(pool)
        finally:
            connection.in_atomic_block = inside
        assert read_ahead is not None and read_ahead().summaries is not None
        return read_ahead

    def test_the_rows_read_ahead_are_used_while_they_are_the_stored_ones(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        loads = _Loads(monkeypatch)
        with ThreadPoolExecutor(max_workers=1) as pool:
            got = _updated(self._read_ahead(pool))
        assert loads.calls == 0 and got is not None
        assert got.records["amount"].tolist() == [100] * 3

    def test_rows_deleted_since_are_not_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        loads = _Loads(monkeypatch)
        with ThreadPoolExecutor(max_workers=1) as pool:
            read_ahead = self._read_ahead(pool)
            S.forget()  # in the database, not in the file read ahead
            assert _updated(read_ahead) is None
        assert loads.calls == 1
