"""Code of the program that logs while the sink is writing: a ``__repr__`` rendered into a
span's start line at a flush, a ``__del__`` run by the garbage collector, a signal handler.
Its line comes back to the sink on the thread that holds the io lock; it is queued for the
cycle under way, never waited for (each of these hung the process before)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[3]

# An attribute whose repr logs, as an ORM model's lazy load does.
LOGGING_REPR = """
import logging, sys, threading, time
import logtrace
log = logging.getLogger("orm")
class Model:
    def __repr__(self):
        log.info("lazy load")
        return "<User 1>"
"""


def _start(code: str, directory: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), str(directory)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _events(directory: Path) -> list[dict[str, object]]:
    return [
        orjson.loads(line)
        for path in sorted(directory.rglob("*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def test_exit_with_an_open_span_whose_attribute_logs_in_its_repr(tmp_path: Path) -> None:
    """At exit the open span's start line is rendered under the io lock, written through: its
    attribute's repr logs. The process exits 0 (it hung), with both lines on disk."""
    child = _start(
        LOGGING_REPR
        + """
logtrace.configure(service="x", directory=sys.argv[1], environ={})
logtrace.span("request", user=Model()).__enter__()
sys.exit(0)
""",
        tmp_path,
    )
    _out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err.decode()
    events = _events(tmp_path)
    (start,) = [e for e in events if e.get("span") == "start"]
    assert start["user"] == "<User 1>"
    assert any(e["event"] == "lazy load" for e in events)


def test_flush_always_with_a_destructor_that_logs(tmp_path: Path) -> None:
    """flush="always" writes each line on the caller's thread under the io lock; a __del__
    run by the collector meanwhile logs. Every line is written and the loop ends (it hung
    within seconds)."""
    child = _start(
        """
import gc, logging, sys
import logtrace
logtrace.configure(service="x", directory=sys.argv[1], environ={}, flush="always")
log = logging.getLogger("db")
gc.set_threshold(50, 1, 1)
class Connection:
    def __init__(self):
        self.me = self  # a cycle: only the collector frees it, at any allocation
    def __del__(self):
        log.info("connection closed")
for i in range(3000):
    Connection()
    log.info("query %d", i)
logtrace.shutdown()
""",
        tmp_path,
    )
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err.decode()
    events = [e["event"] for e in _events(tmp_path)]
    assert sum(e.startswith("query ") for e in events) == 3000
    assert events.count("connection closed") > 100


def test_sigterm_while_an_open_span_logs_in_its_repr(tmp_path: Path) -> None:
    """SIGTERM's flush renders a thread's open span, whose repr logs on the flush thread: the
    process still ends by SIGTERM (it lived on, every thread that logged blocked forever)."""
    child = _start(
        LOGGING_REPR
        + """
logtrace.configure(service="x", directory=sys.argv[1], environ={})
entered = threading.Event()
def handler():
    with logtrace.span("request", user=Model()):
        entered.set()
        time.sleep(60)
threading.Thread(target=handler, daemon=True).start()
entered.wait(30)  # the span is open before the signal comes
print("ready", flush=True)
for i in range(1200):
    time.sleep(0.05)
    log.info("tick %d", i)
""",
        tmp_path,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGTERM
    events = _events(tmp_path)
    assert any(e.get("span") == "start" and e.get("user") == "<User 1>" for e in events)


def test_ctrl_c_during_flush_never_leaves_the_io_lock_held(tmp_path: Path) -> None:
    """SIGINT, again and again, while the main thread logs and calls flush(): its
    KeyboardInterrupt lands between any two bytecodes, some of them between the io lock being
    taken and let go of, or inside the writing (now the writer's: flush() only waits). Every
    line reaches the file all the same (a lock left held stopped the writer for good, and
    every later line was lost uncounted; lines taken for writing were lost), or is dropped and
    counted when the queue is full."""
    child = _start(
        """
import logging, os, signal, sys, threading, time
import logtrace
logtrace.configure(service="x", directory=sys.argv[1], environ={}, flush_interval=0.05)
log = logging.getLogger("cli")
log.propagate = False
log.addHandler(logging.NullHandler())
stop = threading.Event()
armed = False
def on_sigint(signum, frame):
    # Ctrl-C's KeyboardInterrupt, raised only inside the try below (once an arming), so that
    # it lands in the logging and flush() code and never in the test's own loop.
    global armed
    if armed:
        armed = False
        raise KeyboardInterrupt
signal.signal(signal.SIGINT, on_sigint)
def ctrl_c():
    while not stop.is_set():
        time.sleep(0.0013)
        os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=ctrl_c, daemon=True).start()
logged = interrupts = 0
until = time.monotonic() + 2
while time.monotonic() < until or interrupts < 200:
    try:
        armed = True
        for _ in range(50):
            log.warning("line")
            logged += 1
        logtrace.flush()
        armed = False
    except KeyboardInterrupt:
        interrupts += 1
signal.signal(signal.SIGINT, signal.SIG_IGN)
stop.set()
logtrace.flush()  # the queue drained, the last line has room
log.warning("last")
logtrace.shutdown()
print(logged, interrupts)
""",
        tmp_path,
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err.decode()
    logged, interrupts = map(int, out.split())
    assert interrupts >= 200
    events = _events(tmp_path)
    lines = [e for e in events if e["event"] == "line"]
    # A writer starved on a loaded machine may fill the queue: those lines are dropped and
    # counted in the log itself, never lost uncounted (as behind a lock left held).
    drops = [e for e in events if e["event"] == "logtrace.dropped"]
    assert {e["reason"] for e in drops} <= {"queue_full"}
    dropped = sum(e["dropped"] for e in drops)
    assert any(e["event"] == "last" for e in events)  # the writer still writes after it all
    # A KeyboardInterrupt may land between a line and its count: one line more at most each.
    assert logged <= len(lines) + dropped <= logged + interrupts
