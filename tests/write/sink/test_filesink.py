"""FileSink: lines reach per-process files whole, once, in order, whatever happens around them."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from _sink_fixtures import (
    CHILD_PRELUDE,
    ROOT,
    events,
    log_files,
    raw_lines,
    read_files,
    report,
    run_child,
    settings,
    start_child,
    user_lines,
)

from logtrace.format.fields import DROPPED_EVENT, FILE_EVENT, FILE_NAME_PATTERN, WRITE_ERROR_EVENT
from logtrace.write.sink.filesink import FileSink


def line(**fields: object) -> bytes:
    return orjson.dumps({"event": "work", "logger": "test", **fields})


# The sink's two ways in: a line without its newline, and one that ends with it.
WAYS_IN = pytest.mark.parametrize("way_in", ["write", "write_ended"])


def put(sink: FileSink, way_in: str, data: bytes) -> None:
    if way_in == "write":
        sink.write(data)
    else:
        sink.write_ended(data + b"\n")


def test_first_line_is_the_file_header_then_lines_in_order(tmp_path: Path) -> None:
    """A file starts with a logtrace.file line (format, host, argv, python), then the lines,
    those given with their newline (write_ended) among them, each once, in order."""
    sink = FileSink(settings(tmp_path, service="my service/1"), report)
    sink.start()
    for i in range(100):
        put(sink, "write_ended" if i % 3 else "write", line(i=i))
    assert sink.flush()
    raw = raw_lines(sink.path)  # type: ignore[arg-type]
    assert all(entry and not entry.endswith(b"\n") for entry in raw)
    lines = [orjson.loads(entry) for entry in raw]
    sink.close()
    header = lines[0]
    assert header["event"] == FILE_EVENT and header["logger"] == "logtrace"
    assert header["format"] == 2 and header["host"] and header["python"]
    assert isinstance(header["argv"], list)
    assert [entry["i"] for entry in lines[1:]] == list(range(100))


def test_file_name_carries_service_host_pid_and_opening_time(tmp_path: Path) -> None:
    """Files are <dir>/<day>/<service>_<host>_<pid>_<time>.jsonl with sanitised service."""
    sink = FileSink(settings(tmp_path, service="my service_1/x"), report)
    sink.start()
    path = sink.path
    sink.close()
    assert path is not None and path.parent.parent == tmp_path
    match = re.fullmatch(FILE_NAME_PATTERN, path.name)
    assert match and match["service"] == "my-service-1-x" and match["pid"] == str(os.getpid())
    assert (
        path.parent.name == f"{match['opened'][:4]}-{match['opened'][4:6]}-{match['opened'][6:8]}"
    )


@pytest.mark.parametrize(("umask", "modes"), [(0o000, (0o600, 0o700)), (0o077, (0o640, 0o750))])
def test_modes_are_exact_whatever_the_umask(
    tmp_path: Path, umask: int, modes: tuple[int, int]
) -> None:
    """Files and the folders the sink creates get exactly file_mode/dir_mode; umask is ignored."""
    old = os.umask(umask)
    try:
        directory = tmp_path / "a" / "b"
        sink = FileSink(settings(directory, file_mode=modes[0], dir_mode=modes[1]), report)
        sink.start()
        path = sink.path
        sink.close()
    finally:
        os.umask(old)
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == modes[0]
    for folder in (tmp_path / "a", directory, path.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == modes[1]


CONCURRENT_WRITER = """
count = int(sys.argv[2])
sink = FileSink(SinkSettings(directory=directory, service="load", rotate_bytes=150_000,
                             queue_size=4000, overflow="block", block_timeout=60), report)
sink.start()
def work(thread):
    for i in range(count):
        sink.write(orjson.dumps({"event": "work", "logger": "test", "pid": os.getpid(),
                                 "thread": thread, "i": i}))
threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for t in threads: t.start()
for t in threads: t.join()
sink.close()
print(orjson.dumps(sink.stats()).decode())
"""


def test_eight_processes_four_threads_write_every_line_once(tmp_path: Path) -> None:
    """8 processes x 4 threads into one folder: every line once, parseable, in its own file."""
    count = 2500
    children = [start_child(CONCURRENT_WRITER, tmp_path, str(count)) for _ in range(8)]
    pids = set()
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
        stats = json.loads(out)
        assert stats["written"] == 4 * count and stats["dropped_queue"] == 0
        pids.add(child.pid)
    seen = Counter()
    for path, lines in read_files(tmp_path).items():
        assert lines[0]["event"] == FILE_EVENT
        assert {entry["pid"] for entry in lines} == {int(path.name.split("_")[2].split(".")[0])}
        seen.update((e["pid"], e["thread"], e["i"]) for e in lines if e["logger"] == "test")
    expected = {(pid, t, i) for pid in pids for t in range(4) for i in range(count)}
    assert set(seen) == expected
    assert max(seen.values()) == 1
    assert sum(p.name.endswith(".zst") for p in log_files(tmp_path)) >= 8


SIGKILLED_WRITER = """
sink = FileSink(SinkSettings(directory=directory, service="killed", flush_interval=0.01,
                             rotate_bytes=1 << 40), report)
sink.start()
for i in range(5000):
    sink.write(orjson.dumps({"event": "before", "logger": "test", "i": i, "pad": "x" * 100}))
sink.flush()
print(sink.path, flush=True)
i = 0
while True:
    i += 1
    sink.write(orjson.dumps({"event": "after", "logger": "test", "i": i, "pad": "x" * 100}))
"""


def test_sigkill_after_flush_keeps_everything_flushed(tmp_path: Path) -> None:
    """After flush() returns, SIGKILL loses none of those lines; at most the last line is torn."""
    child = start_child(SIGKILLED_WRITER, tmp_path)
    assert child.stdout is not None
    path = Path(child.stdout.readline().decode().strip())
    time.sleep(0.2)  # let the writer be busy with later lines when the kill lands
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    raws = path.read_bytes().split(b"\n")
    if raws[-1] == b"":
        raws.pop()
    parsed = [orjson.loads(raw) for raw in raws[:-1]]
    with contextlib.suppress(orjson.JSONDecodeError):  # the one torn line allowed
        parsed.append(orjson.loads(raws[-1]))
    before = [entry["i"] for entry in parsed if entry["event"] == "before"]
    assert before == list(range(5000))
    after = [entry["i"] for entry in parsed if entry["event"] == "after"]
    assert after == sorted(set(after))  # in order, once each (a full queue drops some)


def test_rotation_under_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """Size rotation while 4 threads write: every line once; rotated files are valid JSONL."""
    # A small queue (blocking, so nothing drops) keeps batches small: many rotations.
    tight = {"queue_size": 2000, "overflow": "block", "block_timeout": 60}
    sink = FileSink(settings(tmp_path, rotate_bytes=64_000, **tight), report)
    sink.start()

    def work(thread: int) -> None:
        for i in range(20_000):
            sink.write(line(thread=thread, i=i))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    stats = sink.stats()
    files = log_files(tmp_path)
    assert [p.name.endswith(".zst") for p in files].count(False) == 1
    assert stats["files_rotated"] == stats["files_compressed"] == len(files) - 1 > 5
    seen = Counter((e["thread"], e["i"]) for e in user_lines(tmp_path))
    assert set(seen) == {(t, i) for t in range(4) for i in range(20_000)}
    assert max(seen.values()) == 1
    by_thread: dict[int, list[int]] = {}
    for entry in user_lines(tmp_path):
        by_thread.setdefault(entry["thread"], []).append(entry["i"])
    assert all(order == list(range(20_000)) for order in by_thread.values())


@pytest.mark.tools("zstd")
def test_rotated_files_read_with_the_zstd_command(tmp_path: Path) -> None:
    """`zstd -dc` turns every rotated file back into the JSONL that zstandard reads."""
    sink = FileSink(settings(tmp_path, rotate_bytes=10_000), report)
    sink.start()
    for i in range(3000):
        sink.write(line(i=i))
    sink.close()
    rotated = [p for p in log_files(tmp_path) if p.name.endswith(".zst")]
    assert rotated
    for path in rotated:
        out = subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout
        assert out.splitlines() == raw_lines(path)
        assert all(orjson.loads(raw) for raw in out.splitlines())


def test_rotation_by_age_starts_a_new_file(tmp_path: Path) -> None:
    """A file older than rotate_seconds that has lines is rotated at the next check."""
    sink = FileSink(settings(tmp_path, rotate_seconds=0.05, flush_interval=60), report)
    sink.start()
    first = sink.path
    sink.write(line(i=1))
    assert sink.flush()
    time.sleep(0.1)
    assert sink.flush()
    second = sink.path
    sink.close()
    assert second != first
    assert Path(f"{first}.zst").exists() and not first.exists()  # type: ignore[union-attr]


@WAYS_IN
def test_a_full_queue_drops_the_newest_and_says_how_many(tmp_path: Path, way_in: str) -> None:
    """Lines beyond queue_size are dropped, counted, and reported as a queue_full event."""
    sink = FileSink(settings(tmp_path, queue_size=10, flush_interval=60), report)
    for i in range(15):  # not started: nothing drains the queue
        put(sink, way_in, line(i=i))
    sink.start()
    assert sink.flush()
    sink.close()
    assert [entry["i"] for entry in user_lines(tmp_path)] == list(range(10))
    [dropped] = events(tmp_path, DROPPED_EVENT)
    assert dropped["dropped"] == 5 and dropped["reason"] == "queue_full"
    assert sink.stats()["dropped_queue"] == 5


def test_block_overflow_waits_for_room_instead_of_dropping(tmp_path: Path) -> None:
    """overflow="block" with a tiny queue: writers wait for the writer, nothing is dropped."""
    sink = FileSink(settings(tmp_path, queue_size=50, overflow="block", block_timeout=30), report)
    sink.start()

    def work(thread: int) -> None:
        for i in range(5000):
            sink.write(line(thread=thread, i=i))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    assert sink.stats()["dropped_queue"] == 0
    assert len(user_lines(tmp_path)) == 15_000


# A busy program on slow storage: ~1 ms of CPU between lines, for a few seconds.
BUSY_ON_SLOW_STORAGE = """
import json, os
sink = FileSink(SinkSettings(directory=directory, service="slow", flush_interval=0.25), report)
sink.start()
started = time.monotonic()
for i in range(3000):
    acc = 0
    for j in range(int(sys.argv[2])):
        acc = (acc * 31 + j) & 0xFFFFFFFF
    sink.write(orjson.dumps({"event": "work", "logger": "test", "i": i, "acc": acc}))
