"""The end of one log file, read backwards as far as the newest traces need (``scan_newest``).

A :class:`FileEnd` holds the last bytes of a file, whole lines to its end, and grows towards
the file's start until its lines are complete from a given time: lines are written in time
order, give or take a flush's start lines, so the latest ``ts`` of a few lines from a point
(:func:`complete_at`) is a time from which every later line comes after that point. It finds
the trace ids of its lines and the span lines of the traces asked for, and declines
(:class:`CannotScan`) what only DuckDB reads the same: a key written with escapes, an
unsampled trace's spans kept late, a clock ahead of the file system's. No DuckDB here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from logtrace.format import fields as f
from logtrace.read.files import CLOCK_SKEW, file_range
from logtrace.read.scan import decompressed, line_at, parsed_line
from logtrace.read.scan_rows import CannotScan

__all__ = ["CHUNK", "MAX_BYTES", "TRACE_ID", "TRACE_ID_FIELD", "FileEnd", "TooFarBack"]

# How much of the files the scan reads at most: when the traces asked for lie further back
# (a filter few traces pass), DuckDB answers sooner than Python builds every row there.
MAX_BYTES = 24 << 20
# How much more of a file a read takes at least.
CHUNK = 256 << 10
# How many lines from a point tell the time the data is complete from (see complete_at).
_FIRST_LINES = 20
# What read_json reads of a line at most (jsonl_span_lines.sql: maximum_object_size).
_MAX_LINE = 64 << 20
_KEY = b'"' + f.TRACE_ID.encode() + b'"'
_SPAN_KEY = b'"' + f.SPAN.encode() + b'"'
_UNSAMPLED = b'"' + f.TRACE_FLAGS.encode() + b'":"00"'
# A trace id field, JSON's spaces allowed; ids with escapes are left to DuckDB.
TRACE_ID_FIELD = _KEY + rb'[ \t\r]*:[ \t\r]*"'
TRACE_ID = re.compile(TRACE_ID_FIELD + rb'([^"\\]*)"')
_ESCAPED_TEXT = frozenset(b"234567"[i : i + 1] for i in range(6))


class TooFarBack(CannotScan):
    """The traces asked for lie further back than ``MAX_BYTES`` of the files' ends."""


