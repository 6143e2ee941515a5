"""Fork, multiprocessing children, SIGTERM and exit: nothing lost, nothing written twice."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import orjson
from _sink_fixtures import read_files, run_child, start_child, user_lines

from logtrace.format.fields import FILE_EVENT

FORKING = """
sink = FileSink(SinkSettings(directory=directory, service="fork", flush_interval=60), report)
sink.start()
def log(who, count):
    for i in range(count):
        sink.write(orjson.dumps({"event": who, "logger": "test", "pid": os.getpid(), "i": i}))
log("before", 500)  # still queued at the fork: the parent's to write, not the child's
pid = os.fork()
if pid == 0:
    log("child", 300)
    sys.exit(0)  # atexit writes the child's queue
os.waitpid(pid, 0)
log("after", 200)
sink.close()
print(pid)
"""


def test_a_forked_child_writes_its_own_file_and_the_parents_is_complete(tmp_path: Path) -> None:
    """After os.fork(), the child writes only its own lines to its own file; the parent's file
    has all of the parent's lines, including those still queued at the fork; nothing twice."""
    child_pid = int(run_child(FORKING, tmp_path).stdout)
    files = read_files(tmp_path)
    assert len(files) == 2
    by_pid: dict[int, list[tuple[str, int]]] = {}
    for lines in files.values():
        assert lines[0]["event"] == FILE_EVENT
        assert len({entry["pid"] for entry in lines}) == 1
        for entry in lines[1:]:
            by_pid.setdefault(entry["pid"], []).append((entry["event"], entry["i"]))
    parent = [pid for pid in by_pid if pid != child_pid]
    assert by_pid[child_pid] == [("child", i) for i in range(300)]
    assert by_pid[parent[0]] == [("before", i) for i in range(500)] + [
        ("after", i) for i in range(200)
    ]


MULTIPROCESSING = """
sink = FileSink(SinkSettings(directory=directory, service="pool", flush_interval=60), report)
sink.start()
import multiprocessing  # after start: the fork hook still finds it

def task(n):
    sink.write(orjson.dumps({"event": "task", "logger": "test", "n": n, "pid": os.getpid()}))
    return os.getpid()

def process_main(n):
    task(n)  # no flush: the child ends through multiprocessing's exit, not atexit

if __name__ == "__main__":
    context = multiprocessing.get_context("fork")
    with context.Pool(2, maxtasksperchild=5) as pool:
        workers = set(pool.map(task, range(40), chunksize=1))
        pool.close()
        pool.join()
    process = context.Process(target=process_main, args=(100,))
    process.start()
    process.join()
    sink.close()
    print(len(workers))
"""


def test_multiprocessing_fork_children_flush_at_their_exit(tmp_path: Path) -> None:
    """Pool workers (recycled by maxtasksperchild) and Process children started with fork
    write every line, though multiprocessing ends them with os._exit."""
    workers = int(run_child(MULTIPROCESSING, tmp_path).stdout)
    lines = user_lines(tmp_path)
    assert sorted(entry["n"] for entry in lines) == [*range(40), 100]
    assert len({entry["pid"] for entry in lines}) >= workers > 2


# A sink with 1000 lines queued (none written: the flush interval is an hour).
QUEUED = """
sink = FileSink(SinkSettings(directory=directory, service="term", flush_interval=3600), report)
sink.start()
for i in range(1000):
    sink.write(orjson.dumps({"event": "queued", "logger": "test", "i": i}))
"""

TERMINATED = (
    QUEUED
    + """
def say_ready():
    # Once the main thread is asleep in the kernel: a SIGTERM that came before time.sleep()
    # entered it would wait for the sleep to end (CPython runs a handler between bytecodes,
    # and nothing interrupts a sleep begun after the signal), whatever logtrace does.
    wchan = f"/proc/self/task/{threading.main_thread().native_id}/wchan"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if "nanosleep" in open(wchan).read():
                break
        except OSError:
            break  # no /proc: say it now
        time.sleep(0.01)
    print("ready", flush=True)

threading.Thread(target=say_ready, daemon=True).start()
time.sleep(120)
"""
)

STUCK = (
    QUEUED
    + """
import ctypes
libc = ctypes.CDLL(None)
command = b"echo ready; sleep 7"  # ready once the main thread is in native code
while True:
    # Native code that retries on EINTR (glibc's system waits so), the GIL released: a main
    # thread that does not get back to Python for longer than the flush thread waits for it.
    libc.system(command)
    command = b"sleep 7"
"""
)