elapsed = time.monotonic() - started
sink.close()
print(json.dumps({"elapsed": elapsed, "written": sink.stats()["written"]}))
"""


@pytest.mark.tools("strace")
def test_on_slow_storage_the_writer_writes_once_a_flush_not_once_a_switch_interval(
    tmp_path: Path,
) -> None:
    """Each write lets the GIL go; with storage that takes 2 ms a write (strace injects the
    delay into every writev), a busy program has queued more lines by the time the writer gets
    the GIL back. The writer takes what is queued when it wakes and sleeps again: a few writes
    a flush interval, not one every switch interval (5 ms) for as long as the program logs,
    each taking the GIL from it."""
    trace = tmp_path / "strace.out"
    command = [
        "strace", "-f", "-qq", "-o", str(trace),
        "-e", "trace=writev", "-e", "inject=writev:delay_exit=2000",
        sys.executable, "-c", CHILD_PRELUDE + BUSY_ON_SLOW_STORAGE, str(tmp_path / "logs"),
        str(_iterations_per_ms()),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 and b"ptrace" in done.stderr:
        pytest.skip(f"strace cannot trace here: {done.stderr.decode().strip()}")
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout.decode().splitlines()[-1])
    assert result["written"] == 3000
    writes = trace.read_text().count("writev(")
    flushes = result["elapsed"] / 0.25
    # The header, a write a flush (two when a flush meets the high-water mark), the close.
    assert writes <= 2 * flushes + 4, f"{writes} writes in {flushes:.0f} flush intervals"
    assert len(user_lines(tmp_path / "logs")) == 3000


def _iterations_per_ms() -> int:
    """Iterations of the children's CPU loop that take about 1 ms here."""
    iterations, started = 20_000, time.perf_counter()
    acc = 0
    for j in range(iterations):
        acc = (acc * 31 + j) & 0xFFFFFFFF
    return max(1, round(iterations * 0.001 / (time.perf_counter() - started)))


