"""Compaction: closed JSONL files become Parquet (zstd), one file per batch of a day folder.

``compact(directory)`` takes the closed files (rotated ``.jsonl.zst``, and plain ``.jsonl``
files whose process is gone: nobody holds their ``flock``), converts them with DuckDB into
``<day>/compacted_<first>_<last>_<digest>.parquet`` sorted by trace id, and deletes them. The
Parquet file lists its sources in its key-value metadata, and the order of the steps makes a
crash at any point harmless:

1. write the Parquet file into a private (``0700``) hidden folder of the day folder, give it
   the file mode (``0600`` by default, whatever the umask: DuckDB's ``COPY`` follows the
   umask), ``fsync`` it;
2. rename it into place, ``fsync`` the folder: from now on, readers leave out the JSONL files
   it lists (``logtrace.read.reader``), so each line is counted once whether they exist or not;
3. delete the sources, ``fsync`` the folder.

A crash before 2 leaves a hidden temporary file (removed by the next run) and the sources; a
crash after 2 leaves sources that the next run deletes without compacting them again. Running
it twice changes nothing: the second run finds no closed file that is not already compacted.
One compaction runs at a time per directory (an ``flock`` on ``<dir>/.compact.lock``).

Hostile files are left where they are, never deleted: a source that is a symlink, not a regular
file or another user's is not read; one that does not decode (random bytes under a ``.zst``
name) and a ``.parquet`` that is not Parquet are named in ``CompactResult.unreadable``.

Trace-aware retention (``Retention``) keeps every trace that has a failed span (or one slower
than ``slow_ms``) in any file of the directory, of any process, already compacted or still
live, and a ``sample`` fraction of the other traces, chosen on the low 64 bits of the trace id
as OpenTelemetry's ratio sampler does; lines outside any trace are always kept.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from logtrace.format import fields as f
from logtrace.read.durable import (
    fsync,
    private_folder,
    size_of,
    sql_literal,
    sync_folders,
    unlink,
)
from logtrace.read.files import (
    ReadError,
    file_range,
    find_compacted,
    find_files,
    find_span_files,
    is_live,
    looks_whole,
    opened_at,
    refused_files,
    source_name,
    span_file_of,
)
from logtrace.read.spanrows import PARQUET_OPTIONS, write_span_rows

# Sources are compacted in batches of about this many bytes on disk: one Parquet file each.
BATCH_BYTES = 256 * 2**20
# DuckDB's memory limit while compacting; bigger work spills to a hidden folder of the
# directory. Compacting a gigabyte stays well under 2 GiB resident.
MEMORY_LIMIT = "1GB"
LOCK_NAME = ".compact.lock"
TEMP_PREFIX = ".compacted-"
SPILL_NAME = ".compact-spill"
# Modes of what compaction creates, whatever the umask (LOGTRACE_FILE_MODE / _DIR_MODE).
FILE_MODE = 0o600
DIR_MODE = 0o700
# Parquet row groups: small enough that a lookup by trace id reads little.
ROW_GROUP_SIZE = 32_768

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Retention:
    """Trace-aware retention: keep failed (and slow) traces whole, and a sample of the rest.

    Args:
        sample: the fraction (0 to 1) of the other traces to keep.
        slow_ms: also keep every trace with a span at least this long (None: errors only).
    """

    sample: float = 0.0
    slow_ms: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample <= 1.0:
            raise ValueError(f"sample must be between 0 and 1, not {self.sample}")
        if self.slow_ms is not None and self.slow_ms < 0:
            raise ValueError(f"slow_ms must not be negative, not {self.slow_ms}")


@dataclass
class CompactResult:
    """What a compaction did."""

    sources: list[Path] = field(default_factory=list)  # JSONL files compacted and deleted
    written: list[Path] = field(default_factory=list)  # Parquet files written
    finished: list[Path] = field(default_factory=list)  # sources of an interrupted run, deleted
    live: int = 0  # JSONL files left alone: a process still writes them
    unreadable: list[Path] = field(default_factory=list)  # left alone: they do not decode
    refused: list[Path] = field(default_factory=list)  # never read: symlinks, others' files
    bytes_in: int = 0
    bytes_out: int = 0
    lines: int = 0  # rows written
    kept_traces: int | None = None  # with retention: traces kept whole (failed or slow)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for ``--json``)."""
        return {
            "sources": [str(p) for p in self.sources],
            "written": [str(p) for p in self.written],
            "finished": [str(p) for p in self.finished],
            "live": self.live,
            "unreadable": [str(p) for p in self.unreadable],
            "refused": [str(p) for p in self.refused],
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "lines": self.lines,
            "kept_traces": self.kept_traces,
            "seconds": round(self.seconds, 3),
        }


