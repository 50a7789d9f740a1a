"""ADBC on an SQLite file, in a process of its own.

The ADBC SQLite driver carries its own copy of the SQLite library, and Django's connections use
Python's ``sqlite3`` with the system's. Two copies of SQLite in one process do not see each other's
locks: when the driver's connection closed, it believed it was the file's last connection, checkpointed,
and deleted the write-ahead log and its index from under Django's open connection — that corrupted the
issue-5 benchmark database ("malformed database schema … invalid rootpage"). SQLite's "How To Corrupt"
page names this case (several copies of SQLite linked into one application). Between processes the
locks work, whichever copy each one uses; so the driver runs here, in a child process started for the
one read or write, and the data crosses as an Arrow IPC file.

The parent side (:func:`query`, :func:`replace_rows`) is called by the analytics refresh; the child side
(:func:`main`, ``python -m kehu.analytics.sqlite_adbc``) imports neither Django nor the rest of Kehu.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_MS = 20_000  # a page's write in progress: wait for it rather than fail
CACHE_KIB = -262_144  # the bulk write's page cache: 256 MB (negative: in KiB), for this one short process


def _scratch_dir() -> str:
    # Shared memory where there is some (Linux): the IPC file never touches a disk.
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()


def _spawn() -> subprocess.Popen[str]:
    """The child started: it imports the driver and Polars (≈ 0.3 s), then waits for its request."""
    return subprocess.Popen(
        [sys.executable, "-m", "kehu.analytics.sqlite_adbc"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(child: subprocess.Popen[str], request: dict[str, Any]) -> None:
    """``request`` handed to a child from :func:`_spawn`; returns once it has been carried out."""
    _out, err = child.communicate(json.dumps(request))
    if child.returncode != 0:
        raise RuntimeError(f"the ADBC SQLite process failed ({child.returncode}): {err.strip()[-2000:]}")


@contextlib.contextmanager
def _child() -> Iterator[subprocess.Popen[str]]:
    """A child from :func:`_spawn` for the block, killed should the block end before it has."""
    child = _spawn()
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def _run(request: dict[str, Any]) -> None:
    with _child() as child:
        _finish(child, request)


def query(path: str, sql: str, params: list[Any]) -> Any:
    """A SELECT with ``?`` placeholders (``params`` already as SQLite stores them) run by the ADBC driver
    on the file in a child process: its result as a Polars frame."""
    import polars as pl

    with tempfile.TemporaryDirectory(prefix="kehu-adbc-", dir=_scratch_dir()) as scratch:
        out = str(Path(scratch) / "result.arrow")
        _run({"action": "query", "path": path, "sql": sql, "params": params, "out": out})
        # Should Polars map the file rather than read it, the mapping outlives the file's removal.
        return pl.read_ipc(out)


def replace_rows(
    path: str, table: str, frame: Any | Callable[[], Any], *, before: list[str], after: list[str]
) -> None:
    """Every row of ``table`` replaced by ``frame`` (columns named as the table's) in ONE transaction of a
    child process's ADBC connection: ``DELETE``, the ``before`` statements, the bulk ingest, the ``after``
    statements, commit. ``frame`` may be a function that builds the frame: it is called once the child
    has been started, so that the child's imports and the building overlap (on the refresh's path)."""
    with _child() as child, tempfile.TemporaryDirectory(prefix="kehu-adbc-", dir=_scratch_dir()) as scratch:
        rows = str(Path(scratch) / "rows.arrow")
        (frame() if callable(frame) else frame).write_ipc(rows)
        _finish(
            child,
            {
                "action": "replace",
                "path": path,
                "table": table,
                "rows": rows,
                "before": before,
                "after": after,
            },
        )


# --- the child process ---------------------------------------------------------------------------


def _query(request: dict[str, Any]) -> None:
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(request["path"]) as con, con.cursor() as cur:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute(request["sql"], request["params"])
        frame = cur.fetch_polars()
    frame.write_ipc(request["out"])


def _replace(request: dict[str, Any]) -> None:
    import adbc_driver_sqlite.dbapi as adbc
    import polars as pl

    frame = pl.read_ipc(request["rows"])
    table = request["table"]
    # In autocommit mode, so that the pragmas may be set before the transaction begins: the durability
    # Django's connections use on this file (settings: WAL, synchronous=NORMAL — the commit does not wait
    # for the disk) and a page cache large enough for the whole write.
    with adbc.connect(request["path"], autocommit=True) as con, con.cursor() as cur:
        for pragma in (
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            "synchronous = NORMAL",
            f"cache_size = {CACHE_KIB}",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(f'DELETE FROM "{table}"')
            for statement in request["before"]:
                cur.execute(statement)
            cur.adbc_ingest(table, frame, mode="append")
            for statement in request["after"]:
                cur.execute(statement)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")


def main() -> None:
    # Imported before the request is read: the parent builds the request's data meanwhile (replace_rows).
    import adbc_driver_sqlite.dbapi  # noqa: F401
    import polars  # noqa: F401

    request = json.loads(sys.stdin.read())
    {"query": _query, "replace": _replace}[request["action"]](request)


if __name__ == "__main__":
    main()
