"""Finding the files of a log directory, for the read side (no DuckDB here: ``tail`` uses it too).

A directory holds ``<day>/<service>_<host>_<pid>_<opened>.jsonl`` (live) and ``….jsonl.zst``
(rotated), and ``<day>/compacted_<first>_<last>_<digest>.parquet`` (``logtrace compact``).
While a file is being rotated both names exist for a moment; the compressed one is complete (it
is renamed into place), so it wins. Hidden names (``.…``) are work files of the sink and of
compaction.

Every file covers a time range known from its name (and, for a JSONL file, its modification
time: the sink's last write), so a question about a time window opens only the files that can
hold it: :func:`prune`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from logtrace.format import fields as f
from logtrace.format.naming import (
    COMPACTED_NAME,
    FILE_NAME,
    is_compacted_file,
    is_locked,
    is_log_file,
)

# How far clocks of processes (and hosts sharing a folder) may disagree: a file's range is
# widened by this much on both sides before it is ruled out.
CLOCK_SKEW = timedelta(minutes=5)
# How long after its creation a trace may still write lines, for time pruning: a lookup reads
# the files of [created - CLOCK_SKEW, created + LONG_TRACE]. A trace that looks cut short there
# (an unfinished span, no root) is looked up again in every file, so a longer trace costs time,
# never correctness. ``ls``/``stats`` widen --since/--until by it too.
LONG_TRACE = timedelta(minutes=15)
_GLOB_MAGIC = re.compile(r"[*?[]")


class ReadError(Exception):
    """A question that cannot be answered: a bad argument, unreadable files, failing SQL.

    ``exit_code`` is what the CLI exits with: 2 for bad input, 1 for "not found".
    """

    exit_code = 2


def is_span_file(name: str) -> bool:
    """Tell whether a file of this name holds span rows: ``spans_….parquet``."""
    return name.startswith(f.SPANS_PREFIX) and is_compacted_file(
        f.COMPACTED_PREFIX + name[len(f.SPANS_PREFIX) :]
    )


def span_file_of(path: Path) -> Path:
    """The span file beside a compacted file: ``spans_<first>_<last>_<digest>.parquet``."""
    return path.with_name(f.SPANS_PREFIX + path.name[len(f.COMPACTED_PREFIX) :])


def source_name(path: Path) -> str:
    """A JSONL file's identity in a compacted file's list of sources: its name without ``.zst``.

    Rotation turns ``x.jsonl`` into ``x.jsonl.zst``: the same lines, so the same source.
    """
    name = path.name
    return name[: -len(".zst")] if name.endswith(f.ROTATED_SUFFIX) else name


def is_live(path: Path) -> bool | None:
    """True if a process still writes ``path`` (it holds the file's ``flock``), None if gone.

    The sink's convention, tested here without importing the write side: a rotated
    ``.jsonl.zst`` is never live; a plain file is live while its process runs.
    """
    if path.name.endswith(f.ROTATED_SUFFIX):
        return False if path.exists() else None
    return is_locked(path)


def is_own_regular_file(status: os.stat_result, owners: frozenset[int]) -> bool:
    """A regular file (not a symlink, a FIFO, a device) owned by one of ``owners``."""
    return stat.S_ISREG(status.st_mode) and status.st_uid in owners


def owners_of(path: str | os.PathLike[str]) -> frozenset[int]:
    """Whose files are read under ``path``: this user's, and those of the owner of ``path``
    itself (root reading a service's folder reads the service's files, not a third user's)."""
    owners = {os.geteuid()}
    with contextlib.suppress(OSError):
        owners.add(os.stat(path).st_uid)
    return frozenset(owners)


def refused_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files under ``path`` named like logtrace's that are never read: symlinks, files that
    are not regular, files of another user than this one and the folder's owner."""
    return sorted(_list(path, safe=False))


def find_files(path: str | os.PathLike[str]) -> list[Path]:
    """The log files under ``path``: a directory (searched recursively), one file, or a glob.

    Sorted by name. Of ``x.jsonl`` and ``x.jsonl.zst`` (a rotation in progress) only the
    compressed one is kept.

    Raises:
        ReadError: ``path`` does not exist or cannot be read.
    """
    return _log_files(_list(path))


def _log_files(listed: list[Path]) -> list[Path]:
    found = [p for p in listed if not (is_compacted_file(p.name) or is_span_file(p.name))]
    names = {str(p) for p in found}
    kept = [p for p in found if not (str(p).endswith(f.LIVE_SUFFIX) and f"{p}.zst" in names)]
    return sorted(kept)


def find_compacted(path: str | os.PathLike[str]) -> list[Path]:
    """The compacted Parquet files under ``path`` (a directory, one file or a glob), sorted.

    Raises:
        ReadError: ``path`` does not exist or cannot be read.
    """
    return sorted(p for p in _list(path) if is_compacted_file(p.name))


def find_history(path: str | os.PathLike[str]) -> tuple[list[Path], list[Path], set[Path]]:
    """In one listing: the log files, the compacted files and the span files under ``path``.

    Raises:
        ReadError: ``path`` does not exist or cannot be read.
    """
    listed = _list(path)
    compacted = sorted(p for p in listed if is_compacted_file(p.name))
    return _log_files(listed), compacted, {p for p in listed if is_span_file(p.name)}


def find_span_files(path: str | os.PathLike[str]) -> set[Path]:
    """The span files under ``path`` (a directory, one file or a glob).

    Raises:
        ReadError: ``path`` does not exist or cannot be read.
    """
    return {p for p in _list(path) if is_span_file(p.name)}


def _list(path: str | os.PathLike[str], safe: bool = True) -> list[Path]:
    """The files under ``path``: an existing path is a path, never a glob, whatever characters
    its name has (``logs[1]``). Inside it nothing is followed: symlinks (to files or folders),
    files that are not regular and other users' files are left out (``safe=False``: only
    those)."""
    owners = owners_of(path)
    candidates = _candidates(path)
    listed = set(candidates)
    kept = []
    for candidate in candidates:
        try:
            own = is_own_regular_file(os.lstat(candidate), owners)
        except OSError:
            # Gone since the walk. A live file compressed meanwhile has its .zst, which is in
            # place before the plain file goes but may have come too late for the walk: without
            # it a reader would miss the file and meet its lines only after its successor's.
            compressed = Path(f"{candidate}.zst")
            if not candidate.name.endswith(f.LIVE_SUFFIX) or compressed in listed:
                continue
            try:
                own = is_own_regular_file(os.lstat(compressed), owners)
            except OSError:
                continue
            candidate = compressed
        if own is safe:
            kept.append(candidate)
    return kept


def glob_folder(path: str | os.PathLike[str]) -> str | None:
    """The folder a glob starts in (``logs`` of ``logs/*/*.jsonl``, ``.`` of ``*.jsonl``), or
    None when ``path`` exists or is not a glob."""
    text = os.fspath(path)
    if os.path.exists(text) or not _GLOB_MAGIC.search(text):
        return None
    parts = Path(text).parts
    fixed = next(i for i, part in enumerate(parts) if _GLOB_MAGIC.search(part))
    return str(Path(*parts[:fixed])) if fixed else "."


def _candidates(path: str | os.PathLike[str]) -> list[Path]:
    text = os.fspath(path)
    if not os.path.exists(text) and _GLOB_MAGIC.search(text):
        return [Path(p) for p in glob.glob(text, recursive=True) if os.path.isfile(p)]
    if os.path.isdir(text):
        return _walk(text)
    if os.path.isfile(text):
        return [Path(text)]
    if os.path.exists(text):
        raise ReadError(f"cannot read {text}: not a directory or a file")
    raise ReadError(f"cannot read {text}: no such directory")


# A day folder's name: 2026-11-24 (local), day=2026-11-24 (shared history).
_DAY_FOLDER = re.compile(f"(?:day=)?{f.DAY_PATTERN}")


def _walk(directory: str) -> list[Path]:
    """The files under ``directory`` named like logtrace's, folders in name order; hidden
    folders are skipped, and symlinks (to folders too) are listed as files, to be refused."""
    found: list[Path] = []
    folders = [directory]
    while folders:
        root = folders.pop()
        try:
            entries = _listing(root)
        except OSError as error:
            gone = isinstance(error, (FileNotFoundError, NotADirectoryError))
            if gone and root != directory:
                continue  # a folder removed since its parent was listed (retention)
            where = error.filename or root
            raise ReadError(f"cannot read {where}: {error.strerror}") from None
        inside = []
        for name, is_folder in sorted(entries.items()):
            if is_folder:
                if not name.startswith("."):
                    inside.append(os.path.join(root, name))
            elif is_log_file(name) or is_compacted_file(name) or is_span_file(name):
                found.append(Path(root, name))
            elif _DAY_FOLDER.fullmatch(name) and os.path.islink(os.path.join(root, name)):
                found.append(Path(root, name))  # a day folder's symlink: refused, named
        folders.extend(reversed(inside))
    return found


# A folder whose modification time is this recent when its listing ends is listed again: its
# time may not have moved for a change made during the listing (a clock tick apart, or less).
_SETTLING_NS = 20_000_000


def _listing(folder: str) -> dict[str, bool]:
    """The names in ``folder`` (True for a folder that is not a symlink).

    A folder of a few hundred files takes more than one read of the directory. A file
    compressed meanwhile (its ``.zst`` renamed in where the listing has already read, its plain
    name removed where it has not yet) would be under neither name; so a folder that changed
    during its listing is listed once more and the two taken together: the second listing
    began after that compression ended, and has its ``.zst``. Names gone by then are told
    apart later (``_list``).
    """
    before = os.stat(folder).st_mtime_ns
    entries = _names(folder)
    after = os.stat(folder).st_mtime_ns
    if after != before or time.time_ns() - after < _SETTLING_NS:
        entries.update(_names(folder))
    return entries


def _names(folder: str) -> dict[str, bool]:
    with os.scandir(folder) as listing:
        return {entry.name: entry.is_dir(follow_symlinks=False) for entry in listing}


def opened_at(path: Path) -> datetime | None:
    """When the file was opened (UTC, naive), from its name; ``None`` for a foreign name."""
    match = FILE_NAME.fullmatch(path.name)
    if match is None:
        return None
    return datetime.strptime(match["opened"], f.FILE_TIME_FORMAT + ".%fZ")


def file_range(path: Path) -> tuple[datetime | None, datetime | None]:
    """The times a file's lines can have (UTC, naive; None: unknown, unbounded).

    A compacted file: the two times of its name (widened to whole seconds). A JSONL file: from
    its opening (its name) to its last write (its modification time; None if it is gone).
    """
    match = COMPACTED_NAME.fullmatch(path.name)
    if match is not None:
        first = datetime.strptime(match["first"], f.FILE_TIME_FORMAT)
        last = datetime.strptime(match["last"], f.FILE_TIME_FORMAT) + timedelta(seconds=1)
        return first, last
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).replace(tzinfo=None)
    except OSError:
        modified = None
    return opened_at(path), modified


def recent_files(
    files: Iterable[Path], since: datetime, skew: timedelta | None = None
) -> list[Path]:
    """The files that can hold lines written at or after ``since``: their last write, widened
    by ``skew`` (None: CLOCK_SKEW), is not before it; a file of unknown range is kept."""
    widen = CLOCK_SKEW if skew is None else skew
    kept = []
    for path in files:
        _, last = file_range(path)
        if last is None or last + widen >= since:
            kept.append(path)
    return kept


def prune(files: Iterable[Path], since: datetime | None, until: datetime | None) -> list[Path]:
    """The files whose lines can fall in ``[since, until]`` (UTC, naive; None: unbounded).

    A file is kept unless its range, widened by CLOCK_SKEW, ends before ``since`` or starts
    after ``until``. A file of unknown range (a foreign name) is always kept.
    """
    kept = []
    for path in files:
        first, last = file_range(path)
        if since is not None and last is not None and last + CLOCK_SKEW < since:
            continue
        if until is not None and first is not None and first - CLOCK_SKEW > until:
            continue
        kept.append(path)
    return kept


def time_range(files: list[Path]) -> tuple[datetime, datetime] | None:
    """The earliest opening and the latest write among ``files`` (UTC, naive), if any."""
    first: datetime | None = None
    last: datetime | None = None
    for path in files:
        opened, modified = file_range(path)
        if modified is None:
            continue
        opened = opened or modified
        first = opened if first is None else min(first, opened)
        last = modified if last is None else max(last, modified)
    if first is None or last is None:
        return None
    return first, last


def describe(locations: list[str], files: list[Path]) -> str:
    """``./logtrace (3 files, 2026-11-24 13:11:34 to 2026-11-24 14:02:10)``: where and what."""
    shown = ", ".join(display_path(p) for p in locations)
    count = len(files)
    noun = "file" if count == 1 else "files"
    span = time_range(files)
    if span is None:
        return f"{shown} ({count} {noun})"
    first, last = (t.strftime("%Y-%m-%d %H:%M:%S") for t in span)
    return f"{shown} ({count} {noun}, {first} to {last})"


def display_path(path: str) -> str:
    """``logtrace`` as ``./logtrace``: a relative path shown as one."""
    if os.path.isabs(path) or path.startswith(".") or any(c in path for c in "*?["):
        return path
    return f".{os.sep}{path}"
