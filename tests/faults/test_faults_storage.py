"""Storage faults: the disk says no, and the program never notices; every line is kept or counted.

Each program logs through ``configure()`` (spans, stdlib, structlog) in bursts while a fault
comes and goes: a full filesystem (a tiny tmpfs in a private mount namespace), a read-only
mount over the log folder, a file size limit, no file descriptors left, the live file moved
away or deleted, the folder removed or blocked by a regular file. The faults are real ones that
root respects too (the suite runs as root in CI, where ``chmod`` does not bite). Afterwards the
lines on disk plus the ``logtrace.dropped`` counts must equal what was logged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _faults_helpers import can_mount_tmpfs, once_each, read_back, run, run_on_tmpfs
from _faults_report import Row, count, record, scale

from logtrace.format import fields as f

needs_tmpfs = pytest.mark.skipif(
    not can_mount_tmpfs(), reason="needs unshare -m and tmpfs mounts (root or user namespaces)"
)

# Shared by the programs: argv[1] is the folder logs go under; burst(k) logs k operations
# (a span and a stdlib line inside it: 2 lines each, the line and the span's end line; a start
# line too when the writer flushed while the span was open, never counted as lost) and flushes.
PRELUDE = """
import json, logging, os, resource, shutil, subprocess, sys, structlog, logtrace
from pathlib import Path
root = Path(sys.argv[1])
logs = root / "logs"
log, slog = logging.getLogger("app"), structlog.get_logger("app")
n = 0

def burst(k, pad=100):
    global n
    for _ in range(k):
        with logtrace.span("op", n=n):
            (log.info("line", extra={"n": n, "pad": "z" * pad}) if n % 2
             else slog.info("line", n=n, pad="z" * pad))
        n += 1
    logtrace.flush()
"""


def _accounted(directory: Path, emitted_ops: int) -> tuple[int, int]:
    """(lines on disk, lines counted as dropped) for a run of ``emitted_ops`` operations;
    fails if an operation's line is on disk twice."""
    files = read_back(directory)
    ops = [line["n"] for line in files.user()]
    assert not once_each(ops)
    assert set(ops) <= set(range(emitted_ops))
    spans = [s for s in files.spans() if s[f.NAME] == "op"]
    assert not once_each([(s[f.SPAN_ID], s[f.SPAN]) for s in spans])
    spans = [s for s in spans if s[f.SPAN] == f.SPAN_END]
    assert files.dropped("queue_full") == 0
    return len(ops) + len(spans), files.dropped("write_error")


DISK_FULL = (
    PRELUDE
    + """
episodes, per = int(sys.argv[2]), int(sys.argv[3])
logtrace.configure(service="full", directory=logs, flush_interval=0.05, environ={})
burst(per)
for _ in range(episodes):
    fd = os.open(root / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\\0")
    except OSError as full:
        assert full.errno == 28, full
    os.close(fd)
    burst(per)                  # into a full disk
    os.unlink(root / "filler")
    burst(per)                  # space again
logtrace.shutdown()
print(json.dumps({"ops": n}))
"""
)


@needs_tmpfs
def test_a_full_disk_costs_counted_lines_and_writing_resumes(tmp_path: Path) -> None:
    """ENOSPC on a tiny tmpfs, again and again: nothing raises, each lost line is counted in a
    logtrace.dropped line once space is back, a write_error line names each episode, and no
    line is torn or written twice."""
    episodes, per = scale(3, 20), scale(100, 400)
    result, err = run_on_tmpfs(
        DISK_FULL, scale("4m", "64m"), tmp_path / "out", str(episodes), str(per)
    )
    on_disk, dropped = _accounted(tmp_path / "out" / "logs", result["ops"])
    assert result["ops"] == (1 + 2 * episodes) * per
    assert dropped > 0 and on_disk + dropped == 2 * result["ops"]
    files = read_back(tmp_path / "out" / "logs")
    errors = files.own(f.WRITE_ERROR_EVENT)
    assert len(errors) >= episodes and "No space left on device" in err
    assert all("No space left" in e[f.ERROR_MESSAGE] for e in errors)
    record(
        Row(
            "disk_full",
            f"{count(result['ops'])} operations, the disk filled {episodes} times",
            faults=episodes,
            lost=2 * result["ops"] - on_disk - dropped,
        )
    )


