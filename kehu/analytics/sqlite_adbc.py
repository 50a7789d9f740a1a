"""ADBC on an SQLite file, in a process of its own.

The ADBC SQLite driver carries its own copy of the SQLite library, and Django's connections use
Python's ``sqlite3`` with the system's. Two copies of SQLite in one process do not see each other's
locks: when the driver's connection closed, it believed it was the file's last connection, checkpointed,
and deleted the write-ahead log and its index from under Django's open connection — that corrupted the
issue-5 benchmark database ("malformed database schema … invalid rootpage"). SQLite's "How To Corrupt"
page names this case (several copies of SQLite linked into one application). Between processes the
locks work, whichever copy each one uses; so the driver runs here, in a child process started for the
one read or write — or, inside :class:`SharedReads`, one child for every read started there — and the
data crosses as an Arrow IPC file.

The parent side (:func:`query`, :func:`replace_rows`, :class:`SharedReads`) is called by the analytics
refresh; the child side (:func:`main`, ``python -m kehu.analytics.sqlite_adbc``) imports neither Django nor
the rest of Kehu. The child reads requests from its standard input, one JSON object a line, carries them
out in turn and answers each with a line on its standard output; it ends when its input does.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import IO, Any

BUSY_TIMEOUT_MS = 20_000  # a page's write in progress: wait for it rather than fail
CACHE_KIB = -262_144  # the bulk write's page cache: 256 MB (negative: in KiB), for this one short process


def _scratch_dir() -> str:
    # Shared memory where there is some (Linux): the IPC file never touches a disk.
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()


def _spawn(stderr: int | IO[str] = subprocess.PIPE) -> subprocess.Popen[str]:
    """The child started: it imports the driver and Polars (≈ 0.3 s), then waits for its requests."""
    return subprocess.Popen(
        [sys.executable, "-m", "kehu.analytics.sqlite_adbc"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def _failure(returncode: int | None, err: str) -> RuntimeError:
    return RuntimeError(f"the ADBC SQLite process failed ({returncode}): {err.strip()[-2000:]}")


def _finish(child: subprocess.Popen[str], request: dict[str, Any]) -> None:
    """``request``, the only one, handed to a child from :func:`_spawn`; returns once it has been carried
    out."""
    out, err = child.communicate(json.dumps(request) + "\n")
    if child.returncode != 0:
        raise _failure(child.returncode, err)
    answer = json.loads(out)
    if answer.get("error"):
        raise _failure(child.returncode, answer["error"])


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
    on the file in a child process: its result as a Polars frame. Inside :class:`SharedReads` (in this
    thread's context) that block's child runs it, as :func:`start_query` does."""
    return start_query(path, sql, params)()


def start_query(path: str, sql: str, params: list[Any]) -> Callable[[], Any]:
    """:func:`query` started: the returned function (which any thread may call) waits for the frame.
    Inside :class:`SharedReads` the request goes to that block's child at once; otherwise a child of its
    own is started when the function is called."""
    shared = _shared_reads.get()
    if shared is not None:
        return shared.submit(path, sql, params)
    return lambda: _query_alone(path, sql, params)


def _query_alone(path: str, sql: str, params: list[Any]) -> Any:
    with tempfile.TemporaryDirectory(prefix="kehu-adbc-", dir=_scratch_dir()) as scratch:
        out = str(Path(scratch) / "result.arrow")
        _run({"action": "query", "path": path, "sql": sql, "params": params, "out": out})
        return _read_result(out)


def _read_result(out: str) -> Any:
    import polars as pl

    # Should Polars map the file rather than read it, the mapping outlives the file's removal.
    return pl.read_ipc(out)


_shared_reads: contextvars.ContextVar[SharedReads | None] = contextvars.ContextVar(
    "kehu_adbc_shared_reads", default=None
)


class SharedReads:
    """One child process for many reads. Each child's start costs 0.2–0.3 s of CPU (Python, the driver,
    Polars), and the refresh starts several reads beside its sync; here they share a child, which runs
    them one after another in the order they were started (:func:`start_query` inside
    :meth:`sharing`).

    The child is started with the first read; when the block ends, its input is closed and it ends once
    its reads are done — or at once, killed, when the block ends by an exception. A read still awaited
    after the block raises."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[str] | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._stderr: IO[str] | None = None
        self._listener: threading.Thread | None = None
        self._sending = threading.Lock()
        self._pending: dict[int, Future[None]] = {}  # read number → done when the child has answered
        self._started = 0

    def __enter__(self) -> SharedReads:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close(killed=kind is not None)

    @contextlib.contextmanager
    def sharing(self) -> Iterator[None]:
        """Reads started in the block (:func:`start_query`, in this thread's context) go to this child."""
        token = _shared_reads.set(self)
        try:
            yield
        finally:
            _shared_reads.reset(token)

    def submit(self, path: str, sql: str, params: list[Any]) -> Callable[[], Any]:
        with self._sending:
            if self._child is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="kehu-adbc-", dir=_scratch_dir())
                self._stderr = open(Path(self._scratch.name) / "stderr.txt", "w+", encoding="utf-8")  # noqa: SIM115
                self._child = _spawn(self._stderr)
                # Answers are taken as they come, so that each read's waiter goes on as soon as its own is in.
                self._listener = threading.Thread(
                    target=self._listen, args=(self._child,), name="adbc-answers", daemon=True
                )
                self._listener.start()
            assert self._child.stdin is not None and self._scratch is not None
            number = self._started
            self._started += 1
            out = str(Path(self._scratch.name) / f"{number}.arrow")
            done: Future[None] = Future()
            self._pending[number] = done
            request = {
                "action": "query",
                "path": path,
                "sql": sql,
                "params": params,
                "out": out,
                "id": number,
            }
            self._child.stdin.write(json.dumps(request) + "\n")
            self._child.stdin.flush()

        def result() -> Any:
            done.result()
            if self._scratch is None:  # answered, but the block has ended and its results are gone
                raise RuntimeError("a shared ADBC read was awaited after its SharedReads block ended")
            try:
                return _read_result(out)
            finally:
                os.unlink(out)

        return result

    def _listen(self, child: subprocess.Popen[str]) -> None:
        assert child.stdout is not None
        for line in child.stdout:
            answer = json.loads(line)
            with self._sending:
                done = self._pending.pop(answer["id"])
            if answer.get("error"):
                done.set_exception(_failure(None, answer["error"]))
            else:
                done.set_result(None)
        # The child has ended (its input closed, or killed): reads not answered never will be.
        returncode = child.wait()
        with self._sending:
            unanswered, self._pending = list(self._pending.values()), {}
        for done in unanswered:
            done.set_exception(_failure(returncode, self._error_output()))

    def _error_output(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()

    def close(self, *, killed: bool = False) -> None:
        child, self._child = self._child, None
        if child is not None:
            assert child.stdin is not None and self._listener is not None
            if killed:
                child.kill()
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()  # the child ends once the reads sent are answered
            child.wait()
            self._listener.join()
            assert child.stdout is not None
            child.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


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
    # Imported before a request is read: the parent builds the request's data meanwhile (replace_rows).
    import adbc_driver_sqlite.dbapi  # noqa: F401
    import polars  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        try:
            {"query": _query, "replace": _replace}[request["action"]](request)
        except Exception:
            answer = {"id": request.get("id"), "error": traceback.format_exc()}
        else:
            answer = {"id": request.get("id"), "error": None}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
