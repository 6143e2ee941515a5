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
One compaction runs at a time per directory (an ``flock`` on ``<dir>/.compact.lock``), and per
folder it compacts in (an ``flock`` on the folder itself): ``compact(root)`` and
``compact(root / day)`` never work in the same day folder at once, nor remove each other's
work folders.

Hostile files are left where they are, never deleted: a source that is a symlink, not a regular
file or another user's is not read; one that does not decode (random bytes under a ``.zst``
name) and a ``.parquet`` that is not Parquet are named in ``CompactResult.unreadable``,
another program's Parquet file under a compacted file's name (and a file not logtrace's under
the name of a span file without its compacted file, which compaction would otherwise remove as
its own leftover) in ``CompactResult.foreign``; a
``.jsonl.zst`` cut short (a copy that died, a full disk: it decodes up to the cut) in
``CompactResult.truncated``: compacting it would delete the lines past the cut, and list its
name as compacted, so that the whole file put back later would be deleted unread.

Trace-aware retention (``Retention``) keeps every trace that has a failed span (or one slower
than ``slow_ms``) in any file of the directory, of any process, already compacted or still
live, and a ``sample`` fraction of the other traces, chosen on the low 64 bits of the trace id
as OpenTelemetry's ratio sampler does; lines outside any trace are always kept.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from logtrace.format import fields as f
from logtrace.format.folders import own_folder
from logtrace.read.compact_batches import (
    TEMP_PREFIX,
    Progress,
    Work,
    compact_batches,
)
from logtrace.read.durable import (
    planted,
    size_of,
    sync_folders,
    unlink,
)
from logtrace.read.files import (
    ReadError,
    find_compacted,
    find_files,
    find_span_files,
    is_live,
    opened_at,
    refused_files,
    source_name,
)
from logtrace.read.integrity import cut_short, looks_whole, zstd_complete

# Sources are compacted in batches of about this many bytes on disk: one Parquet file each.
BATCH_BYTES = 256 * 2**20
# DuckDB's memory limit while compacting; bigger work spills to a hidden folder of the
# directory. Compacting a gigabyte stays well under 2 GiB resident.
MEMORY_LIMIT = "1GB"
LOCK_NAME = ".compact.lock"
SPILL_NAME = ".compact-spill"
# Modes of what compaction creates, whatever the umask (LOGTRACE_FILE_MODE / _DIR_MODE).
FILE_MODE = 0o600
DIR_MODE = 0o700


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
    foreign: list[Path] = field(default_factory=list)  # left alone: not logtrace's Parquet
    truncated: list[Path] = field(default_factory=list)  # left alone: .jsonl.zst cut short
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
            "foreign": [str(p) for p in self.foreign],
            "truncated": [str(p) for p in self.truncated],
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
    with _locked(root, file_mode), contextlib.ExitStack() as held:
        _check_spill(root / SPILL_NAME)
        folders = _lock_folders(root, held)
        result.foreign = _remove_leftovers(root, folders)
        result.refused = refused_files(root)
        # Files of a folder made since the folders were locked wait for the next run.
        closed, result.live = _closed_files([p for p in find_files(root) if p.parent in folders])
        compacted = find_compacted(root)
        result.unreadable = [p for p in [*closed, *compacted] if not looks_whole(p)]
        closed = [p for p in closed if p not in result.unreadable]
        for path in closed:
            if path.name.endswith(f.ROTATED_SUFFIX) and not zstd_complete(path):
                (result.truncated if cut_short(path) else result.unreadable).append(path)
        closed = [p for p in closed if p not in result.truncated and p not in result.unreadable]
        listed = _listed_sources(
            [p for p in compacted if p not in result.unreadable], result.unreadable, result.foreign
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
            work = Work(root / SPILL_NAME, memory_limit, file_mode, dir_mode, progress, total)
            compact_batches(work, batches, retention, result)
    result.seconds = time.perf_counter() - started
    return result


# -- steps ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(root: Path, mode: int) -> Iterator[None]:
    lock = root / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR):  # a symlink planted there, a folder
            raise planted(lock) from None
        raise ReadError(f"cannot lock {lock}: {exc.strerror}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            raise planted(lock)
        if stat.S_IMODE(status.st_mode) != mode:
            os.fchmod(fd, mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReadError(f"another compaction is running in {root}") from None
        yield
    finally:
        os.close(fd)


def _check_spill(spill: Path) -> None:
    """Refuse, before anything changes, a spill folder that is not one of ours (a symlink
    planted under its name): it is needed only when there is work, and never followed."""
    try:
        own_folder(spill)
    except FileNotFoundError:
        return
    except OSError:
        raise planted(spill) from None


def _lock_folders(root: Path, held: contextlib.ExitStack) -> set[Path]:
    """Lock (``flock`` on the folder) ``root`` and every folder under it that compaction may
    change: those of closed files and of leftovers. Another compaction of ``root``'s parent or
    of one of these folders holds one of them: then this one does not start.

    Returns the folders locked: only their files are compacted, only their leftovers removed.
    """
    folders = {root, *(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())}
    folders |= {p.parent for p in find_files(root)}
    locked = set()
    for folder in sorted(folders):
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue  # gone since the listing, or a symlink planted since: not compacted
        held.callback(os.close, fd)
        locked.add(folder)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReadError(f"another compaction is running in {folder}") from None
        except OSError:
            pass  # a file system without locks on folders: the lock file above still holds
    return locked


def _remove_leftovers(root: Path, folders: set[Path]) -> list[Path]:
    """Work folders and files of a compaction that died before renaming, and span files whose
    compacted file was never renamed into place: never counted.

    Only in ``folders`` (locked: no other compaction works there), only this user's, and never
    through a symlink (``unlink`` and ``rmtree`` do not follow). A file under a span file's
    name that is not logtrace's (``views.not_ours``) is left alone: returned.
    """
    for folder in sorted(folders):
        for path in folder.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                if path.lstat().st_uid != os.geteuid():
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    compacted = set(find_compacted(root))
    alone = [
        path
        for path in sorted(find_span_files(root))
        if path.parent in folders
        and path.with_name(f.COMPACTED_PREFIX + path.name[len(f.SPANS_PREFIX) :]) not in compacted
    ]
    theirs: list[Path] = []
    if alone:  # DuckDB only when there are footers to read
        from logtrace.read.views import not_ours

        theirs = not_ours(alone)
    for path in alone:
        if path not in theirs:
            with contextlib.suppress(OSError):
                path.unlink()
    return theirs


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


def _listed_sources(
    found: list[Path], unreadable: list[Path], foreign: list[Path]
) -> set[tuple[Path, str]]:
    """(folder, source name) of every JSONL file that a compacted file already holds; a file
    whose footer cannot be read goes to ``unreadable``, another program's Parquet file under a
    compacted file's name (``views.foreign_parquet``) to ``foreign``."""
    if not found:
        return set()
    import duckdb

    from logtrace.read.views import foreign_parquet, listed_sources

    with duckdb.connect() as con:
        try:
            sources = listed_sources(con, found)
        except duckdb.Error:
            sources = set()
            for path in found:
                try:
                    sources |= listed_sources(con, [path])
                except duckdb.Error:
                    unreadable.append(path)
        foreign += foreign_parquet(con, [p for p in found if p not in unreadable])
        return sources


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


# -- small helpers ---------------------------------------------------------------------------