READ_ONLY = (
    PRELUDE
    + """
episodes, per = int(sys.argv[2]), int(sys.argv[3])
logtrace.configure(service="ro", directory=logs, flush_interval=0.05, environ={})
burst(per)
for _ in range(episodes):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=4k", "none", str(logs)], check=True)
    burst(per)                  # the folder is read-only: EROFS
    subprocess.run(["umount", str(logs)], check=True)
    burst(per)
logtrace.shutdown()
print(json.dumps({"ops": n}))
"""
)


@needs_tmpfs
def test_a_read_only_folder_costs_counted_lines_and_writing_resumes(tmp_path: Path) -> None:
    """A read-only filesystem mounted over the log folder, then taken away, again and again:
    nothing raises, lost lines are counted, writing resumes in the same folder."""
    episodes, per = scale(3, 20), scale(100, 400)
    result, err = run_on_tmpfs(
        READ_ONLY, scale("4m", "64m"), tmp_path / "out", str(episodes), str(per)
    )
    on_disk, dropped = _accounted(tmp_path / "out" / "logs", result["ops"])
    assert dropped == 2 * per * episodes and on_disk + dropped == 2 * result["ops"]
    files = read_back(tmp_path / "out" / "logs")
    errors = files.own(f.WRITE_ERROR_EVENT)
    assert len(errors) == episodes and "went away" in err
    assert all("Read-only file system" in e[f.ERROR_MESSAGE] for e in errors)
    record(
        Row(
            "read_only",
            f"{count(result['ops'])} operations, read-only {episodes} times",
            faults=episodes,
            lost=2 * result["ops"] - on_disk - dropped,
        )
    )


FILE_SIZE = (
    PRELUDE
    + """
episodes, per, limit = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
logtrace.configure(service="fsize", directory=logs, flush_interval=60, environ={})
for _ in range(episodes):
    for _ in range(10):
        burst(per)
    burst(per, pad=limit // per)    # one batch bigger than any file may be: lost, counted
logtrace.shutdown()
print(json.dumps({"ops": n}))
"""
)


def test_a_file_size_limit_rotates_and_counts_what_cannot_fit(tmp_path: Path) -> None:
    """Under RLIMIT_FSIZE the live file rotates when it cannot grow; a batch bigger than any
    file may be is lost and counted; no file passes the limit; nothing raises."""
    episodes, per, limit = scale(2, 10), 50, 200_000
    result = run(FILE_SIZE, tmp_path, episodes, per, limit)
    directory = tmp_path / "logs"
    on_disk, dropped = _accounted(directory, result["ops"])
    assert dropped >= 2 * per * episodes and on_disk + dropped == 2 * result["ops"]
    assert all(p.stat().st_size <= limit for p in directory.rglob("*.jsonl*"))
    assert len(list(directory.rglob("*.jsonl*"))) > episodes
    record(
        Row(
            "file_size_limit",
            f"{count(result['ops'])} operations under a {limit // 1000} KB limit",
            faults=episodes,
            lost=2 * result["ops"] - on_disk - dropped,
        )
    )


FD_LIMIT = (
    PRELUDE
    + """
episodes, per = int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
logtrace.configure(service="fds", directory=logs, rotate_bytes=16384, flush_interval=60,
                   environ={})
burst(per)
for _ in range(episodes):
    probe = os.open(os.devnull, os.O_RDONLY)
    os.close(probe)
    resource.setrlimit(resource.RLIMIT_NOFILE, (probe, hard))   # no descriptor left
    burst(per)                  # rotation cannot open a new file
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    burst(per)
logtrace.shutdown()
print(json.dumps({"ops": n}))
"""
)