def assert_sigterm_writes_the_queue_and_ends_by_sigterm(
    code: str, tmp_path: Path, timeout: float
) -> None:
    """SIGTERM once the child of ``code`` (QUEUED, then "ready") is ready: within ``timeout``
    seconds it ends by SIGTERM, with every queued line in its file."""
    child = start_child(code, tmp_path)
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=timeout)
    assert child.returncode == -signal.SIGTERM
    assert [entry["i"] for entry in user_lines(tmp_path)] == list(range(1000))


def test_sigterm_writes_the_queue_then_ends_the_process_as_sigterm(tmp_path: Path) -> None:
    """SIGTERM (default action before start) writes what is queued, then still terminates."""
    assert_sigterm_writes_the_queue_and_ends_by_sigterm(TERMINATED, tmp_path, timeout=30)


def test_sigterm_ends_the_process_by_sigterm_when_the_main_thread_is_stuck(
    tmp_path: Path,
) -> None:
    """The main thread runs the handler (between two native calls), the queue is written, and
    the main thread is back in native code when the flush is done: the process still ends by
    SIGTERM (the flush thread gives SIGTERM its default action itself), not by os._exit."""
    assert_sigterm_writes_the_queue_and_ends_by_sigterm(STUCK, tmp_path, timeout=60)


# The main thread waits for good on a lock (a Pool worker on its queue's lock that
# Pool.terminate holds) and the SIGTERM is taken by another thread: the kernel may hand a
# process's signal to any thread, and one that comes just before the main thread blocks is
# the same. CPython's C handler notes it, but the main thread never gets back to Python to run
# the handler; without one, SIGTERM's default action would have ended the process.
STRANDED = (
    QUEUED
    + """
import signal
held = threading.Lock()
held.acquire()
def sigterm_taken_here():
    wchan = f"/proc/self/task/{threading.main_thread().native_id}/wchan"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if "futex" in open(wchan).read():
                break
        except OSError:
            break
        time.sleep(0.01)
    print("ready", flush=True)
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
threading.Thread(target=sigterm_taken_here, daemon=True).start()
held.acquire()
"""
)


def test_sigterm_taken_by_another_thread_still_ends_the_process(tmp_path: Path) -> None:
    """A SIGTERM whose handler the main thread never gets to run (it waits on a lock for
    good) is still seen: the queue is written and the process ends by SIGTERM, not hangs."""
    child = start_child(STRANDED, tmp_path)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        child.communicate(timeout=30)
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGTERM
    assert [entry["i"] for entry in user_lines(tmp_path)] == list(range(1000))


BIG_QUEUE = """
sink = FileSink(
    SinkSettings(directory=directory, service="burst", flush_interval=3600, queue_size=400_000),
    report,
)
sink.start()
line = orjson.dumps({"event": "queued", "logger": "test", "pad": "x" * 200})
for i in range(300_000):
    sink.write(line)
print("ready", flush=True)
time.sleep(120)
"""


def test_a_burst_of_sigterms_still_ends_the_process(tmp_path: Path) -> None:
    """SIGTERMs arriving while the first one flushes (Pool.terminate) never hang the process."""
    child = start_child(BIG_QUEUE, tmp_path)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 20
        while child.poll() is None and time.monotonic() < deadline:
            child.send_signal(signal.SIGTERM)
            time.sleep(0.0005)
        assert child.poll() == -signal.SIGTERM, "the process hung in its SIGTERM handler"
    finally:
        child.kill()
        child.communicate()


EXITING = """
import atexit, signal
def late():
    sink.write(orjson.dumps({"event": "late", "logger": "test", "i": -1}))
atexit.register(late)  # runs after the sink's own exit hook (atexit is last in, first out)
def mine(signum, frame):
    pass
signal.signal(signal.SIGTERM, mine)
sink = FileSink(SinkSettings(directory=directory, service="exit", flush_interval=3600), report)
sink.start()
assert signal.getsignal(signal.SIGTERM) is mine
for i in range(1000):
    sink.write(orjson.dumps({"event": "queued", "logger": "test", "i": i}))
"""


def test_exit_writes_the_queue_and_lines_logged_later_in_shutdown(tmp_path: Path) -> None:
    """A normal exit without close() writes the queue, and lines logged by atexit handlers
    that run later still reach the file; a SIGTERM handler of the program's is left alone."""
    run_child(EXITING, tmp_path)
    assert [entry["i"] for entry in user_lines(tmp_path)] == [*range(1000), -1]


def test_no_line_is_written_twice_across_files(tmp_path: Path) -> None:
    """Fork, pool and exit together: no raw line appears in two files or twice in one."""
    run_child(FORKING, tmp_path)
    run_child(MULTIPROCESSING, tmp_path)
    counts = Counter(
        orjson.dumps(entry)
        for lines in read_files(tmp_path).values()
        for entry in lines
        if entry["logger"] == "test"
    )
    assert counts and max(counts.values()) == 1
