"""The sink's files on disk: names, opening a live file, compressing a closed one.

A live file is a plain ``.jsonl`` on which its process holds an exclusive ``flock``. Any other
process (a starting sink, retention, a later compaction) tells a live file from a dead one by
trying to take that lock, so the lock is held from before the file has its name (it is created
under a hidden name and hard-linked into place) until after a rotated file has been compressed
and removed. Nothing here is on the hot path: the writer thread opens files, short-lived
background threads compress them.

Compression uses ``zstandard`` (python-zstandard), the binding that tracks the reference C
library: its streaming ``copy_stream`` compresses a file of any size in constant memory, it
releases the GIL while compressing, and its frames carry the content size and a checksum, so
``zstd -dc``, DuckDB and ``zstandard`` all read them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import zstandard

from logtrace.format.fields import LIVE_SUFFIX
from logtrace.format.folders import make_dirs, own_folder
from logtrace.format.naming import DAY_NAME, FILE_NAME, file_name, is_locked

# Hidden work files: a new live file before it has its name, a compressed file being written.
_NEW_SUFFIX = ".new"
_TMP_SUFFIX = ".tmp"
# A hidden work file untouched this long belongs to a process that died while making it.
STALE_SECONDS = 3600.0
_ZSTD_LEVEL = 3
# Link failures that mean "this filesystem has no hard links": fall back to rename.
# Reading a file of the folder: never through a symlink (ELOOP), never blocking on a FIFO.
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}

# Descriptors held by background work (compression) in this process. A forked child inherits
# them, and with them the locks, so the child closes them (``close_held_after_fork``).
_held: set[int] = set()
_held_lock = threading.Lock()


def open_live(
    directory: Path, service: str, host: str, not_before_ms: int, file_mode: int, dir_mode: int
) -> tuple[int, Path, int]:
    """Create, lock and name a new live file; return ``(fd, path, opened_ms)``.

    The time in the name is now, or ``not_before_ms`` if that is later (so a process's files
    sort in the order it wrote them); a name already taken, live or rotated, moves it on 1 ms.
    """
    pid = os.getpid()
    opened_ms = max(time.time_ns() // 1_000_000, not_before_ms)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
    for _ in range(1000):
        day, name = file_name(service, host, pid, opened_ms)
        folder = directory / day
        make_dirs(folder, dir_mode)
        check_folder(directory, folder)
        path = folder / name
        work = folder / f".{name}{_NEW_SUFFIX}"
        if os.path.lexists(f"{path}.zst"):
            opened_ms += 1
            continue
        try:
            fd = os.open(work, flags, file_mode)
        except (FileExistsError, FileNotFoundError):
            # A dead namesake's leftover, or the day folder was removed under us: try again.
            opened_ms += 1
            continue
        try:
            os.fchmod(fd, file_mode)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _link(work, path):
                return fd, path, opened_ms
        except BaseException:
            os.close(fd)
            _unlink(work)
            raise
        os.close(fd)
        _unlink(work)
        opened_ms += 1
    raise FileExistsError(errno.EEXIST, "no free file name", str(directory))


_warned: set[str] = set()


def check_folder(directory: Path, folder: Path) -> None:
    """Refuse a day folder that is a symlink or another user's; say once on stderr when the
    log folder or a day folder is writable by others (others could plant files there).

    Raises:
        OSError: the day folder is not a folder of this user (the sink reports it in-band).
    """
    status = own_folder(folder)
    for path, mode in ((directory, os.stat(directory).st_mode), (folder, status.st_mode)):
        if mode & 0o022:
            _say_once(
                path,
                f"is writable by others ({stat.filemode(mode)}): they can plant or remove "
                "files there; use a folder only you can write",
            )


def _say_once(path: Path | str, what: str) -> None:
    """``logtrace: <path> <what>`` on stderr, once per path and process."""
    if str(path) in _warned:
        return
    _warned.add(str(path))
    with contextlib.suppress(Exception):
        print(f"logtrace: {path} {what}", file=sys.stderr)


def _link(work: Path, path: Path) -> bool:
    """Give the locked work file its real name without replacing another; False if taken."""
    try:
        os.link(work, path)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINKS or os.path.lexists(path):
            raise
        os.rename(work, path)
        return True
    os.unlink(work)
    return True


def _unlink(path: Path | str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def hold(fd: int) -> int:
    """Note ``fd`` as held by background work, so a forked child closes its copy."""
    with _held_lock:
        _held.add(fd)
    return fd


def release(fd: int) -> None:
    """Close a descriptor taken with ``hold`` (closing it drops its lock)."""
    with _held_lock:
        _held.discard(fd)
    with contextlib.suppress(OSError):
        os.close(fd)


def close_held_after_fork() -> None:
    """In a forked child: close inherited background descriptors (the parent still has them)."""
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


def compress(fd: int, path: Path) -> Path:
    """Compress the file at ``path`` (open as ``fd``, locked by the caller) to ``path + .zst``.

    The compressed file is written under a hidden name, synced, renamed into place and given
    the plain file's mode and modification time (retention counts age from the last write);
    only then is the plain file removed. On any error the plain file stays as it was.
    """
    source = os.fstat(fd)
    mode = source.st_mode & 0o777
    target = path.with_name(path.name + ".zst")
    work = path.with_name(f".{path.name}.zst{_TMP_SUFFIX}")
    # O_EXCL and O_NOFOLLOW: never through a symlink planted under the work name. The caller
    # holds the source's lock, so an existing work file is a dead run's (or planted): unlink
    # it (that removes a symlink, not its target) and create ours.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        out = hold(os.open(work, flags, mode))
    except FileExistsError:
        _unlink(work)
        out = hold(os.open(work, flags, mode))
    try:
        os.fchmod(out, mode)
        with open(fd, "rb", closefd=False) as src, open(out, "wb", closefd=False) as dst:
            src.seek(0)
            compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL, write_checksum=True)
            compressor.copy_stream(src, dst, size=source.st_size)
        os.utime(out, ns=(source.st_atime_ns, source.st_mtime_ns))
        os.fsync(out)
        os.rename(work, target)
    except BaseException:
        _unlink(work)
        raise
    finally:
        release(out)
    os.unlink(path)
    _sync_dir(path.parent)
    return target


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def log_files(directory: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every live or rotated file under ``directory`` (``<dir>/<day>/<name>``), with its stat."""
    for folder in _day_folders(directory):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if FILE_NAME.fullmatch(entry.name):
                try:
                    yield Path(entry.path), entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue


def _day_folders(directory: Path) -> list[Path]:
    """The day folders of ``directory`` that are folders of this user. A symlink (or another
    user's folder) under a day's name is left alone, said once on stderr: retention and the
    orphan sweep would delete and compress the files of the folder it points to."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    folders = []
    for entry in entries:
        if not DAY_NAME.fullmatch(entry.name):
            continue
        try:
            own_folder(Path(entry.path))
        except OSError:
            if entry.is_symlink() or entry.is_dir():
                _say_once(entry.path, "not a folder of this user (a symlink?): left alone")
            continue
        folders.append(Path(entry.path))
    return sorted(folders)


def compress_orphans(directory: Path) -> list[Path]:
    """Compress the plain files of dead processes (nobody holds their lock); return the results.

    Also removes hidden work files left by processes that died making a file. Files of live
    processes, including this one's, are left alone.
    """
    done: list[Path] = []
    now = time.time()
    for folder in _day_folders(directory):
        _remove_stale_work_files(folder, now)
    for path, _ in log_files(directory):
        if path.name.endswith(LIVE_SUFFIX):
            compressed = compress_if_dead(path)
            if compressed is not None:
                done.append(compressed)
    return done


def compress_if_dead(path: Path) -> Path | None:
    """Compress one plain file if no process holds its lock; return the ``.zst`` path or None."""
    try:
        fd = hold(os.open(path, _READ_FLAGS))
    except (FileNotFoundError, OSError):
        return None  # gone, or a symlink (ELOOP): nothing of ours to compress
    try:
        held = os.fstat(fd)
        if not stat.S_ISREG(held.st_mode) or held.st_uid != os.geteuid():
            return None  # a FIFO, a device, another user's file: never copied into the folder
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        # The lock is ours, but the name may have been compressed and removed meanwhile.
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            return None
        return compress(fd, path)
    except FileNotFoundError:
        return None
    finally:
        release(fd)


def _remove_stale_work_files(folder: Path, now: float) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or not name.endswith((_NEW_SUFFIX, _TMP_SUFFIX)):
            continue
        # ".<name>.new" and ".<name>.zst.tmp" both hold a file name once the dots are off.
        if not FILE_NAME.fullmatch(name[1:].rsplit(".", 1)[0]):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < STALE_SECONDS:
                continue
        except FileNotFoundError:
            continue
        if not is_locked(Path(entry.path)):
            _unlink(entry.path)