def test_no_file_descriptors_left_at_rotation_loses_nothing(tmp_path: Path) -> None:
    """RLIMIT_NOFILE exhausted when the file must rotate: writing goes on in the old file, then
    rotation resumes; no line is lost, torn or doubled."""
    episodes, per = scale(3, 20), scale(100, 400)
    result = run(FD_LIMIT, tmp_path, episodes, per)
    on_disk, dropped = _accounted(tmp_path / "logs", result["ops"])
    assert dropped == 0 and on_disk == 2 * result["ops"]
    record(
        Row(
            "fd_limit",
            f"{count(result['ops'])} operations, descriptors exhausted {episodes} times",
            faults=episodes,
            lost=2 * result["ops"] - on_disk,
        )
    )


# Destructive acts first, checked by the program itself through current_file(); then moves,
# whose lines must all be found (in the moved files and the folder).
MOVED = (
    PRELUDE
    + """
episodes, per = int(sys.argv[2]), int(sys.argv[3])
moved = Path(sys.argv[4])
logtrace.configure(service="moved", directory=logs, flush_interval=60, environ={})

def lines_of_current():
    return [json.loads(raw) for raw in logtrace.current_file().read_bytes().splitlines()]

def in_current(first, last):
    found = {line.get("n") for line in lines_of_current() if line.get("logger") == "app"}
    return set(range(first, last)) <= found

checks = []
burst(per)
for e in range(episodes):
    os.unlink(logtrace.current_file())               # deleted
    first = n; burst(per); checks.append(in_current(first, n))
    shutil.rmtree(logs)                                # the whole folder removed
    first = n; burst(per); checks.append(in_current(first, n))
    shutil.rmtree(logs); logs.write_text("in the way")  # blocked by a regular file
    first = n; burst(per)
    logs.unlink()
    burst(per)
    dropped = [l for l in lines_of_current() if l["event"] == "logtrace.dropped"]
    checks.append([d["dropped"] for d in dropped] == [2 * (n - first - per)])
    checks.append(in_current(n - per, n))
survive = n
for e in range(episodes):
    burst(per)
    logtrace.current_file().rename(moved / f"{e}.jsonl")  # moved away, as logrotate does
burst(per)
logtrace.shutdown()
print(json.dumps({"ops": n, "survive": survive, "checks": checks}))
"""
)


def test_live_file_moved_deleted_or_folder_removed_resumes_in_a_new_file(
    tmp_path: Path,
) -> None:
    """The live file deleted or moved away, the folder removed or replaced by a regular file:
    nothing raises, later lines land in a new file, lines of a moved file are all there, and
    what could not be written is counted."""
    episodes, per = scale(3, 20), scale(50, 400)
    moved = tmp_path / "moved"
    moved.mkdir()
    result = run(MOVED, tmp_path, episodes, per, moved)
    assert result["checks"] == [True] * 4 * episodes
    kept = read_back(tmp_path / "logs").user() + read_back(moved).user()
    ops = [line["n"] for line in kept if line["n"] >= result["survive"]]
    assert not once_each(ops)
    missing = set(range(result["survive"], result["ops"])) - set(ops)
    assert not missing
    record(
        Row(
            "moved_away",
            f"{count(result['ops'])} operations; deleted, removed, blocked, moved "
            f"{episodes} times each",
            faults=4 * episodes,
            lost=len(missing),
        )
    )


DELETED_UNDER_LOAD = (
    PRELUDE
    + """
logtrace.configure(service="gone", directory=logs, flush_interval=60, environ={})
burst(10)
os.unlink(logtrace.current_file())
first = n
for _ in range(40_000):     # past the queue's high-water mark: the writer wakes by itself
    slog.info("line", n=n)
    n += 1
logtrace.flush()
found = {json.loads(raw).get("n") for raw in logtrace.current_file().read_bytes().splitlines()}
logtrace.shutdown()
print(json.dumps({"missing": len(set(range(first, n)) - found)}))
"""
)


def test_lines_logged_after_the_live_file_is_deleted_are_kept_or_counted(
    tmp_path: Path,
) -> None:
    """After the live file is deleted, every line logged afterwards reaches the new file or is
    counted, also when the queue's high-water mark wakes the writer before its next check."""
    result = run(DELETED_UNDER_LOAD, tmp_path)
    assert result["missing"] == 0