def compact(
    directory: str | os.PathLike[str],
    *,
    retention: Retention | None = None,
    memory_limit: str = MEMORY_LIMIT,
    batch_bytes: int = BATCH_BYTES,
    progress: Progress | None = None,
    file_mode: int = FILE_MODE,
    dir_mode: int = DIR_MODE,
) -> CompactResult:
    """Compact the closed JSONL files under ``directory`` into Parquet; delete them after.

    Args:
        directory: the log directory (``<dir>/<day>/<files>``).
        retention: trace-aware retention, or None to keep every line.
        memory_limit: DuckDB's memory limit (of each of the two databases compaction opens:
            one converts lines, the other writes span rows).
        batch_bytes: about how many bytes of JSONL go into one Parquet file.
        progress: called with (bytes done, bytes in all) as batches finish.
        file_mode, dir_mode: the modes of the Parquet files and of the work folders.

    Raises:
        ReadError: the directory cannot be read, or another compaction is running in it.
    """
    started = time.perf_counter()
    root = Path(directory)
    if not root.is_dir():
        raise ReadError(f"cannot compact {root}: no such directory")
    result = CompactResult()
    with _locked(root, file_mode):
        _remove_leftovers(root)
        result.refused = refused_files(root)
        closed, result.live = _closed_files(find_files(root))
        compacted = find_compacted(root)
        result.unreadable = [p for p in [*closed, *compacted] if not looks_whole(p)]
        closed = [p for p in closed if p not in result.unreadable]
        listed = _listed_sources(
            [p for p in compacted if p not in result.unreadable], result.unreadable
        )
        todo: list[Path] = []
        for path in closed:
            if (path.parent, source_name(path)) in listed:
                if unlink(path):
                    result.finished.append(path)
            else:
                todo.append(path)
        sync_folders({p.parent for p in result.finished})
        batches = list(_batches(todo, batch_bytes))
        total = sum(size_of(p) for p in todo)
        if progress is not None:
            progress(0, total)
        if batches:
            work = _Work(root / SPILL_NAME, memory_limit, file_mode, dir_mode, progress, total)
            _compact_batches(work, batches, retention, result)
    result.seconds = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class _Work:
    """How ``compact`` runs its batches."""

    spill: Path  # DuckDB spills here (a private folder, removed after)
    memory_limit: str
    file_mode: int
    dir_mode: int
    progress: Progress | None
    total: int  # bytes in all batches


@dataclass(frozen=True)
class _Staged:
    """A batch whose compacted file is written (and synced) in its private folder."""

    batch: list[Path]
    private: Path
    work: Path  # the compacted file, in ``private``
    target: Path  # its name once in place
    sources: list[str]
    lines: int
    size: int  # bytes of the sources


def _compact_batches(
    work: _Work, batches: list[list[Path]], retention: Retention | None, result: CompactResult
) -> None:
    """Compact ``batches`` one after the other, into ``result``.

    Two DuckDB databases: one converts the lines of a batch (both CPUs), the other, on one
    thread, writes the span rows of the batch before it and puts that batch in place, at the
    same time. A batch is still put in place only whole (span file, then compacted file) and
    in order; a batch's sources are deleted only once its files are in place. The spill
    folder goes after, whether they all went or one failed.
    """
    private_folder(work.spill, work.dir_mode)
    try:
        _run_batches(work, batches, retention, result)
    finally:
        shutil.rmtree(work.spill, ignore_errors=True)


