"""The newest lines of each file, for a trace list that need not parse whole files.

The newest traces of a directory are at the ends of its newest files. ``excerpt`` copies the
last ``tail_bytes`` of each plain ``.jsonl`` file that can hold recent lines into a temporary
directory (names and modification times kept, cut at a line boundary), and hard-links
compressed and compacted files whole. ``complete_from`` is the latest of the excerpts' first
line times: every line written after it, in any file, is in the excerpt.

A trace whose root span starts at or after ``complete_from + CLOCK_SKEW`` has all its lines
there (a span's lines come after its parent's start, give or take the skew of clocks between
processes), so its row of the ``traces`` view is the same as over the whole files. The list
takes an excerpt's answer only when each of its rows is such a trace; otherwise it reads
more, and in the end the files themselves (``data.list_traces``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import orjson

from ..format import fields as f
from ..read.files import recent_files

# How much of each file the first try reads; each next try reads eight times more.
TAIL_BYTES = 2 << 20
TRIES = 2


@contextmanager
def excerpt(
    files: list[Path], tail_bytes: int, under: Path | None = None
) -> Iterator[tuple[Path, datetime | None]]:
    """A temporary directory (in ``under`` when given) with the ends of ``files``, and the
    time from which it is complete (None: it holds every file whole). Files whose last line
    comes before that time (give or take CLOCK_SKEW) are left out: they hold nothing after it.
    The directory is removed when the block ends; its name is new each time."""
    tails = {path: _tail(path, tail_bytes) for path in files}
    kept = [path for path in files if tails[path] is not None]
    since: datetime | None = None
    while True:  # leaving a file out can only make the time earlier: until nothing changes
        cuts = [cut[1] for cut in (tails[p] for p in kept) if cut is not None and cut[1]]
        since = max(cuts) if cuts else None
        later = kept if since is None else recent_files(kept, since)
        if later == kept:
            break
        kept = later
    work = Path(tempfile.mkdtemp(prefix="logtrace-ui-", dir=under))
    try:
        for index, path in enumerate(kept):
            target = work / f"{index:05d}" / path.name  # a folder each: names may repeat
            target.parent.mkdir(0o700)  # owner-only, as mkdtemp's (the umask only takes away)
            data, first = tails[path] or (b"", None)
            if first is None:
                _link(path, target)
            else:
                _write_private(target, data, path.stat().st_mtime)
        yield work, since
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_private(target: Path, data: bytes, mtime: float) -> None:
    """``data`` as a new file ``target``, 0600 whatever the umask, modified at ``mtime``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with open(os.open(target, flags, 0o600), "wb") as out:
        out.write(data)
    os.utime(target, (mtime, mtime))


def _link(path: Path, target: Path) -> None:
    """``target`` as ``path``, whole: a hard link (the reader refuses symlinks), else a copy."""
    try:
        os.link(path, target)
    except OSError:
        shutil.copy2(path, target)


def _tail(path: Path, tail_bytes: int) -> tuple[bytes, datetime | None] | None:
    """The end of ``path`` (from a line boundary) and the time of its first line; ``(b"",
    None)`` for a file to link whole (compressed, compacted, small); None when it is gone."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if not path.name.endswith(f.LIVE_SUFFIX) or size <= tail_bytes:
        return b"", None
    with path.open("rb") as source:
        source.seek(size - tail_bytes)
        data = source.read(tail_bytes)
    cut = data.find(b"\n")
    data = data[cut + 1 :] if cut >= 0 else b""
    first = _first_time(data)
    return (data, first) if first is not None else (b"", None)


def _first_time(data: bytes) -> datetime | None:
    """The ``ts`` of the first line of ``data`` that has one (UTC, naive)."""
    for line in data.split(b"\n", 20)[:20]:
        try:
            value = orjson.loads(line)
            text = str(value[f.TS])
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
        return when
    return None
