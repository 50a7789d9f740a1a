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
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import IO, Any

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 20_000  # a page's write in progress: wait for it rather than fail
# The bulk write's page cache (negative: in KiB): 64 MB. Pages beyond it go to the log before the commit.
# With 256 MB the writers held a third as much as the refresh itself while a build replaced the purchase
# days (1.89 GB in all). The nightly score write took about as long with 64 MB: 2.74 and 3.01 s in two
# runs, against 2.56–2.84 s in four with 256 MB (its copy 0.48–0.51 s against 0.33 s in one).
CACHE_KIB = -65_536
# A scratch database's page cache: its file is in shared memory already, where pages that do not fit are
# written (no journal, no sync) — a large cache would only hold them twice.
SCRATCH_CACHE_KIB = -16_384


def _scratch_dir() -> str:
    # Shared memory where there is some (Linux): the IPC file never touches a disk.
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()


def _spawn(stderr: int | IO[str] = subprocess.PIPE, *, reads: bool) -> subprocess.Popen[str]:
    """The child started: it imports the driver, and for ``reads`` its DB-API layer and Polars (≈ 0.4 s
    of CPU; the writes' children need neither: 0.1 s), then waits for its requests."""
    return subprocess.Popen(
        [sys.executable, "-m", "kehu.analytics.sqlite_adbc", *(["--reads"] if reads else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def _failure(returncode: int | None, err: str) -> RuntimeError:
    """The error for a request the child answered with a failure (``returncode`` None: it is still running)
    or for a child that ended (its exit status)."""
    status = "" if returncode is None else f" (exit status {returncode})"
    return RuntimeError(f"the ADBC SQLite process failed{status}: {err.strip()[-2000:]}")


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
def _child(*, reads: bool) -> Iterator[subprocess.Popen[str]]:
    """A child from :func:`_spawn` for the block, killed should the block end before it has."""
    child = _spawn(reads=reads)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):
                    stream.close()


def _run(request: dict[str, Any]) -> None:
    with _child(reads=True) as child:
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
                self._child = _spawn(self._stderr, reads=True)
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


PARTS = 2  # children that put the rows into SQLite records side by side: one a core, on the two measured on


def _ask(child: subprocess.Popen[str], request: dict[str, Any]) -> None:
    assert child.stdin is not None
    child.stdin.write(json.dumps(request) + "\n")
    child.stdin.flush()


def _answer(child: subprocess.Popen[str]) -> dict[str, Any]:
    """The child's answer to its oldest request not yet answered; raises if it failed or the child died."""
    assert child.stdout is not None and child.stderr is not None
    line = child.stdout.readline()
    if not line:
        returncode = child.wait()
        raise _failure(returncode, child.stderr.read())
    answer: dict[str, Any] = json.loads(line)
    if answer.get("error"):
        raise _failure(None, answer["error"])
    return answer


@contextlib.contextmanager
def rows_replaced(
    path: str,
    table: str,
    frame: Any,
    *,
    before: list[str],
    after: list[str],
    parts: int = PARTS,
    handed_over: Callable[[], Any] | None = None,
) -> Iterator[None]:
    """Every row of ``table`` replaced by ``frame`` (columns named as the table's) in ONE transaction of a
    child process's ADBC connection — ``DELETE``, the ``before`` statements, the rows, the ``after``
    statements, commit — before the block runs.

    ``frame`` is a Polars frame, or :class:`FramedSlices`: rows made into frames a slice at a time as
    they are written, while the children start. ``handed_over`` is called once the rows are
    in the children's hands (the caller's work beside them starts then, not before).

    With ``parts`` > 1 the rows are split among that many children, which turn them into SQLite records
    side by side — binding a million rows of 32 values is what the write spends its time on, and one
    process does it on one core. Each builds a scratch database of the table's definition in shared
    memory (no journal, no syncs); the first then copies them all into the table, inside the transaction,
    with ``INSERT … SELECT *``: SQLite copies records between tables of the same definition as they are
    (its "transfer optimisation"), without decoding them. With one part the rows go straight into the table.

    The block runs once the rows are committed, while the first child checkpoints the write-ahead log
    (copies the new pages into the database file): the caller's last steps overlap it. Leaving the block
    waits for it. Should the block raise, the child is killed; what it had checkpointed stays, the rest
    is checkpointed by the next connection to do so."""
    with contextlib.ExitStack() as stack:
        children = [stack.enter_context(_child(reads=False)) for _ in range(max(parts, 1))]
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="kehu-adbc-", dir=_scratch_dir()))
        started = time.perf_counter()
        writer = children[0]
        replace = {"action": "replace", "path": path, "table": table, "before": before, "after": after}
        if len(children) == 1:
            replace["rows"] = _written(frame, scratch, "rows")
            del frame
            if handed_over is not None:
                handed_over()
        else:
            # Each child's share in Arrow files of its own; each child asked as soon as its files are written.
            n = frame.height
            sources = []
            for i, child in enumerate(children):
                lo, hi = n * i // len(children), n * (i + 1) // len(children)
                rows = _written(frame.slice(lo, hi - lo), scratch, f"rows-{i}")
                sources.append(str(Path(scratch) / f"part-{i}.sqlite3"))
                _ask(
                    child, {"action": "build", "path": path, "table": table, "rows": rows, "out": sources[-1]}
                )
            written = time.perf_counter() - started
            del frame  # in the Arrow files now: a frame's memory is free while the children build
            if handed_over is not None:
                handed_over()
            built_in = [_answer(child)["seconds"] for child in children]
            log.info("%s: %d rows framed and handed over in %.2f s, built by %d processes: %s",
                     table, n, written, len(children), built_in)  # fmt: skip
            replace["sources"] = sources
        _ask(writer, replace)
        log.info("%s replaced: %s", table, _answer(writer)["seconds"])  # the child goes on to checkpoint
        for child in children:
            assert child.stdin is not None
            child.stdin.close()  # each ends once it has done what it was asked
        for child in children[1:]:
            child.wait()
        yield
        if writer.wait() != 0:
            assert writer.stderr is not None
            log.warning(
                "the WAL checkpoint after replacing %s failed: %s", table, writer.stderr.read()[-2000:]
            )


