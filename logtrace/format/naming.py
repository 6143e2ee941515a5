"""File naming, shared by the halves: what a log file, a day folder and a compacted file are called,
and how to tell whether a process still writes a file.

The write side makes names with :func:`file_name`; the read side recognises them with the same
patterns (``fields.FILE_NAME_PATTERN`` etc.). A live file is locked (``flock``) by the process
writing it, for as long as it writes: :func:`is_locked` is that convention's one test.
"""

from __future__ import annotations

import fcntl
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from logtrace.format import fields as f

FILE_NAME = re.compile(f.FILE_NAME_PATTERN)
DAY_NAME = re.compile(f.DAY_PATTERN)
COMPACTED_NAME = re.compile(f.COMPACTED_NAME_PATTERN)
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def sanitise(part: str, limit: int = 64) -> str:
    """Reduce a service or host name to ``[A-Za-z0-9.-]`` so ``_`` only separates name parts."""
    return _UNSAFE.sub("-", part).strip(".")[:limit] or "unknown"


def file_name(service: str, host: str, pid: int, opened_ms: int) -> tuple[str, str]:
    """Return ``(day folder, file name)`` of a live file opened at ``opened_ms`` (epoch ms)."""
    opened = datetime.fromtimestamp(opened_ms / 1000, tz=timezone.utc)
    stamp = f"{opened.strftime(f.FILE_TIME_FORMAT)}.{opened_ms % 1000:03d}Z"
    name = f"{sanitise(service)}_{sanitise(host)}_{pid}_{stamp}{f.LIVE_SUFFIX}"
    return opened.strftime(f.DAY_FORMAT), name


def is_log_file(name: str) -> bool:
    """Tell whether logtrace reads a file of this name: ``*.jsonl``, ``*.jsonl.zst``, not hidden."""
    return not name.startswith(".") and (
        name.endswith(f.LIVE_SUFFIX) or name.endswith(f.ROTATED_SUFFIX)
    )


def is_compacted_file(name: str) -> bool:
    """Tell whether a file of this name is compacted history: ``compacted_….parquet``."""
    return COMPACTED_NAME.fullmatch(name) is not None


def is_locked(path: Path) -> bool | None:
    """True if a process holds the file's ``flock`` (it is live), False if not, None if gone."""
    try:
        # Never through a symlink (ELOOP), never blocking on a FIFO: such a name is no file.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
