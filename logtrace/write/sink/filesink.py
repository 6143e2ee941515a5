"""The file sink: per-process rotating JSONL files, written off the hot path.

CONTRACT (used by ``_config.configure``; keep these names):

    settings = SinkSettings(directory=Path("logtrace"), service="svc", ...)
    sink = FileSink(settings, report)   # report(level, event, fields) -> bytes: a rendered line
    sink.start()                        # opens the file, starts the writer thread
    sink.write(line)                    # hot path: bytes without "\\n"; never raises, never waits
    sink.flush(timeout)                 # everything written so far reaches the file
    sink.close()                        # flush and stop; later writes are dropped and counted
    sink.path                           # the live file
    sink.pending = callable             # optional: () -> [line]: lines owed at each flush
    sink.count_failed(callable)         # optional: () -> int: lines the program failed to make

``write`` appends to a bounded deque and returns. A daemon writer thread joins what is queued and
hands it to ``os.write`` on a raw descriptor (no Python buffer, so a fork copies nothing
unwritten) every ``flush_interval``, and sooner when the queue passes a high-water mark. All
file work happens under one io lock that the hot path never takes. Failures are counted, said
once on stderr per episode, and written into the stream as soon as writing works again.
Process events (exit, SIGTERM, fork) are in ``hooks``, files in ``filekeeper``/``livefile``/
``rotation``, writing to the file and its failure accounting in ``filewriter``.
"""

from __future__ import annotations

import errno
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from logtrace.write.sink import hooks
from logtrace.write.sink.filekeeper import Report
from logtrace.write.sink.filewriter import LineWriter
from logtrace.write.sink.livefile import LiveFile
from logtrace.write.sink.owned_lock import OwnedLock
from logtrace.write.sink.settings import SinkSettings

__all__ = ["FileSink", "Report", "SinkSettings"]

# How long a line written through (flush="always", or at exit) waits for another thread's
# writing before it is queued for the next cycle instead.
_THROUGH_WAIT = 1.0


