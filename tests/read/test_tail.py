"""Following files (``logtrace tail``, ``logtrace.read.tail.Follower``) while the directory
changes under the follower."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from logtrace.read.files import find_files
from logtrace.read.tail import Follower


@contextmanager
def folders_coming_and_going(directory: Path) -> Iterator[None]:
    """Day folders made and removed over and over, as retention removes old days (threads
    switched often, so that a folder goes between being listed and being read)."""
    stop = threading.Event()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)

    def churn() -> None:
        n = 0
        while not stop.is_set():
            day = directory / f"2026-01-{n % 28 + 1:02d}"
            day.mkdir(exist_ok=True)
            (day / "old_h_1_20260101T000000.000Z.jsonl").write_bytes(b"{}\n")
            shutil.rmtree(day, ignore_errors=True)
            n += 1

    thread = threading.Thread(target=churn, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


def test_a_folder_removed_while_listing_loses_no_followed_line(tmp_path: Path) -> None:
    """A folder that goes while the follower lists the directory does not end the following of
    the live files: every line written is given once."""
    live = tmp_path / "app_h_1_20261202T000000.000Z.jsonl"
    live.write_bytes(b'{"event":"logtrace.file"}\n')
    follower = Follower(tmp_path)
    seen: list[int] = []
    with folders_coming_and_going(tmp_path), live.open("ab") as out:
        for i in range(6000):
            out.write(orjson.dumps({"event": "tick", "i": i}) + b"\n")
            out.flush()
            seen += [line["i"] for line in follower.poll() if line.get("event") == "tick"]
    seen += [line["i"] for line in follower.poll() if line.get("event") == "tick"]
    follower.close()
    assert seen == list(range(6000))


def test_listing_a_directory_whose_folders_go_meanwhile_does_not_fail(tmp_path: Path) -> None:
    """A folder removed between being listed and being read is left out, as a file gone since
    the walk is: the other files are listed, no error."""
    kept = tmp_path / "app_h_1_20261202T000000.000Z.jsonl"
    kept.write_bytes(b"{}\n")
    with folders_coming_and_going(tmp_path):
        for _ in range(6000):
            assert kept in find_files(tmp_path)


def _unlistable_folder(root: Path) -> Path:
    """A folder under ``root`` too deep to list (its path past PATH_MAX): listing ``root``
    fails until it goes. Made through folder descriptors, as no path can name it."""
    import os

    top = root / ("d" * 250)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(18):
            os.mkdir("d" * 250, dir_fd=fd)
            inner = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    return top


def test_a_first_listing_that_fails_does_not_make_the_old_lines_new(tmp_path: Path) -> None:
    """Following started while the directory cannot be listed: once it can, the files there
    at the start are followed from their end (their lines are not new), the new lines given,
    and with ``from_start`` every line is given once."""
    live = tmp_path / "app_h_1_20261202T000000.000Z.jsonl"
    live.write_bytes(b'{"event":"old"}\n')
    blocking = _unlistable_folder(tmp_path)
    follower = Follower(tmp_path)
    from_start = Follower(tmp_path, from_start=True)
    assert list(follower.poll()) == [] and list(from_start.poll()) == []
    shutil.rmtree(blocking)
    assert list(follower.poll()) == []
    with live.open("ab") as out:
        out.write(b'{"event":"new"}\n')
    assert [line["event"] for line in follower.poll()] == ["new"]
    assert [line["event"] for line in from_start.poll()] == ["old", "new"]
    follower.close()
    from_start.close()


ROTATING_WRITER = r"""
import sys, logtrace
logtrace.configure(service="alpha", directory=sys.argv[1], rotate_bytes=700, flush="always")
for i in range(300):
    with logtrace.span("tick", i=i):
        pass
logtrace.shutdown()
"""


@pytest.mark.parametrize("crowded", [False, True], ids=["alone", "among-3000-files"])
def test_a_process_rotating_fast_is_followed_in_the_order_it_wrote(
    tmp_path: Path, crowded: bool
) -> None:
    """A process's lines come in the order it wrote them, never a rotated file's after its
    successor's, though its files are compressed while the follower lists them: between the
    walk and its look at a file (its plain name gone, its .zst too new for the walk), and, in
    a folder big enough to take several reads of the directory, during the walk itself (the
    .zst renamed in where the walk had read, the plain name removed where it had not)."""
    import os
    import subprocess
    import time

    import zstandard

    if crowded:  # 3000 files of another service, compressed, in today's folder
        day = tmp_path / time.strftime("%Y-%m-%d", time.gmtime())
        day.mkdir(mode=0o700)
        empty = zstandard.ZstdCompressor().compress(b"")
        for n in range(3000):
            other = day / f"beta_vm_1_20260101T000000.{n % 1000:03d}Z{n}.jsonl.zst"
            other.write_bytes(empty)
            other.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}
    env.pop("TRACEPARENT", None)
    follower = Follower(tmp_path)
    writer = subprocess.Popen([sys.executable, "-c", ROTATING_WRITER, str(tmp_path)], env=env)
    starts: list[int] = []
    while True:
        done = writer.poll() is not None  # then one more poll takes what is left
        starts += [line["i"] for line in follower.poll() if line.get("span") == "start"]
        if done:
            break
    follower.close()
    assert writer.returncode == 0
    assert len(list(tmp_path.rglob("alpha_*.jsonl.zst"))) > 100  # it rotated, file after file
    assert starts == list(range(300))