class FramedSlices:
    """Rows ``start`` … ``stop``−1 of ``frame_of``'s rows, made into a Polars frame a slice at a time as
    :func:`rows_replaced` writes them to its Arrow files (``frame_of(lo, hi)``: rows lo … hi−1), so that
    the whole frame never sits beside those files: at a million score rows the hand-over was the nightly
    refresh's peak, 1.41–1.47 GB in the refresh, 1.85–1.92 GB with the writers and the files; 1.18 and
    1.59–1.64 GB a slice at a time. Slices and writes itself as a Polars frame does, for :func:`_written`."""

    def __init__(self, frame_of: Callable[[int, int], Any], stop: int, start: int = 0) -> None:
        self.frame_of = frame_of
        self.start = start
        self.stop = stop

    @property
    def height(self) -> int:
        return self.stop - self.start

    def slice(self, offset: int, length: int) -> FramedSlices:
        start = self.start + offset
        return FramedSlices(self.frame_of, min(start + length, self.stop), start)

    def write_ipc_stream(self, file: str, *, compat_level: Any) -> None:
        self.frame_of(self.start, self.stop).write_ipc_stream(file, compat_level=compat_level)


CHUNK_ROWS = 100_000  # rows per Arrow file handed to a writer (see _written)


def _written(frame: Any, scratch: str, name: str) -> list[str]:
    """``frame`` as Arrow IPC streams the writers' child reads without Polars (nanoarrow: texts and
    binaries as Arrow's classic large types, not Polars' views, which nanoarrow does not read), one file
    per :data:`CHUNK_ROWS` rows: Polars' stream writer holds a copy of what it writes, +290–405 MB for a
    million score rows written in two halves, +86 MB in chunks of 100,000 (and 0.37 s against 0.64 s)."""
    import polars as pl

    out = []
    for i, lo in enumerate(range(0, frame.height, CHUNK_ROWS)):
        out.append(str(Path(scratch) / f"{name}-{i}.arrows"))
        frame.slice(lo, CHUNK_ROWS).write_ipc_stream(out[-1], compat_level=pl.CompatLevel.oldest())
    return out


def replace_rows(
    path: str,
    table: str,
    frame: Any,
    *,
    before: list[str],
    after: list[str],
    parts: int = PARTS,
) -> None:
    """:func:`rows_replaced`, the checkpoint waited for at once."""
    with rows_replaced(path, table, frame, before=before, after=after, parts=parts):
        pass


# --- the child process ---------------------------------------------------------------------------


def _query(request: dict[str, Any]) -> None:
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(request["path"]) as con, con.cursor() as cur:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute(request["sql"], request["params"])
        frame = cur.fetch_polars()
    frame.write_ipc(request["out"])


class _Laps(dict[str, float]):
    """Seconds per step of a request, sent back with its answer (the parent logs them)."""

    def __init__(self) -> None:
        super().__init__()
        self._at = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self[name] = round(now - self._at, 3)
        self._at = now


@contextlib.contextmanager
def _connection(path: str) -> Iterator[Any]:
    """A connection of the driver's own API (in autocommit mode), without the DB-API layer, which imports
    Polars: the writers' children start in 0.1 s of CPU instead of 0.4 s, and the refresh starts two."""
    import adbc_driver_sqlite
    from adbc_driver_manager import _lib

    with (
        contextlib.closing(adbc_driver_sqlite.connect(path)) as database,
        contextlib.closing(_lib.AdbcConnection(database)) as con,
    ):
        yield con