class FileSink(LineWriter):
    """Writes rendered lines to this process's rotating JSONL file, off the caller's thread."""

    def __init__(self, settings: SinkSettings, report: Report) -> None:
        self._settings = settings
        self._report = report
        self._host = socket.gethostname()
        self._block = settings.overflow == "block"
        self._high_water = max(1, settings.queue_size // 8)
        self._through = settings.flush == "always"
        self._started = False
        self._closed = False
        # Lines that are owed whenever the queue is written out at a flush, rendered on demand:
        # the start lines of the spans still open (``logtrace.write.tracer.open_spans``).
        self.pending: Callable[[], list[bytes]] | None = None
        # A running count of lines lost before they reached the sink (a processor raised):
        # ``count_failed``.
        self._failed: Callable[[], int] = _no_failures
        self._fresh_state()

    def _fresh_state(self) -> None:
        """Set up everything a forked child must not share with its parent."""
        self._queue: deque[bytes] = deque()
        # write() queues while the queue is shorter than this; -1 sends every line down the
        # slow path (write-through, closed).
        self._limit = -1 if self._through else self._settings.queue_size
        self._waking = False
        self._wake = threading.Event()
        # flush() calls waiting for the writer: each an empty list, its answer appended.
        self._asked: deque[list[bool]] = deque()
        self._room = threading.Condition()
        self._io_lock = OwnedLock()
        # Reentrant: a signal handler that logs may interrupt an increment made under it.
        self._count_lock = threading.RLock()
        self._writer: threading.Thread | None = None
        self._stopping = False
        self._jobs: list[threading.Thread] = []
        self._file: LiveFile | None = None
        self._last_path = self._settings.directory
        self._name_ms = 0
        self._rotate_failing = self._report_queue_drops = False
        self._failure: OSError | None = None  # the error of the current failure episode
        self._failure_at = ""
        self._lost = 0  # lines lost to write errors, not yet reported in the stream
        self._reported_queue = 0
        # A forked child reports only the lines it fails to make itself.
        self._reported_failed = self._failed()
        self._written = self._dropped_queue = self._dropped_write = self._dropped_closed = 0
        self._files_opened = self._files_rotated = self._files_compressed = 0
        self._write_errors = 0

    def count_failed(self, failed: Callable[[], int]) -> None:
        """Report, at each flush, the lines ``failed()`` (a running count) says were lost before
        they reached the sink, as a ``logtrace.dropped`` line (reason ``render_error``)."""
        self._failed = failed
        self._reported_failed = failed()

    @property
    def path(self) -> Path | None:
        """The file being written; None while no file could be opened or after ``close()``."""
        return None if self._file is None else self._file.path

    def write(self, line: bytes) -> None:
        """Queue one rendered line (bytes without a newline) for the file; never raises.

        Returns at once, except with ``overflow="block"`` when the queue is full (then waits up
        to ``block_timeout``) and with ``flush="always"`` (then writes the line itself).
        """
        queue = self._queue
        size = len(queue)
        if size < self._limit:
            # A new, right-sized object: orjson's result keeps a ~4 KiB buffer, and a queue of
            # those costs page faults and memory.
            queue.append(line + b"\n")
            if size >= self._high_water and not self._waking:
                self._waking = True
                self._wake.set()
            return
        self._write_slow(line)

    def write_ended(self, line: bytes) -> None:
        """``write`` of a line that ends with its newline already, in a bytes object of its
        own size (made by ``bytes.join`` or ``str.encode``, not by orjson): queued as it is,
        without the copy ``write`` makes. The common stdlib and span lines come this way."""
        queue = self._queue
        size = len(queue)
        if size < self._limit:
            queue.append(line)
            if size >= self._high_water and not self._waking:
                self._waking = True
                self._wake.set()
            return
        self._write_slow(line[:-1])

    def _write_slow(self, line: bytes) -> None:
        try:
            if self._closed:
                with self._count_lock:
                    self._dropped_closed += 1
            elif self._through and self._started:
                lock = self._io_lock
                if lock.held_here() or not lock.call(_THROUGH_WAIT, False, self._through_one, line):
                    # Logged by code running while this thread writes (a __repr__ rendered
                    # into a start line, a __del__, a signal handler), or the writing is
                    # stuck: the line waits for the cycle under way, or the next one, in the
                    # bounded queue.
                    if len(self._queue) < self._settings.queue_size:
                        self._queue.append(line + b"\n")
                    else:
                        with self._count_lock:
                            self._dropped_queue += 1
            elif len(self._queue) < self._settings.queue_size or (
                self._block and self._wait_for_room()
            ):
                self._queue.append(line + b"\n")
            else:
                with self._count_lock:
                    self._dropped_queue += 1
        except Exception:
            with self._count_lock:
                self._dropped_write += 1

    def _through_one(self, line: bytes) -> bool:
        """Under the io lock: write ``line`` through, with what is queued before it."""
        self._queue.append(line + b"\n")
        self._cycle(check=False)
        return True

    def _wait_for_room(self) -> bool:
        if self._writer is None or self._stopping:
            return False
        deadline = time.monotonic() + self._settings.block_timeout
        while len(self._queue) >= self._settings.queue_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._wake.set()
            with self._room:
                self._room.wait(min(remaining, 0.01))
        return True

    def start(self) -> None:
        """Open the first file and start the writer; in the background, compress the files of
        dead processes and apply retention."""
        if self._started or self._closed:
            return
        self._started = True
        self._io_lock.call(-1, None, self._open_first)
        self._start_writer()
        self._spawn(self._tidy, "logtrace-tidy")
        hooks.register(self)

    def _open_first(self) -> None:
        self._use(self._new_file())
        self._cycle(check=False)

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Write everything queued so far to the file; True if it all got there in time."""
        if not self._started or self._closed:
            return self._closed and not self._queue
        if self._io_lock.held_here():  # called by code the writing runs (a __repr__)
            return False
        written = self._flush_by_writer(timeout)
        if written is None:  # no writer to ask: this thread writes, under call() (a
            # KeyboardInterrupt landing there leaves the lock free)
            wait = -1 if timeout is None else timeout
            written = self._io_lock.call(wait, None, self._cycle, True)
            if written is None:
                return False
        self._notify_room()
        return written and self._failure is None

    def _flush_by_writer(self, timeout: float | None) -> bool | None:
        """Have the writer write out what is queued (and the lines owed) and answer whether it
        all got there. The calling thread only waits, without a lock: a KeyboardInterrupt (or
        any exception a signal handler raises) landing here interrupts the waiting, never the
        writing, and costs no line. None if there is no writer to ask; False if it did not
        answer within ``timeout`` seconds."""
        writer = self._writer
        if self._stopping or writer is None or writer is threading.current_thread():
            return None
        answer: list[bool] = []
        self._asked.append(answer)
        self._wake.set()
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        pause = 0.0001
        while not answer:
            if self._stopping or not writer.is_alive():
                return None
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.001)  # at most a millisecond late
        return answer[0]

    def close(self, timeout: float = 5.0) -> None:
        """Flush, stop the writer, close the file and wait (up to ``timeout`` in all) for
        compression; later writes are dropped and counted."""
        if self._closed or self._io_lock.held_here():
            return
        self._closed = True
        self._limit = -1
        deadline = time.monotonic() + timeout
        self._stop_writer(timeout)
        # Background work first: once closed, the file is fair game for a start-up scan.
        self._join_jobs(deadline)
        self._io_lock.call(max(0.0, deadline - time.monotonic()), None, self._close_file)
        self._notify_room()
        self._join_jobs(deadline)
        hooks.unregister(self)

    def _close_file(self) -> None:
        """Under the io lock: the last lines out, then the file closed."""
        if self._started:
            self._cycle(check=True, leave=0)
        if self._file is not None:
            self._file.close()
            self._file = None
        with self._count_lock:
            self._dropped_closed += len(self._queue)
        self._queue.clear()

    def stats(self) -> dict[str, int]:
        """Counters: lines written and dropped (by reason), files opened/rotated/compressed,
        failure episodes (``write_errors``) and lines waiting in the queue."""
        return {
            "written": self._written,
            "queued": len(self._queue),
            "dropped_queue": self._dropped_queue,
            "dropped_write": self._dropped_write,
            "dropped_closed": self._dropped_closed,
            "files_opened": self._files_opened,
            "files_rotated": self._files_rotated,
            "files_compressed": self._files_compressed,
            "write_errors": self._write_errors,
        }

    # -- process events (called by hooks) --------------------------------------------------

    def flush_at_exit(self, timeout: float) -> None:
        """Write out the queue and switch to write-through: the process is ending (atexit,
        SIGTERM, a multiprocessing child's exit), and later lines must not wait for a writer."""
        if self._closed or not self._started or self._io_lock.held_here():
            return
        self._through = True
        self._limit = -1
        deadline = time.monotonic() + timeout
        self._stop_writer(timeout)
        self._io_lock.call(max(0.0, deadline - time.monotonic()), None, self._cycle, False, True, 0)
        self._join_jobs(deadline)

    def after_fork_in_child(self) -> None:
        """In a forked child: forget the parent's queue and file (the parent writes those) and
        start this process's own file and writer."""
        inherited = self._file
        self._fresh_state()
        if inherited is not None:
            inherited.close()  # the parent's descriptor still holds the lock
        if self._started and not self._closed:
            with self._io_lock:
                self._use(self._new_file())
            self._start_writer()

    # -- the writer -----------------------------------------------------------------------------

    def _start_writer(self) -> None:
        self._stopping = False
        self._writer = threading.Thread(target=self._run, name="logtrace-writer", daemon=True)
        self._writer.start()

    def _stop_writer(self, timeout: float) -> None:
        self._stopping = True
        self._wake.set()
        writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout)

    def _run(self) -> None:
        interval = self._settings.flush_interval
        next_check = time.monotonic() + interval
        while not self._stopping:
            # A flush_interval of 1e20 s is finite, but past what a thread can wait.
            self._wake.wait(min(max(0.0, next_check - time.monotonic()), threading.TIMEOUT_MAX))
            self._wake.clear()
            self._waking = False
            if self._stopping:
                return
            asked = self._asked
            answers = [asked.popleft() for _ in range(len(asked))]
            now = time.monotonic()
            check = now >= next_check
            if check:
                next_check = now + interval
            with self._io_lock:
                if answers:  # flush() calls: what was queued before them, and the lines owed
                    written = self._cycle(True)
                else:
                    # Woken by the high-water mark between checks: lines written into a
                    # deleted file would be lost uncounted, so look now (one fstat, on this
                    # thread only).
                    live = self._file
                    written = self._cycle(
                        check or (live is not None and live.deleted()),
                        owed=check,
                        leave=self._high_water,
                    )
            for answer in answers:
                answer.append(written)
            self._notify_room()

    def _notify_room(self) -> None:
        if self._block:
            with self._room:
                self._room.notify_all()

    def _cycle(self, check: bool, owed: bool = True, leave: float = math.inf) -> bool:
        """Under the io lock: if ``check``, look after the file (reopen, rotate by age) and
        report queue drops; write out the lines queued, then those queued meanwhile until
        ``leave`` or fewer wait; if ``owed``, the ``pending`` lines (not on a high-water
        wake-up: only at a flush). True if every line it took reached the file."""
        try:
            self._report_queue_drops = check
            if check:
                self._check_file()
            # What is queued now, in one go (each write lets go of the GIL, and under load
            # getting it back can take a whole switch interval); what comes in meanwhile only
            # while more than ``leave`` lines wait. A writer that went on as long as a busy
            # program logs would take the GIL from it every switch interval (5 ms) until the
            # program stops; only a flood is worth that.
            queue, pop = self._queue, self._queue.popleft
            ok = self._write_lines([pop() for _ in range(len(queue))])
            while len(queue) > leave:
                ok = self._write_lines([pop() for _ in range(len(queue))]) and ok
            pending = self.pending
            # Only while writing works: otherwise the spans stay registered for the next flush.
            if owed and ok and pending is not None and self._failure is None:
                owed_lines = [line + b"\n" for line in pending()]
                if owed_lines:
                    ok = self._write_lines(owed_lines, counted=False)
                if not leave and queue:  # logged while they were rendered (a __repr__)
                    ok = self._write_lines([pop() for _ in range(len(queue))]) and ok
            if self._failure or self._lost or check:
                ok = self._write_lines([]) and ok  # notices owed, even without lines to carry
            return ok
        except Exception as exc:  # the writer must outlive anything
            self._fail("unexpected error in the writer", OSError(errno.EIO, repr(exc)))
            return False


def _no_failures() -> int:
    return 0