@WAYS_IN
def test_flush_always_writes_each_line_before_write_returns(tmp_path: Path, way_in: str) -> None:
    """flush="always": the line is in the file when write() returns, without flush()."""
    sink = FileSink(settings(tmp_path, flush="always", flush_interval=60), report)
    sink.start()
    put(sink, way_in, line(i=1))
    on_disk = raw_lines(sink.path)  # type: ignore[arg-type]
    sink.close()
    assert orjson.loads(on_disk[-1])["i"] == 1


@WAYS_IN
def test_writes_after_close_are_dropped_and_counted(tmp_path: Path, way_in: str) -> None:
    """After close(), write() does nothing but count the line as dropped_closed."""
    sink = FileSink(settings(tmp_path), report)
    sink.start()
    sink.close()
    put(sink, way_in, line(i=1))
    assert sink.stats()["dropped_closed"] == 1
    assert user_lines(tmp_path) == []


def test_a_failing_report_function_costs_only_the_header(tmp_path: Path) -> None:
    """If report() raises, files have no header line, but user lines are still written."""

    def broken(level: str, event: str, fields: object) -> bytes:
        raise RuntimeError("boom")

    sink = FileSink(settings(tmp_path), broken)
    sink.start()
    sink.write(line(i=1))
    sink.close()
    assert [orjson.loads(raw)["i"] for raw in raw_lines(log_files(tmp_path)[0])] == [1]


def test_unwritable_directory_counts_lines_and_reports_them_when_it_clears(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A directory that cannot be created (parent is a file, root too): nothing raises, one
    stderr line, lines counted, and a write_error + dropped event once it can be created."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    sink = FileSink(settings(blocker / "logs", flush_interval=60), report)
    sink.start()
    for attempt in range(3):
        for i in range(10):
            sink.write(line(i=i, attempt=attempt))
        assert not sink.flush()
    assert sink.path is None and sink.stats()["dropped_write"] == 30
    blocker.unlink()
    sink.write(line(i=99))
    assert sink.flush()
    sink.close()
    said = [text for text in capfd.readouterr().err.splitlines() if text.startswith("logtrace:")]
    assert len(said) == 1 and "blocker" in said[0]
    [error] = events(blocker / "logs", WRITE_ERROR_EVENT)
    assert error["error_type"] == "NotADirectoryError" and "blocker" in error["path"]
    [dropped] = events(blocker / "logs", DROPPED_EVENT)
    assert dropped["dropped"] == 30 and dropped["reason"] == "write_error"
    assert [entry["i"] for entry in user_lines(blocker / "logs")] == [99]


@pytest.mark.skipif(os.geteuid() == 0, reason="root creates folders in a 0500 folder regardless")
def test_read_only_parent_counts_lines_and_resumes(tmp_path: Path) -> None:
    """A parent folder chmod 0500: lines are counted, then reported once it is writable."""
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o500)
    sink = FileSink(settings(parent / "logs", flush_interval=60), report)
    try:
        sink.start()
        sink.write(line(i=1))
        assert not sink.flush()
    finally:
        parent.chmod(0o700)
    sink.write(line(i=2))
    assert sink.flush()
    sink.close()
    assert [entry["i"] for entry in user_lines(parent / "logs")] == [2]
    [dropped] = events(parent / "logs", DROPPED_EVENT)
    assert dropped["dropped"] == 1 and dropped["reason"] == "write_error"


