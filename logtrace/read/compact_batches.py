"""One compaction's batches: each batch's lines into a compacted file, its span rows, in place.

``logtrace.read.compact`` chooses the sources and cuts them into batches; this module runs
the batches, in order, with the crash-safe order of steps described there: the compacted file
written and synced in a private folder, then the span file and the compacted file renamed
into place, then the sources deleted. Two DuckDB databases overlap the work of two batches:
one converts the lines of a batch (every thread), the other writes the span rows of the batch
before it (one thread) and puts that batch in place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from logtrace.format import fields as f
from logtrace.read.durable import fsync, private_folder, size_of, sql_literal, sync_folders, unlink
from logtrace.read.files import ReadError, file_range, is_live, source_name, span_file_of
from logtrace.read.spanrows import PARQUET_OPTIONS, write_span_rows

if TYPE_CHECKING:
    from logtrace.read.compact import CompactResult, Retention

# A batch's files are made in a hidden private folder of its day folder named so.
TEMP_PREFIX = ".compacted-"
# Parquet row groups: small enough that a lookup by trace id reads little.
ROW_GROUP_SIZE = 32_768

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Work:
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


def compact_batches(
    work: Work, batches: list[list[Path]], retention: Retention | None, result: CompactResult
) -> None:
    """Compact ``batches`` one after the other, into ``result``.

    Two DuckDB databases: one converts the lines of a batch (both CPUs), the other, on one
    thread, writes the span rows of the batch before it and puts that batch in place, at the
    same time. A batch is still put in place only whole (span file, then compacted file) and
    in order; a batch's sources are deleted only once its files are in place. The spill
    folder goes after, whether they all went or one failed.
    """
    import duckdb

    private_folder(work.spill, work.dir_mode)
    try:
        _run_batches(work, batches, retention, result)
    except duckdb.OutOfMemoryException as error:
        # Not a file that does not decode: the batch's sources stay, none is named unreadable.
        first = (str(error).strip().splitlines() or [""])[0]
        raise ReadError(
            f"compaction ran out of memory within the memory limit {work.memory_limit} "
            f"({first}): give a bigger --memory-limit (default 1GB); the files not compacted "
            "are left as they were"
        ) from None
    finally:
        shutil.rmtree(work.spill, ignore_errors=True)


def _run_batches(
    work: Work, batches: list[list[Path]], retention: Retention | None, result: CompactResult
) -> None:
    """``compact_batches`` in its spill folder (removed by the caller)."""
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
            except duckdb.OutOfMemoryException:
                raise
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


def _account(staged: _Staged, result: CompactResult, done: int, work: Work) -> int:
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
        except duckdb.OutOfMemoryException:
            raise  # the limit, not the file
        except duckdb.Error:
            unreadable.append(path)
            continue
        kept.append(path)
    return kept


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