def _execute(con: Any, sql: str) -> None:
    from adbc_driver_manager import _lib

    with contextlib.closing(_lib.AdbcStatement(con)) as statement:
        statement.set_sql_query(sql)
        statement.execute_update()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ingest(con: Any, table: str, request: dict[str, Any]) -> None:
    """The request's rows (Arrow IPC stream files, :func:`_written`) appended to ``table`` by the driver's
    bulk ingest. Each file is deleted once read: it is in shared memory (the parent's scratch directory,
    which it removes in the end whatever is left in it), and the refresh's peak is while the rows are built."""
    import nanoarrow
    from adbc_driver_manager import _lib

    for rows in request["rows"]:
        with contextlib.closing(_lib.AdbcStatement(con)) as statement:
            statement.set_options(
                **{"adbc.ingest.target_table": table, "adbc.ingest.mode": "adbc.ingest.mode.append"}
            )
            statement.bind_stream(nanoarrow.ArrayStream.from_path(rows))
            statement.execute_update()
        os.unlink(rows)


def _build(request: dict[str, Any]) -> None:
    """A scratch database holding the table, as the live file defines it (no index), filled with this
    child's share of the rows: to be copied into the live table (:func:`_replace`)."""
    import nanoarrow
    from adbc_driver_manager import _lib

    lap = request["seconds"] = _Laps()
    table = request["table"]
    with _connection(request["path"]) as con, contextlib.closing(_lib.AdbcStatement(con)) as statement:
        _execute(con, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        statement.set_sql_query(
            f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = {_literal(table)}"
        )
        definition = [row["sql"] for row in nanoarrow.ArrayStream(statement.execute_query()[0]).iter_py()]
    if len(definition) != 1:
        raise ValueError(f"no table {table} in {request['path']}")
    # Scratch, in shared memory and thrown away after the copy: no journal, no waiting for a disk.
    with _connection(request["out"]) as con:
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = {SCRATCH_CACHE_KIB}"):
            _execute(con, f"PRAGMA {pragma}")
        _execute(con, definition[0])
        _execute(con, "BEGIN")
        _ingest(con, table, request)
        _execute(con, "COMMIT")
        lap("build")


def _replace(request: dict[str, Any]) -> None:
    lap = request["seconds"] = _Laps()
    table = request["table"]
    sources = request.get("sources", [])
    # In autocommit mode, so that the pragmas may be set (and the scratch files attached) before the
    # transaction begins: the durability Django's connections use on this file (settings: WAL,
    # synchronous=NORMAL — the commit does not wait for the disk), a page cache large enough for the whole
    # write, and no checkpoint at the commit: it is run after the answer (below).
    with _connection(request["path"]) as con:
        for pragma in (
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            "synchronous = NORMAL",
            f"cache_size = {CACHE_KIB}",
            "wal_autocheckpoint = 0",
        ):
            _execute(con, f"PRAGMA {pragma}")
        for i, source in enumerate(sources):
            _execute(con, f"ATTACH DATABASE {_literal(source)} AS part{i}")
        _execute(con, "BEGIN IMMEDIATE")
        lap("begin")
        try:
            _execute(con, f'DELETE FROM "{table}"')
            for statement in request["before"]:
                _execute(con, statement)
            lap("delete")
            if "rows" in request:
                _ingest(con, table, request)
                lap("ingest")
            for i in range(len(sources)):
                # The records copied as they are (the scratch table's definition is the live one's).
                _execute(con, f'INSERT INTO main."{table}" SELECT * FROM part{i}."{table}"')
            lap("copy")
            for statement in request["after"]:
                _execute(con, statement)
            lap("after")
        except BaseException:
            _execute(con, "ROLLBACK")
            raise
        _execute(con, "COMMIT")
        lap("commit")
        for i in range(len(sources)):
            _execute(con, f"DETACH DATABASE part{i}")  # not before the commit: "database is locked"
        for source in sources:  # copied: their shared memory freed now, not when the parent's block ends
            os.unlink(source)
        _answered(request)
        # The new pages copied from the log into the database file while the parent goes on. PASSIVE: it
        # waits for no reader or writer; what it leaves, the next checkpoint copies. Failing, it is
        # reported on the standard error and this child ends (main()).
        _execute(con, "PRAGMA wal_checkpoint(PASSIVE)")


def _answered(request: dict[str, Any], error: str | None = None) -> None:
    print(
        json.dumps({"id": request.get("id"), "error": error, "seconds": request.get("seconds")}), flush=True
    )
    request["answered"] = True


def main() -> None:
    # Imported before a request is read: the parent builds the request's data meanwhile (rows_replaced).
    # The reads' children fetch Polars frames through the DB-API layer; the writers' need neither.
    import adbc_driver_sqlite
    import nanoarrow  # noqa: F401
    from adbc_driver_manager import _lib  # noqa: F401

    if "--reads" in sys.argv[1:]:
        import adbc_driver_sqlite.dbapi  # noqa: F401
        import polars  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        try:
            {"query": _query, "build": _build, "replace": _replace}[request["action"]](request)
        except Exception:
            if request.get("answered"):  # the checkpoint after a replace's answer: the parent warns
                raise
            _answered(request, traceback.format_exc())
        else:
            if not request.get("answered"):
                _answered(request)


if __name__ == "__main__":
    main()