class FileEnd:
    """The end of one file read so far: ``data[start:]`` are whole lines to its end (as it
    was when first read; a line being written is torn, and skipped as the views skip it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.name.endswith(f.COMPACTED_SUFFIX):
            raise CannotScan("compacted files among the newest")
        self.data = b""
        self.start = 0
        self.complete_at: datetime | None = None
        self._checked = 0  # how many bytes at the end of data were checked (_check)
        self._timed = False  # whether the last line's time was checked (_check_times)
        self._flags_checked = 0  # how many bytes at the end of data were (_check_times)
        try:
            if path.name.endswith(f.ROTATED_SUFFIX):
                self.data = decompressed(path, MAX_BYTES)
                self.size = len(self.data)
            else:
                self.size = os.stat(path).st_size
        except OSError as error:  # gone, rotated under us: the Reader retries such reads
            raise CannotScan(f"cannot read {path}: {error}") from None
        self.whole = len(self.data) >= self.size

    def back_to(self, when: datetime) -> None:
        """Read backwards until the lines read are complete from ``when`` or earlier, and
        start ``data`` at the latest line from which they are."""
        while not self.whole:
            first = self.data.find(b"\n") + 1
            at = complete_at(self.data, first) if first > 0 else None
            if at is not None and at <= when:
                break
            self._extend(self._more(at, when))
        self.start = self._latest(self._first_line(), when, inclusive=True)
        if self.whole and self.start == 0:
            self.complete_at = None
        else:
            self.complete_at = complete_at(self.data, self.start)
        self._check()
        self._check_times()

    def after(self, when: datetime | None) -> int:
        """An offset in ``data`` such that every line from ``when`` on comes after it
        (``start`` when ``when`` is None)."""
        if when is None:
            return self.start
        return self._latest(self.start, when, inclusive=False)

    def trace_ids(self, at: int) -> list[bytes]:
        """The trace ids of the lines from offset ``at`` on.

        Raises:
            CannotScan: a ``trace_id`` that is not a string without escapes.
        """
        found = TRACE_ID.findall(self.data, at)
        if self.data.count(_KEY, at) != len(found):
            raise CannotScan("a trace id that is no plain string")
        return found

    def lines_of(self, pattern: re.Pattern[bytes], wanted: set[bytes]) -> Iterator[dict[str, Any]]:
        """The JSON objects of the span lines read that hold a ``trace_id`` of ``wanted``
        (found by ``pattern``, see :func:`_pattern`); log lines are left out."""
        data = self.data
        seen = -1
        for match in pattern.finditer(data, self.start):
            if match[1] not in wanted:
                continue
            begin, finish = line_at(data, match.start())
            if begin == seen:
                continue  # a second trace id in the line (a nested field)
            seen = begin
            # A line without the bytes "span" has no span marker (escapes are checked).
            if data.find(_SPAN_KEY, begin, finish) < 0:
                continue
            value = parsed_line(data[begin:finish], _MAX_LINE)
            if value is not None:
                yield value

    def _more(self, at: datetime | None, when: datetime) -> int:
        """How many bytes of the end to hold next, to reach back to ``when``: as the bytes
        held so far, back to ``at``, say (a quarter more), and at least twice as many."""
        have = len(self.data)
        size = max(have * 2, CHUNK)
        last = file_range(self.path)[1]
        if at is not None and last is not None and last > at:
            size = max(size, int(have * min((last - when) / (last - at), 64) * 1.25))
        return size

    def _first_line(self) -> int:
        return 0 if self.whole else self.data.find(b"\n") + 1

    def _extend(self, size: int) -> None:
        """Hold the last ``size`` bytes of the file (those already read kept)."""
        size = min(size, self.size)
        if size > MAX_BYTES:
            raise TooFarBack("the newest traces lie further back")  # or no times to tell
        have = len(self.data)
        try:
            with self.path.open("rb") as file:
                file.seek(self.size - size)
                more = file.read(size - have)
        except OSError as error:
            raise CannotScan(f"cannot read {self.path}: {error}") from None
        if len(more) != size - have:
            raise CannotScan(f"{self.path} changed while read")
        self.data = more + self.data
        self.whole = size >= self.size

    def _latest(self, low: int, when: datetime, inclusive: bool) -> int:
        """About the latest line start from ``low`` on whose lines are complete from before
        ``when`` (or at it, when ``inclusive``); ``low`` when there is none."""
        data = self.data
        high = len(data)
        while high - low > CHUNK // 4:
            middle = data.find(b"\n", (low + high) // 2) + 1
            if middle <= 0 or middle >= high:
                break
            at = complete_at(data, middle)
            if at is not None and (at <= when if inclusive else at < when):
                low = middle
            else:
                high = middle
        return low

    def _check(self) -> None:
        """CannotScan when a key of the lines read is written with escapes (``"trace\\u005fid"``
        is a ``trace_id`` for DuckDB): the writers escape only control characters."""
        data = self.data
        stop = len(data) - self._checked
        at = data.find(b"\\u00", self.start, stop)
        while at >= 0:
            if data[at + 4 : at + 5] in _ESCAPED_TEXT:
                raise CannotScan("a line with escaped letters")
            at = data.find(b"\\u00", at + 4, stop)
        self._checked = max(self._checked, len(data) - self.start)

    def _check_times(self) -> None:
        """CannotScan when the lines read may not be in time order, as the scan assumes.

        - Spans of an unsampled trace kept by ``keep_errors`` are written when one of them
          fails, all at once, each with its own (earlier) time: a point among them looks
          complete from too early a time. Any span line with ``trace_flags`` ``00`` declines.
        - A file whose last line is more than CLOCK_SKEW later than its modification time was
          written by a clock ahead of the file system's by more than the scan allows for (a
          file not read counts with its modification time). A modification time later than
          the lines is a file copied or touched since (or a clock behind): harmless here.
        """
        data = self.data
        # Only what was read since the last call (data grows at its front), and the bytes a
        # match begun there can reach into what was looked at before.
        stop = len(data) - self._flags_checked + len(_UNSAMPLED) - 1
        at = data.find(_UNSAMPLED, 0, stop)
        while at >= 0:
            begin, finish = line_at(data, at)
            if data.find(_SPAN_KEY, begin, finish) >= 0:
                raise CannotScan("spans of an unsampled trace kept late (keep_errors)")
            at = data.find(_UNSAMPLED, finish, stop)
        self._flags_checked = len(data)
        newline = data.rfind(b"\n")  # the end of the last whole line
        if self._timed or newline <= 0:
            return
        self._timed = True
        last = file_range(self.path)[1]
        begin, finish = line_at(data, newline)
        written = line_time(data, begin, finish) if finish > begin else None
        if last is not None and written is not None and written - last > CLOCK_SKEW:
            raise CannotScan(f"{self.path.name}: a clock more than {CLOCK_SKEW} ahead")


def complete_at(data: bytes, at: int) -> datetime | None:
    """The latest ``ts`` of the first lines from ``at`` (a line start): the lines from ``at``
    on hold every line written after that time. None when none of them has a time."""
    latest: datetime | None = None
    for _ in range(_FIRST_LINES):
        if at >= len(data):
            break
        end = data.find(b"\n", at)
        if end < 0:
            end = len(data)
        when = line_time(data, at, end)
        if when is not None and (latest is None or when > latest):
            latest = when
        at = end + 1
    return latest


def line_time(data: bytes, begin: int, end: int) -> datetime | None:
    """The ``ts`` of a line (UTC, naive), or None."""
    if data.startswith(b'{"ts":"', begin) and data[begin + 33 : begin + 35] == b'Z"':
        try:
            return datetime.fromisoformat(data[begin + 7 : begin + 33].decode())
        except ValueError:
            pass
    try:
        value = orjson.loads(data[begin:end])
        text = value[f.TS]
        when = datetime.fromisoformat(text[:-1] if text.endswith("Z") else text)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None
    if when.tzinfo is not None:
        return None
    return when
