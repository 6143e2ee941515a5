"""Small file-system steps of compaction, publication and the exports: durable writes, private
files and folders.

No DuckDB here. ``fsync`` of a file before it is renamed into place, and of its folder after,
is what lets a reader (or another host) trust a name it sees: the bytes are on disk first.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from logtrace.format.folders import own_folder
from logtrace.read.files import ReadError


def sql_literal(text: str) -> str:
    """An SQL string literal (DuckDB's COPY takes its target and options as literals only)."""
    return "'" + text.replace("'", "''") + "'"


def size_of(path: Path) -> int:
    """The file's size; 0 when it is gone."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def unlink(path: Path) -> bool:
    """Remove a file; False when it was gone already."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def planted(path: Path) -> ReadError:
    """The one-line error for a work file or folder of a fixed name that is not logtrace's:
    a symlink (never followed) or another user's or another kind of file in its place."""
    what = "a symlink" if path.is_symlink() else "not a file or folder of this user"
    return ReadError(
        f"cannot use {path}: {what} that logtrace did not make (not followed); "
        f"remove it and run again"
    )


def private_folder(path: Path, mode: int) -> None:
    """Make ``path`` a folder of this user with ``mode``, whatever the umask (DuckDB spills
    there: its files are then out of others' reach)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    try:
        own_folder(path)
    except OSError:
        raise planted(path) from None
    os.chmod(path, mode)


def replace_with(
    path: Path, chunks: Iterable[bytes], mode: int, mtime_ns: int | None = None
) -> None:
    """Write ``path`` whole or not at all: ``chunks`` into a new file beside it, given ``mode``
    whatever the umask (and ``mtime_ns``, when given), synced, then renamed over ``path``.

    The new file's name is unique (``mkstemp``: ``O_EXCL|O_NOFOLLOW``), so a symlink or file
    planted under a name it could have is never followed, written or removed.
    """
    fd, work = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(fd, mode)
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            if mtime_ns is not None:
                os.utime(fd, ns=(mtime_ns, mtime_ns))  # this file, whatever its name is by now
            os.fsync(fd)
        os.replace(work, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(work)
        raise


def fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folders(folders: set[Path] | list[Path]) -> None:
    """Flush the entries of these folders (renames, removals); a folder gone is no error."""
    for folder in folders:
        with contextlib.suppress(OSError):
            fsync(folder)