@pytest.mark.parametrize("how", ["deleted", "moved"])
def test_a_live_file_deleted_or_moved_is_replaced(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], how: str
) -> None:
    """If the live file's name stops leading to it, the next check opens a new file, says so
    once on stderr and writes a write_error event there; later lines go to the new file."""
    sink = FileSink(settings(tmp_path, flush_interval=60), report)
    sink.start()
    sink.write(line(i=1))
    assert sink.flush()
    first = sink.path
    assert first is not None
    if how == "deleted":
        first.unlink()
    else:
        first.rename(tmp_path / "elsewhere.jsonl")
    sink.write(line(i=2))
    assert sink.flush()
    sink.write(line(i=3))
    assert sink.flush()
    second = sink.path
    sink.close()
    assert second is not None and second != first
    lines = [orjson.loads(raw) for raw in raw_lines(second)]
    assert [entry.get("i") for entry in lines if entry["logger"] == "test"] == [2, 3]
    assert [entry["event"] for entry in lines][:2] == [FILE_EVENT, WRITE_ERROR_EVENT]
    said = [text for text in capfd.readouterr().err.splitlines() if text.startswith("logtrace:")]
    assert len(said) == 1


def test_a_live_file_deleted_between_checks_is_replaced_before_the_writer_writes(
    tmp_path: Path,
) -> None:
    """Woken by the queue's high-water mark long before its next check, the writer still sees
    that the live file was deleted and writes into a new file, not into the deleted one."""
    sink = FileSink(settings(tmp_path, queue_size=80, flush_interval=60), report)
    sink.start()
    first = sink.path
    assert first is not None
    first.unlink()
    for i in range(20):  # past the high-water mark (queue_size // 8)
        sink.write(line(i=i))
    deadline = time.monotonic() + 10
    while sink.path == first and time.monotonic() < deadline:
        time.sleep(0.01)
    second = sink.path
    sink.close()
    assert second is not None and second != first
    lines = [orjson.loads(raw) for raw in raw_lines(second)]
    assert [entry.get("i") for entry in lines if entry["logger"] == "test"] == list(range(20))


FILE_SIZE_LIMITED = """
import resource
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
sink = FileSink(SinkSettings(directory=directory, service="full", flush_interval=60), report)
sink.start()
total = 0
def burst(count, size):
    global total
    for _ in range(count):
        sink.write(orjson.dumps({"event": "work", "logger": "test", "n": total, "pad": "x" * size}))
        total += 1
    sink.flush()
for round in range(30):
    burst(20, 50)
burst(400, 100)        # one batch bigger than any file may be: lost, counted
for round in range(30):
    burst(20, 50)
sink.close()
print(orjson.dumps({"total": total, **sink.stats()}).decode())
"""


def test_a_file_size_limit_never_raises_and_losses_are_reported(tmp_path: Path) -> None:
    """Under RLIMIT_FSIZE, writing goes on in new files, nothing raises, and every line is
    either on disk or counted in a logtrace.dropped event written once writing resumed."""
    child = run_child(FILE_SIZE_LIMITED, tmp_path)
    stats = json.loads(child.stdout)
    written = user_lines(tmp_path)
    dropped = events(tmp_path, DROPPED_EVENT)
    assert [event["reason"] for event in dropped] == ["write_error"]
    assert dropped[0]["dropped"] == stats["dropped_write"] == 400
    assert len(written) + dropped[0]["dropped"] == stats["total"] == 1600
    assert len({entry["n"] for entry in written}) == len(written)
    assert all(path.stat().st_size <= 20_000 for path in log_files(tmp_path))
    said = [text for text in child.stderr.decode().splitlines() if text.startswith("logtrace:")]
    assert len(said) == 1 and "File too large" in said[0]


def test_a_flush_interval_past_what_a_wait_can_take_keeps_the_writer(tmp_path: Path) -> None:
    """flush_interval=1e20 (LOGTRACE_FLUSH_INTERVAL=1e20): finite, but longer than a thread can
    wait; the writer thread lives on and writes at the high-water mark instead of dying of an
    OverflowError."""
    died: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda hook: died.append(hook.exc_value)
    try:
        sink = FileSink(settings(tmp_path, flush_interval=1e20, queue_size=16), report)
        sink.start()
        for i in range(10):
            sink.write(line(i=i))
        deadline = time.monotonic() + 10
        while len(user_lines(tmp_path)) < 2 and time.monotonic() < deadline and not died:
            time.sleep(0.01)
        sink.close()
    finally:
        threading.excepthook = previous
    assert died == []
    assert [entry["i"] for entry in user_lines(tmp_path)] == list(range(10))
