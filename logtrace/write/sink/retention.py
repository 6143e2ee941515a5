"""Retention: delete closed log files past an age or beyond a size budget, never a live one.

A closed file is a rotated ``.jsonl.zst`` or a plain ``.jsonl`` whose process is gone (nobody
holds its ``flock``). Age is counted from the file's modification time, i.e. its last line
(compression keeps it). The sink runs this at start and after each rotation, in the background;
it is safe to run from any number of processes at once.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

from logtrace.format.fields import DAY_FORMAT, ROTATED_SUFFIX
from logtrace.format.naming import DAY_NAME, is_locked
from logtrace.write.sink.rotation import log_files


def apply_retention(
    directory: Path,
    retention_days: float,
    retention_bytes: int | None = None,
    now: float | None = None,
) -> list[Path]:
    """Delete closed files older than ``retention_days`` and then, oldest first, those beyond a
    total of ``retention_bytes``; return the deleted paths, oldest first.

    Args:
        directory: the sink's directory (``<dir>/<day>/<file>``); other files are never touched.
        retention_days: maximum age, by modification time; ``math.inf`` keeps files forever.
        retention_bytes: budget for all files (live ones count but are never deleted), or None.
        now: the current time (epoch seconds); defaults to ``time.time()``.
    """
    now = time.time() if now is None else now
    cutoff = now - retention_days * 86400.0
    closed: list[tuple[float, str, Path, int]] = []
    total = 0
    for path, stat in log_files(directory):
        if not path.name.endswith(ROTATED_SUFFIX):
            locked = is_locked(path)
            if locked is None:
                continue
            if locked:
                total += stat.st_size
                continue
        closed.append((stat.st_mtime, path.name, path, stat.st_size))
        total += stat.st_size
    closed.sort()
    deleted: list[Path] = []
    for mtime, _, path, size in closed:
        over_budget = retention_bytes is not None and total > retention_bytes
        if mtime >= cutoff and not over_budget:
            continue
        if _delete(path):
            deleted.append(path)
        total -= size
    _remove_empty_days(directory, now)
    return deleted


def _delete(path: Path) -> bool:
    # Test a plain file again: an orphan compressor may have taken its lock since the scan.
    if not path.name.endswith(ROTATED_SUFFIX) and is_locked(path) is not False:
        return False
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def _remove_empty_days(directory: Path, now: float) -> None:
    # Only days before yesterday (UTC): today's folder may be about to receive a file.
    yesterday = datetime.fromtimestamp(now - 86400.0, tz=timezone.utc).strftime(DAY_FORMAT)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if DAY_NAME.fullmatch(entry.name) and entry.name < yesterday:
            try:
                os.rmdir(entry.path)
            except OSError:
                continue