def _run_batches(
    work: _Work, batches: list[list[Path]], retention: Retention | None, result: CompactResult
) -> None:
    """``_compact_batches`` in its spill folder (removed by the caller)."""
    import duckdb

    spill_spans = work.spill / "spans"
    private_folder(spill_spans, work.dir_mode)
    lines_config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": work.memory_limit,
        "temp_directory": str(work.spill),
    }
    # One thread: DuckDB's parallel grouping of start and end lines costs a fifth more CPU,
    # and the lines of the next batch keep the other CPU busy meanwhile (docs/scaling.md).
    spans_config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": work.memory_limit,
        "temp_directory": str(spill_spans),
        "threads": 1,
    }
    done = 0
    with (
        duckdb.connect(config=lines_config) as con,
        duckdb.connect(config=spans_config) as spans_con,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrace-compact") as pool,
    ):
        con.execute("SET enable_progress_bar = false")
        spans_con.execute("SET enable_progress_bar = false")
        row = con.execute("SELECT current_setting('threads')").fetchone()
        all_threads = int(row[0]) if row else 1
        result.kept_traces = _prepare(con, work.spill.parent, retention)
        pending: Future[_Staged] | None = None
        for number, batch in enumerate(batches, 1):
            staged: _Staged | None
            try:
                staged = _stage_batch(con, batch, work.file_mode, work.dir_mode)
            except duckdb.Error:
                # A file that does not decode fails its batch: leave it, do the rest.
                # (Found after the fact: a pass over every file first costs a read.)
                batch = _decodable(con, batch, result.unreadable)
                staged = _stage_batch(con, batch, work.file_mode, work.dir_mode) if batch else None
            if staged is None:
                continue
            try:
                if pending is not None:
                    done = _account(pending.result(), result, done, work)
            except BaseException:
                shutil.rmtree(staged.private, ignore_errors=True)
                raise
            # The last batch's span rows have every CPU to themselves.
            threads = all_threads if number == len(batches) else 1
            pending = pool.submit(_finish_batch, spans_con, staged, work.file_mode, threads)
        if pending is not None:
            _account(pending.result(), result, done, work)


def _account(staged: _Staged, result: CompactResult, done: int, work: _Work) -> int:
    """Count a batch put in place; return the bytes done so far."""
    size = staged.size
    result.written.append(staged.target)
    result.sources.extend(staged.batch)
    result.lines += staged.lines
    result.bytes_in += size
    result.bytes_out += size_of(staged.target) + size_of(span_file_of(staged.target))
    done += size
    if work.progress is not None:
        work.progress(done, work.total)
    return done


