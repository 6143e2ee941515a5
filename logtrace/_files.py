"""Finding the files of a log directory, for the read side (no DuckDB here: ``tail`` uses it too).

A directory holds ``<day>/<service>_<host>_<pid>_<opened>.jsonl`` (live) and ``….jsonl.zst``
(rotated). While a file is being rotated both names exist for a moment; the compressed one is
complete (it is renamed into place), so it wins. Hidden names (``.…``) are work files of the sink.
"""

from __future__ import annotations

import glob
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from . import _fields as f

_FILE_NAME = re.compile(f.FILE_NAME_PATTERN)
_GLOB_MAGIC = re.compile(r"[*?[]")


class ReadError(Exception):
    """A question that cannot be answered: a bad argument, unreadable files, failing SQL.

    ``exit_code`` is what the CLI exits with: 2 for bad input, 1 for "not found".
    """

    exit_code = 2


def is_log_file(name: str) -> bool:
    """Tell whether logtrace reads a file of this name: ``*.jsonl``, ``*.jsonl.zst``, not hidden."""
    return not name.startswith(".") and (
        name.endswith(f.LIVE_SUFFIX) or name.endswith(f.ROTATED_SUFFIX)
    )


def find_files(path: str | os.PathLike[str]) -> list[Path]:
    """The log files under ``path``: a directory (searched recursively), one file, or a glob.

    Sorted by name. Of ``x.jsonl`` and ``x.jsonl.zst`` (a rotation in progress) only the
    compressed one is kept.

    Raises:
        ReadError: ``path`` does not exist or cannot be read.
    """
    text = os.fspath(path)
    if _GLOB_MAGIC.search(text):
        found = [Path(p) for p in glob.glob(text, recursive=True) if os.path.isfile(p)]
    elif os.path.isdir(text):
        found = _walk(text)
    elif os.path.isfile(text):
        found = [Path(text)]
    elif os.path.exists(text):
        raise ReadError(f"cannot read {text}: not a directory or a file")
    else:
        raise ReadError(f"cannot read {text}: no such directory")
    names = {str(p) for p in found}
    kept = [p for p in found if not (str(p).endswith(f.LIVE_SUFFIX) and f"{p}.zst" in names)]
    return sorted(kept)


def _walk(directory: str) -> list[Path]:
    found: list[Path] = []

    def fail(error: OSError) -> None:
        raise ReadError(f"cannot read {error.filename or directory}: {error.strerror}")

    for root, dirs, files in os.walk(directory, onerror=fail):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root, name) for name in files if is_log_file(name))
    return found


def opened_at(path: Path) -> datetime | None:
    """When the file was opened (UTC, naive), from its name; ``None`` for a foreign name."""
    match = _FILE_NAME.fullmatch(path.name)
    if match is None:
        return None
    return datetime.strptime(match["opened"], f.FILE_TIME_FORMAT + ".%fZ")


def time_range(files: list[Path]) -> tuple[datetime, datetime] | None:
    """The earliest opening and the latest write among ``files`` (UTC, naive), if any."""
    first: datetime | None = None
    last: datetime | None = None
    for path in files:
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        except OSError:
            continue
        modified = modified.replace(tzinfo=None)
        opened = opened_at(path) or modified
        first = opened if first is None else min(first, opened)
        last = modified if last is None else max(last, modified)
    if first is None or last is None:
        return None
    return first, last
