"""File names, opening live files, compressing closed ones, and finding the dead."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st

from logtrace.format.fields import FILE_NAME_PATTERN
from logtrace.format.naming import is_locked
from logtrace.write.sink.rotation import (
    STALE_SECONDS,
    compress,
    compress_orphans,
    open_live,
)


def test_names_taken_move_on_and_keep_order(tmp_path: Path) -> None:
    """Files opened in the same millisecond get distinct names that sort in opening order."""
    opened = [open_live(tmp_path, "svc", "host", 4 * 10**12, 0o600, 0o700) for _ in range(3)]
    names = [path.name for _, path, _ in opened]
    assert names == sorted(set(names)) and len(names) == 3
    assert [ms for _, _, ms in opened] == [4 * 10**12, 4 * 10**12 + 1, 4 * 10**12 + 2]
    assert all(is_locked(path) for _, path, _ in opened)
    assert not list(tmp_path.glob("*/.*"))  # no hidden work files left behind
    for fd, _, _ in opened:
        os.close(fd)


def test_compress_keeps_content_mode_and_time_and_removes_the_plain_file(tmp_path: Path) -> None:
    """A compressed file decompresses (zstd CLI too) to the original bytes, keeps mode and mtime."""
    fd, path, _ = open_live(tmp_path, "svc", "host", 0, 0o640, 0o700)
    content = b"".join(orjson.dumps({"i": i}) + b"\n" for i in range(5000))
    os.write(fd, content)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    target = compress(fd, path)
    os.close(fd)
    assert not path.exists() and target == Path(f"{path}.zst")
    assert target.stat().st_mtime == 1_000_000_000 and target.stat().st_mode & 0o777 == 0o640
    if shutil.which("zstd"):
        assert subprocess.run(["zstd", "-dc", target], capture_output=True).stdout == content


def test_orphans_of_dead_processes_are_compressed_live_files_are_not(tmp_path: Path) -> None:
    """compress_orphans compresses plain files nobody locks, and leaves locked (live) ones."""
    live_fd, live, _ = open_live(tmp_path, "svc", "host", 0, 0o600, 0o700)
    dead_fd, dead, _ = open_live(tmp_path, "svc", "host", 0, 0o600, 0o700)
    os.write(dead_fd, b'{"i": 1}\n')
    os.close(dead_fd)
    assert compress_orphans(tmp_path) == [Path(f"{dead}.zst")]
    assert live.exists() and not dead.exists()
    os.close(live_fd)


def test_stale_hidden_work_files_are_removed(tmp_path: Path) -> None:
    """Hidden work files of processes that died are removed once stale, not before."""
    fd, path, _ = open_live(tmp_path, "svc", "host", 0, 0o600, 0o700)
    os.close(fd)
    stale = path.with_name(f".{path.name}.zst.tmp")
    fresh = path.with_name(f".{path.name}.new")
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - STALE_SECONDS - 10
    os.utime(stale, (old, old))
    path.unlink()
    compress_orphans(tmp_path)
    assert not stale.exists() and fresh.exists()