# -- steps ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(root: Path, mode: int) -> Iterator[None]:
    try:
        fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    except OSError as exc:  # a symlink planted there (ELOOP), say
        raise ReadError(f"cannot lock {root / LOCK_NAME}: {exc.strerror}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            raise ReadError(f"cannot lock {root / LOCK_NAME}: not a regular file of this user")
        if stat.S_IMODE(status.st_mode) != mode:
            os.fchmod(fd, mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReadError(f"another compaction is running in {root}") from None
        yield
    finally:
        os.close(fd)


def _remove_leftovers(root: Path) -> None:
    """Work folders and files of a compaction that died before renaming, and span files whose
    compacted file was never renamed into place: never counted.

    Only this user's, and never through a symlink (``unlink`` and ``rmtree`` do not follow).
    """
    folders = [root, *(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())]
    for folder in folders:
        for path in folder.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                if path.lstat().st_uid != os.geteuid():
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    compacted = set(find_compacted(root))
    for path in find_span_files(root):
        if path.with_name(f.COMPACTED_PREFIX + path.name[len(f.SPANS_PREFIX) :]) not in compacted:
            with contextlib.suppress(OSError):
                path.unlink()


def _closed_files(logs: list[Path]) -> tuple[list[Path], int]:
    """The JSONL files no process writes any more, named like logtrace's; and how many are live."""
    closed, live = [], 0
    for path in logs:
        if not _named_like_ours(path):
            continue
        state = is_live(path)
        if state is None:
            continue
        if state:
            live += 1
        else:
            closed.append(path)
    return closed, live


def _named_like_ours(path: Path) -> bool:
    return opened_at(path) is not None


def _listed_sources(found: list[Path], unreadable: list[Path]) -> set[tuple[Path, str]]:
    """(folder, source name) of every JSONL file that a compacted file already holds; a file
    whose footer cannot be read goes to ``unreadable``."""
    if not found:
        return set()
    import duckdb

    from logtrace.read.views import listed_sources

    with duckdb.connect() as con:
        try:
            return listed_sources(con, found)
        except duckdb.Error:
            pass
        sources: set[tuple[Path, str]] = set()
        for path in found:
            try:
                sources |= listed_sources(con, [path])
            except duckdb.Error:
                unreadable.append(path)
        return sources


def _decodable(con: Any, batch: list[Path], unreadable: list[Path]) -> list[Path]:
    """The files of ``batch`` that DuckDB reads to the end; the others go to ``unreadable``."""
    import duckdb

    kept = []
    for path in batch:
        try:
            con.execute(
                "SELECT count(*) FROM read_json_objects($f, format = 'newline_delimited', "
                "ignore_errors = true, maximum_object_size = 67108864)",
                {"f": str(path)},
            ).fetchall()
        except duckdb.Error:
            unreadable.append(path)
            continue
        kept.append(path)
    return kept


def _batches(paths: list[Path], limit: int) -> Iterator[list[Path]]:
    """The sources grouped by folder (a day), in order of opening (then name), cut at about
    ``limit`` bytes: each batch holds a stretch of time of every process, so a question about
    a time window opens only the batches of that window (the times in their names)."""
    by_folder: dict[Path, list[Path]] = {}
    for path in sorted(paths, key=lambda p: (opened_at(p) or datetime.min, p.name)):
        by_folder.setdefault(path.parent, []).append(path)
    for folder in sorted(by_folder):
        batch: list[Path] = []
        size = 0
        for path in by_folder[folder]:
            if batch and size + size_of(path) > limit:
                yield batch
                batch, size = [], 0
            batch.append(path)
            size += size_of(path)
        if batch:
            yield batch


def _prepare(con: Any, root: Path, retention: Retention | None) -> int | None:
    """Set the retention variables and fill ``keep_traces``; return how many traces it holds."""
    from logtrace.read.reader import open as open_logs

    con.execute("CREATE OR REPLACE TEMP TABLE keep_traces (trace_id VARCHAR PRIMARY KEY)")
    if retention is None or retention.sample >= 1.0:
        con.execute("SET VARIABLE compact_threshold = NULL")
        return None
    threshold = int(retention.sample * 2**64)
    con.execute("SET VARIABLE compact_threshold = CAST(? AS UBIGINT)", [threshold])
    # Decided over every file of the directory: all processes, live and compacted too.
    with open_logs(root, pruning=False) as reader:
        rows = reader.query("compact_keep", slow_ms=retention.slow_ms)
    keep = [row["trace_id"] for row in rows]
    if keep:
        con.execute("INSERT INTO keep_traces SELECT unnest(?)", [keep])
    return len(keep)


def _stage_batch(con: Any, batch: list[Path], file_mode: int, dir_mode: int) -> _Staged:
    """Write the compacted file of ``batch`` in a private folder of its day folder, synced."""
    folder = batch[0].parent
    sources = sorted({source_name(p) for p in batch})
    digest = hashlib.sha1("\n".join(sources).encode()).hexdigest()[:12]
    # DuckDB creates the file with the umask's mode: inside a folder only we can enter, so it
    # is never readable by others, not even before the chmod below.
    private = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=folder))
    try:
        return _write_lines(con, batch, private, digest, sources, file_mode, dir_mode)
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise


def _write_lines(
    con: Any,
    batch: list[Path],
    private: Path,
    digest: str,
    sources: list[str],
    file_mode: int,
    dir_mode: int,
) -> _Staged:
    """``_stage_batch`` in its private folder ``private`` (removed by the caller on failure)."""
    from logtrace.read.reader import query_text

    os.chmod(private, dir_mode & 0o700)
    work = private / f"{digest}{f.COMPACTED_SUFFIX}"
    con.execute("SET VARIABLE compact_files = ?", [[str(p) for p in batch]])
    select = query_text("compact_lines").rstrip().rstrip(";")
    metadata = {f.COMPACTED_SOURCES: orjson.dumps(sources).decode(), f.COMPACTED_FORMAT: "1"}
    options = ", ".join(f"{key}: {sql_literal(value)}" for key, value in metadata.items())
    row = con.execute(
        f"COPY ({select}) TO {sql_literal(str(work))} ({PARQUET_OPTIONS}, "
        f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}, KV_METADATA {{{options}}})"
    ).fetchone()
    lines = int(row[0]) if row else 0
    first, last = _time_span(con, work, batch)
    name = (
        f"{f.COMPACTED_PREFIX}{first.strftime(f.FILE_TIME_FORMAT)}_"
        f"{last.strftime(f.FILE_TIME_FORMAT)}_{digest}{f.COMPACTED_SUFFIX}"
    )
    os.chmod(work, file_mode)
    fsync(work)
    size = sum(size_of(p) for p in batch)
    return _Staged(batch, private, work, batch[0].parent / name, sources, lines, size)


def _finish_batch(con: Any, staged: _Staged, file_mode: int, threads: int) -> _Staged:
    """Write the span rows of a staged batch (on ``threads`` threads), put both files in place
    durably, delete the sources. On failure the private folder goes; the sources stay."""
    try:
        con.execute(f"SET threads = {threads}")
        return _put_in_place(con, staged, file_mode)
    except BaseException:
        shutil.rmtree(staged.private, ignore_errors=True)
        raise


def _put_in_place(con: Any, staged: _Staged, file_mode: int) -> _Staged:
    folder = staged.target.parent
    # The span rows first: the compacted file, renamed last, is what makes both count.
    spans_work = staged.private / f"{staged.work.stem}.spans{f.COMPACTED_SUFFIX}"
    write_span_rows(con, staged.work, spans_work, staged.sources)
    os.chmod(spans_work, file_mode)
    os.replace(spans_work, span_file_of(staged.target))
    os.replace(staged.work, staged.target)
    staged.private.rmdir()
    sync_folders({folder})
    for path in staged.batch:
        unlink(path)
        # A plain file caught mid-rotation next to its .zst: the same lines, listed too.
        plain = path.with_name(source_name(path))
        if plain != path and is_live(plain) is False:
            unlink(plain)
    sync_folders({folder})
    return staged


def _time_span(con: Any, work: Path, batch: list[Path]) -> tuple[datetime, datetime]:
    """The times the lines of a compacted file have: its rows' (else its sources') range.

    The rows' times, not the sources' modification times, which a copy may have changed.
    """
    row = con.execute("SELECT min(ts), max(ts) FROM read_parquet($f)", {"f": str(work)}).fetchone()
    times: list[datetime] = [t for t in (row or ()) if t is not None]
    if not times:
        for path in batch:
            times.extend(t for t in file_range(path) if t is not None)
    if not times:
        now = datetime(1970, 1, 1)
        return now, now
    # Whole seconds: a reader takes the last one as running to the end of that second.
    return min(times).replace(microsecond=0), max(times).replace(microsecond=0)


# -- small helpers ---------------------------------------------------------------------------
