"""The writing side of the file sink: lines appended to the live file, with the notices owed.

``LineWriter`` is the part of ``FileSink`` that appends what a cycle took from the queue to the
live file, under the sink's io lock: the lines as they are, handed to ``writev`` (not joined
first: ``LiveFile.append``), rotated before a file would pass ``rotate_bytes`` (and when it
cannot grow: ``EFBIG``). It keeps the failure accounting: lines lost to write errors are
counted, the first error of an episode is said once on stderr, and the notices owed
(``logtrace.write_error``, ``logtrace.dropped`` with its reason) go into the stream ahead of the
next lines that get there.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from logtrace.format.fields import (
    DROPPED,
    DROPPED_EVENT,
    ERROR_MESSAGE,
    ERROR_TYPE,
    PATH,
    REASON,
    REASON_QUEUE_FULL,
    REASON_RENDER_ERROR,
    REASON_WRITE_ERROR,
    WRITE_ERROR_EVENT,
)
from logtrace.write.sink.filekeeper import FileKeeper, say
from logtrace.write.sink.livefile import LiveFile


class LineWriter(FileKeeper):
    """Lines to the live file and the failure accounting of a ``FileSink``."""

    _failure: OSError | None  # the error of the current failure episode
    _failure_at: str
    _lost: int  # lines lost to write errors, not yet reported in the stream
    _report_queue_drops: bool
    _reported_queue: int
    _reported_failed: int
    _failed: Callable[[], int]
    _written: int
    _dropped_queue: int
    _dropped_write: int
    _write_errors: int

    def _write_lines(self, lines: list[bytes], counted: bool = True) -> bool:
        """Append ``lines`` (and the notices owed) to the live file; True if they got there.
        Lines lost are counted, unless not ``counted`` (start lines of open spans: their end
        lines carry everything they say, and are counted themselves if lost)."""
        live = self._file
        lost = len(lines) if counted else 0
        if live is None:
            self._lose(lost)
            return not lines
        notices, settled = self._notices()
        if not notices and not lines:
            return True
        data = notices + lines if notices else lines
        size = sum(map(len, data))
        if live.has_lines and live.size + size > self._settings.rotate_bytes:
            live = self._rotate() or live
        try:
            live.append(data)
        except OSError as exc:
            # EFBIG: this file cannot grow (RLIMIT_FSIZE, filesystem limit); go on in the next.
            full = self._rotate() if exc.errno == errno.EFBIG and live.has_lines else None
            if full is None:
                return self._write_failed(live, lost, exc)
            live = full
            try:
                live.append(data)
            except OSError as again:
                return self._write_failed(live, lost, again)
        self._written += len(lines)
        if notices:
            self._failure = None
            self._lost -= settled[0]
            self._reported_queue += settled[1]
            self._reported_failed += settled[2]
        if live.size >= self._settings.rotate_bytes:
            self._rotate()
        return True

    def _write_failed(self, live: LiveFile, count: int, exc: OSError) -> bool:
        self._lose(count)
        self._fail(f"cannot write {live.path}", exc)
        return False

    def _notices(self) -> tuple[list[bytes], tuple[int, int, int]]:
        """The in-band lines owed (write error, drop counts) and the counts they settle."""
        notices: list[bytes] = []
        if self._failure is not None:
            exc = self._failure
            fields = {ERROR_TYPE: type(exc).__name__, ERROR_MESSAGE: str(exc)}
            fields[PATH] = self._failure_at
            notices.append(self._render("error", WRITE_ERROR_EVENT, fields))
        lost = self._lost
        if lost:
            drops = {DROPPED: lost, REASON: REASON_WRITE_ERROR}
            notices.append(self._render("warning", DROPPED_EVENT, drops))
        # Counted elsewhere (no lock): read at the flushes that check, as queue drops are.
        queued = failed = 0
        if self._report_queue_drops:
            queued = self._dropped_queue - self._reported_queue
            failed = self._failed() - self._reported_failed
        for count, reason in ((queued, REASON_QUEUE_FULL), (failed, REASON_RENDER_ERROR)):
            if count > 0:
                drops = {DROPPED: count, REASON: reason}
                notices.append(self._render("warning", DROPPED_EVENT, drops))
        return [n for n in notices if n], (lost, queued, max(failed, 0))

    def _lose(self, count: int) -> None:
        self._lost += count
        self._dropped_write += count

    def _fail(self, what: str, exc: OSError) -> None:
        """Note a failure; the first of an episode is said once on stderr."""
        self._failure_at = str(exc.filename or self._last_path)
        if self._failure is None:
            self._write_errors += 1
            say(
                f"logtrace: {what}: {exc}; counting the lines lost, retrying every "
                f"{self._settings.flush_interval:g}s; a {DROPPED_EVENT} event will give the"
                " count when writing works again"
            )
        self._failure = exc
