"""The ADBC SQLite driver runs in a child process (kehu.analytics.sqlite_adbc): its own copy of SQLite in
this process deleted the write-ahead log from under Django's open connection and corrupted a database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from kehu.analytics import sqlite_adbc


@pytest.fixture
def open_file(tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    path = tmp_path / "kehu.sqlite3"
    own = sqlite3.connect(path, isolation_level=None)  # as Django's connection: WAL, kept open
    own.execute("PRAGMA journal_mode=WAL")
    own.execute("CREATE TABLE t (x INTEGER NOT NULL, label TEXT)")
    own.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"行{i}") for i in range(1, 6)])
    assert own.execute("SELECT COUNT(*) FROM t").fetchone() == (5,)
    return path, own


def _counting_spawns(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    children: list[object] = []
    spawn = sqlite_adbc._spawn
    monkeypatch.setattr(
        sqlite_adbc, "_spawn", lambda *a, **k: children.append(spawn(*a, **k)) or children[-1]
    )
    return children


def test_a_read_leaves_the_open_connections_log_in_place(open_file: tuple[Path, sqlite3.Connection]) -> None:
    path, own = open_file
    frame = sqlite_adbc.query(str(path), "SELECT x AS x, label AS label FROM t WHERE x > ? ORDER BY x", [3])
    assert frame.to_dicts() == [{"x": 4, "label": "行4"}, {"x": 5, "label": "行5"}]
    # In this process the driver's closing connection took itself for the last one and deleted both.
    assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
    own.executemany("INSERT INTO t VALUES (?, ?)", [(i, None) for i in range(6, 2000)])
    own.execute("CREATE INDEX t_x ON t (x)")
    own.close()
    again = sqlite3.connect(path)
    assert again.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert again.execute("SELECT COUNT(*) FROM t").fetchone() == (1999,)


def test_rows_are_replaced_in_one_transaction_and_the_open_connection_sees_them(
    open_file: tuple[Path, sqlite3.Connection],
) -> None:
    path, own = open_file
    own.execute("CREATE INDEX t_label ON t (label)")
    sqlite_adbc.replace_rows(
        str(path),
        "t",
        pl.DataFrame({"x": [7, 8], "label": ["甲", None]}),
        before=["DROP INDEX t_label"],
        after=["CREATE INDEX t_label ON t (label)", "ANALYZE t"],
    )
    assert own.execute("SELECT x, label FROM t ORDER BY x").fetchall() == [(7, "甲"), (8, None)]
    own.execute("INSERT INTO t VALUES (9, '乙')")
    assert own.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall() == [("t_label",)]
    assert own.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_failed_statement_writes_nothing_and_says_why(open_file: tuple[Path, sqlite3.Connection]) -> None:
    path, own = open_file
    with pytest.raises(RuntimeError, match="no_such_column"):
        sqlite_adbc.replace_rows(
            str(path),
            "t",
            pl.DataFrame({"x": [1]}),
            before=[],
            after=["CREATE INDEX bad ON t (no_such_column)"],
        )
    assert own.execute("SELECT COUNT(*) FROM t").fetchone() == (5,)  # the DELETE was rolled back
    with pytest.raises(RuntimeError, match="no_such_table"):
        sqlite_adbc.query(str(path), "SELECT 1 AS one FROM no_such_table", [])


def test_rows_made_into_frames_after_the_children_started_are_written_and_a_failure_ends_them(
    open_file: tuple[Path, sqlite3.Connection], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, own = open_file
    children = _counting_spawns(monkeypatch)

    whole = pl.DataFrame({"x": [3, 4, 5, 6, 7], "label": list("丙丁戊己庚")})
    made: list[tuple[int, int]] = []

    def frame_of(lo: int, hi: int) -> pl.DataFrame:
        assert len(children) % sqlite_adbc.PARTS == 0  # the children were started first
        made.append((lo, hi))
        return whole.slice(lo, hi - lo)

    def broken(lo: int, hi: int) -> pl.DataFrame:
        raise ValueError("the rows could not be made into a frame")

    monkeypatch.setattr(sqlite_adbc, "CHUNK_ROWS", 2)
    sqlite_adbc.replace_rows(
        str(path),
        "t",
        sqlite_adbc.FramedSlices(frame_of, whole.height),
        before=[],
        after=[],
    )
    assert own.execute("SELECT x, label FROM t ORDER BY rowid").fetchall() == list(
        zip([3, 4, 5, 6, 7], "丙丁戊己庚", strict=True)
    )
    assert sorted(made) == [(0, 2), (2, 4), (4, 5)]  # two writers' shares (0–1, 2–4), in slices of two rows

    with pytest.raises(ValueError, match="could not be made"):
        sqlite_adbc.replace_rows(str(path), "t", sqlite_adbc.FramedSlices(broken, 1), before=[], after=[])
    assert len(children) == 2 * sqlite_adbc.PARTS
    assert all(child.returncode is not None for child in children)  # type: ignore[attr-defined]
    assert own.execute("SELECT COUNT(*) FROM t").fetchone() == (5,)


@pytest.fixture
def scores_file(tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    """A table like the score table: the rowid as key, CHECK constraints, a partial index."""
    path = tmp_path / "scores.sqlite3"
    own = sqlite3.connect(path, isolation_level=None)
    own.execute("PRAGMA journal_mode=WAL")
    own.execute(
        'CREATE TABLE "s" ("as_of" date NOT NULL, "n" integer unsigned NOT NULL CHECK ("n" >= 0),'
        ' "v" real NULL, "risk" bool NOT NULL, "kind" varchar(20) NOT NULL, "c" integer NOT NULL PRIMARY KEY)'
    )
    own.execute('CREATE INDEX "s_risk_v" ON "s" ("v") WHERE "risk"')
    own.executemany("INSERT INTO s VALUES ('2026-01-01', 1, 0.5, 1, '旧', ?)", [(c,) for c in range(1, 50)])
    return path, own


def _scores(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "as_of": ["2026-12-04"] * n,
            "n": list(range(n)),
            "v": [None if i % 7 == 0 else i / 4 for i in range(n)],
            "risk": [i % 3 == 0 for i in range(n)],
            "kind": ["重要价值" if i % 2 else "" for i in range(n)],
            "c": [10 * i + 5 for i in range(n)],
        },
        schema={
            "as_of": pl.String,
            "n": pl.Int64,
            "v": pl.Float64,
            "risk": pl.Boolean,
            "kind": pl.String,
            "c": pl.Int64,
        },
    )


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_rows_split_among_children_arrive_whole_in_their_order(
    scores_file: tuple[Path, sqlite3.Connection], monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    path, own = scores_file
    children = _counting_spawns(monkeypatch)
    scratch = path.parent / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(sqlite_adbc, "_scratch_dir", lambda: str(scratch))
    monkeypatch.setattr(sqlite_adbc, "CHUNK_ROWS", 128)  # each child's rows in several files
    frame = _scores(1001)
    with sqlite_adbc.rows_replaced(
        str(path),
        "s",
        frame,
        before=['DROP INDEX "s_risk_v"'],
        after=['CREATE INDEX "s_risk_v" ON "s" ("v") WHERE "risk"', 'ANALYZE "s"'],
        parts=parts,
    ):
        # Each Arrow file deleted by the child that read it, the scratch databases once copied: the
        # shared memory is free before the caller goes on, not when its block ends.
        (left,) = list(scratch.iterdir())  # the parent's scratch directory, removed at the block's end
        assert list(left.iterdir()) == []
    assert len(children) == parts
    rows = own.execute("SELECT as_of, n, v, risk, kind, c FROM s ORDER BY rowid").fetchall()
    assert rows == [(r["as_of"], r["n"], r["v"], int(r["risk"]), r["kind"], r["c"]) for r in frame.to_dicts()]
    assert own.execute("SELECT COUNT(*) FROM s INDEXED BY s_risk_v WHERE risk AND v > 100").fetchone() == (
        sum(1 for i in range(1001) if i % 3 == 0 and i % 7 and i / 4 > 100),
    )
    assert own.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert list(scratch.iterdir()) == []  # the Arrow files and scratch databases gone


def test_fewer_rows_than_children_and_no_rows_at_all(scores_file: tuple[Path, sqlite3.Connection]) -> None:
    path, own = scores_file
    sqlite_adbc.replace_rows(str(path), "s", _scores(2), before=[], after=[], parts=3)
    assert own.execute("SELECT c FROM s ORDER BY c").fetchall() == [(5,), (15,)]
    sqlite_adbc.replace_rows(str(path), "s", _scores(0), before=[], after=[], parts=2)
    assert own.execute("SELECT COUNT(*) FROM s").fetchone() == (0,)


def test_a_row_one_child_cannot_write_leaves_the_table_as_it_was(
    scores_file: tuple[Path, sqlite3.Connection],
) -> None:
    path, own = scores_file
    frame = _scores(10).with_columns(pl.Series("n", [0, 1, 2, 3, 4, 5, 6, 7, 8, -1]))  # the last: CHECK fails
    with pytest.raises(RuntimeError, match="CHECK constraint failed"):
        sqlite_adbc.replace_rows(str(path), "s", frame, before=[], after=[], parts=2)
    duplicate = _scores(10).with_columns(
        pl.Series("c", [1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    )  # keys in both shares
    with pytest.raises(RuntimeError, match="UNIQUE constraint failed"):
        sqlite_adbc.replace_rows(str(path), "s", duplicate, before=[], after=[], parts=2)
    assert own.execute("SELECT COUNT(*), MIN(kind), MAX(kind) FROM s").fetchone() == (49, "旧", "旧")
    assert own.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_block_runs_once_the_rows_are_committed_and_its_end_waits_for_the_checkpoint(
    scores_file: tuple[Path, sqlite3.Connection],
) -> None:
    path, own = scores_file
    own.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def checkpointed() -> int:
        # The database file alone, the log ignored: what has been copied into it.
        alone = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return int(alone.execute("SELECT COUNT(*) FROM s").fetchone()[0])
        finally:
            alone.close()

    assert checkpointed() == 49
    with sqlite_adbc.rows_replaced(str(path), "s", _scores(3000), before=[], after=[]):
        assert own.execute("SELECT COUNT(*) FROM s").fetchone() == (3000,)
    assert checkpointed() == 3000


def test_a_block_that_fails_kills_the_checkpointing_child_and_keeps_the_rows(
    scores_file: tuple[Path, sqlite3.Connection], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, own = scores_file
    children = _counting_spawns(monkeypatch)
    with pytest.raises(KeyError), sqlite_adbc.rows_replaced(str(path), "s", _scores(5), before=[], after=[]):
        raise KeyError("the caller failed")
    assert all(child.returncode is not None for child in children)  # type: ignore[attr-defined]
    assert own.execute("SELECT COUNT(*) FROM s").fetchone() == (5,)  # committed before the block
    assert own.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_reads_started_inside_shared_reads_are_answered_by_one_child(
    open_file: tuple[Path, sqlite3.Connection], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, own = open_file
    children = _counting_spawns(monkeypatch)
    with sqlite_adbc.SharedReads() as shared:
        with shared.sharing():
            small = sqlite_adbc.start_query(str(path), "SELECT x AS x FROM t WHERE x < ? ORDER BY x", [3])
            broken = sqlite_adbc.start_query(str(path), "SELECT 1 AS one FROM no_such_table", [])
            labels = sqlite_adbc.start_query(str(path), "SELECT label AS label FROM t WHERE x = ?", [5])
        assert len(children) == 1  # sent at once, to the one child
        outside = sqlite_adbc.start_query(str(path), "SELECT COUNT(*) AS n FROM t", [])
        assert len(children) == 1  # outside sharing(): a child of its own, started when it is awaited
        assert outside().to_dicts() == [{"n": 5}]
        assert len(children) == 2
        # Awaited in any order; a failed read says why and the others are still answered.
        assert labels().to_dicts() == [{"label": "行5"}]
        with pytest.raises(RuntimeError, match="no_such_table"):
            broken()
        assert small().get_column("x").to_list() == [1, 2]
    shared_child = children[0]
    assert shared_child.returncode == 0  # type: ignore[attr-defined]
    assert Path(f"{path}-wal").exists()  # the open connection's log left in place, as for a lone read
    assert own.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_shared_reads_left_by_an_exception_end_the_child_and_their_waiters_hear_of_it(
    open_file: tuple[Path, sqlite3.Connection], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _own = open_file
    children = _counting_spawns(monkeypatch)
    # The exception comes long before the child has even imported the driver (0.2–0.3 s): it is killed
    # with its read unanswered.
    with pytest.raises(KeyError), sqlite_adbc.SharedReads() as shared:
        with shared.sharing():
            waiting = sqlite_adbc.start_query(str(path), "SELECT COUNT(*) AS n FROM t", [])
        raise KeyError("the caller failed")
    assert children[0].returncode not in (None, 0)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="ADBC SQLite process failed"):
        waiting()


def test_shared_reads_without_reads_start_no_child(monkeypatch: pytest.MonkeyPatch) -> None:
    children = _counting_spawns(monkeypatch)
    with sqlite_adbc.SharedReads() as shared, shared.sharing():
        pass
    assert children == []
