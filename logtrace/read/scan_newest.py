"""The newest traces of a directory without DuckDB: the ends of its newest files scanned.

The trace list (``logtrace ui``'s first page) wants the 50 newest traces, and they are at the
ends of the newest files. :func:`newest_traces` reads those ends backwards, finds the traces
written to near the end by their ``"trace_id":"…"`` bytes, parses only those traces' lines and
builds their rows of the ``traces`` view in Python (:func:`scan_rows.trace_summary`): the rows
``queries/recent_traces_no_attr.sql`` gives over the whole files.

Why the ends are enough (as in ``logtrace/web/tails.py``): lines are written in time order, so
what is read of a file is complete from the latest time among its first lines read (a start
line written at a flush carries an earlier time than the lines around it). The ends together
are complete from the latest such time, ``complete_from`` (a file not read counts with its
last write, plus CLOCK_SKEW). A trace whose root span starts at or after ``complete_from +
CLOCK_SKEW`` has all its lines there (they come after its root's start, give or take the skew
of clocks between processes), so its row is the row over the whole files; a trace not complete
there starts earlier than that, below every complete one. The answer is taken when the first
``limit`` rows passing the filters are complete; otherwise more is read, up to ``MAX_BYTES``.

Only the traces that have a line after the point where the ends are complete from
``complete_from + CLOCK_SKEW`` can be complete, so only their lines are parsed: a tenth of
what is read, on the benchmark history.

It answers only what it can answer identically, else raises :class:`CannotScan` and the
caller asks DuckDB: shared history, compacted files among the newest, a ``trace_id`` key
written another way than the writers write it (spaces, escapes), a line DuckDB may read
otherwise (see :mod:`scan`), the newest traces further back than ``MAX_BYTES``, span lines of
an unsampled trace (``keep_errors`` writes them late, each with its own earlier time), and a
file whose last line is later than its modification time by more than CLOCK_SKEW. Like time
pruning everywhere in the read side, it counts on the clocks of the processes agreeing within
CLOCK_SKEW (a clock behind by more is not seen). No DuckDB here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from logtrace.format import fields as f
from logtrace.read.files import CLOCK_SKEW, file_range, recent_files, time_range
from logtrace.read.scan import Location, decompressed, line_at, list_files, parsed_line
from logtrace.read.scan_rows import CannotScan, trace_summary
from logtrace.read.trace import Row

__all__ = ["FILTERS", "MAX_BYTES", "Newest", "TooFarBack", "complete", "newest_traces"]

# The filters of recent_traces_no_attr.sql this scan applies (others: ask DuckDB).
FILTERS = frozenset({"service", "name", "status", "min_duration_ms"})
# How much of the files the scan reads at most: when the traces asked for lie further back
# (a filter few traces pass), DuckDB answers sooner than Python builds every row there.
MAX_BYTES = 24 << 20
# How far before the newest line (beyond CLOCK_SKEW) the first try reads; each next try
# reaches as far as the traces found so far say is needed.
FIRST_REACH = timedelta(minutes=1)
_CHUNK = 256 << 10
# How many lines from a point tell the time the data is complete from (see _complete_at).
_FIRST_LINES = 20
# What read_json reads of a line at most (jsonl_span_lines.sql: maximum_object_size).
_MAX_LINE = 64 << 20
_KEY = b'"' + f.TRACE_ID.encode() + b'"'
_SPAN_KEY = b'"' + f.SPAN.encode() + b'"'
_UNSAMPLED = b'"' + f.TRACE_FLAGS.encode() + b'":"00"'
# A trace id field, JSON's spaces allowed; ids with escapes are left to DuckDB.
_TRACE_ID_FIELD = _KEY + rb'[ \t\r]*:[ \t\r]*"'
_TRACE_ID = re.compile(_TRACE_ID_FIELD + rb'([^"\\]*)"')
_MAX_ALTERNATIVES = 2000
_ESCAPED_TEXT = frozenset(b"234567"[i : i + 1] for i in range(6))


class TooFarBack(CannotScan):
    """The traces asked for lie further back than ``MAX_BYTES`` of the files' ends."""


@dataclass(frozen=True)
class Newest:
    """The answer: rows of the ``traces`` view, newest first, and what was read."""

    traces: list[Row]
    # Every line from this time on was read (None: the files were read whole).
    complete_from: datetime | None
    files: int


def newest_traces(
    path: Location | Sequence[Location], limit: int, filters: Mapping[str, Any] | None = None
) -> Newest:
    """``recent_traces_no_attr`` (``since`` and ``until`` NULL) answered from the files' ends.

    Args:
        path: a directory, file or glob, as for ``logtrace.open``.
        limit: how many rows at most.
        filters: ``service``, ``name``, ``status``, ``min_duration_ms`` (None: any); the
            ``$parameters`` of a trace list may be given as they are: any other one that is
            not None (``since``, ``until``, an attribute, a kind, a text) is DuckDB's.

    Raises:
        CannotScan: only DuckDB can answer (see the module's docstring).
    """
    wanted = {k: v for k, v in (filters or {}).items() if v is not None}
    if not wanted.keys() <= FILTERS:
        raise CannotScan(f"filters {sorted(wanted.keys() - FILTERS)}")
    listing = list_files(path)
    span = time_range(listing.all_files)
    if span is None:
        raise CannotScan("no files")
    newest = span[1]
    ends: dict[Path, _End] = {}
    reach = FIRST_REACH
    while True:
        target = newest - CLOCK_SKEW - reach
        for file in recent_files(listing.all_files, target, CLOCK_SKEW):
            if file not in ends:
                ends[file] = _End(file)
            ends[file].back_to(target)
            if sum(len(end.data) for end in ends.values()) > MAX_BYTES:
                raise TooFarBack("the newest traces lie further back")
        complete_from = _complete_from(listing.all_files, ends)
        rows = _rows(list(ends.values()), complete_from)
        top = [row for row in rows if _passes(row, wanted)][:limit]
        if complete_from is None or (
            len(top) == limit and all(complete(row, complete_from) for row in top)
        ):
            return Newest(top, complete_from, len(listing.all_files))
        further = _further(reach, newest, complete_from, top, limit)
        held = sum(len(end.data) for end in ends.values())
        if held * ((further + CLOCK_SKEW) / (reach + CLOCK_SKEW)) > MAX_BYTES:
            raise TooFarBack("the newest traces lie further back")  # DuckDB is faster there
        reach = further


def _further(
    reach: timedelta, newest: datetime, complete_from: datetime, top: list[Row], limit: int
) -> timedelta:
    """How far back the next try reads: as far as the complete rows found so far say
    ``limit`` of them take (the rows found are in ``reach`` or so), at least twice as far."""
    found = [row for row in top if complete(row, complete_from)]
    covered = newest - (complete_from + CLOCK_SKEW)
    if len(found) < 2 or covered <= timedelta(0):
        return reach * 8
    return max(reach * 2, covered * (limit / len(found)) * 1.25)


def _complete_from(files: list[Path], ends: Mapping[Path, _End]) -> datetime | None:
    """The time every line from on was read: the latest of the ends' times and of the last
    writes (plus CLOCK_SKEW) of the files not read; None when every file was read whole."""
    times: list[datetime] = []
    for file in files:
        end = ends.get(file)
        if end is None:
            last = file_range(file)[1]
            if last is not None:
                times.append(last + CLOCK_SKEW)
        elif end.complete_at is not None:
            times.append(end.complete_at)
    return max(times) if times else None


def complete(row: Mapping[str, object], complete_from: datetime | None) -> bool:
    """True when a row of ``traces`` read from the ends of the files (every line from
    ``complete_from`` on; None: the whole files) equals the row over the whole files: its
    root span starts CLOCK_SKEW or more after that point."""
    if complete_from is None:
        return True
    start = row.get("start_ts")
    return (
        bool(row.get("has_root"))
        and isinstance(start, datetime)
        and start >= complete_from + CLOCK_SKEW
    )


def _passes(row: Row, wanted: Mapping[str, Any]) -> bool:
    """The WHERE of recent_traces_no_attr.sql (without since and until)."""
    service, name = wanted.get("service"), wanted.get("name")
    status, least = wanted.get("status"), wanted.get("min_duration_ms")
    return (
        (service is None or service in row["services"])
        and (status is None or row["status"] == status)
        and (least is None or row["duration_ms"] >= least)
        and (name is None or name in row["span_names"])
    )


def _rows(ends: list[_End], complete_from: datetime | None) -> list[Row]:
    """The rows of the traces that can be complete, ORDER BY start_ts DESC, trace_id."""
    after = None if complete_from is None else complete_from + CLOCK_SKEW
    wanted: set[bytes] = set()
    for end in ends:
        wanted.update(end.trace_ids(end.after(after)))
    pattern = _pattern(wanted)
    lines: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for end in ends:
        name = str(end.path)
        for line in end.lines_of(pattern, wanted):
            trace_id = line.get(f.TRACE_ID)
            if not isinstance(trace_id, str):
                raise CannotScan("a trace id that is not a string")
            lines.setdefault(trace_id, []).append((name, line))
    rows = [row for trace_id in sorted(lines) if (row := trace_summary(trace_id, lines[trace_id]))]
    rows.sort(key=lambda row: row["start_ts"], reverse=True)  # stable: trace_id breaks ties
    return rows


def _pattern(trace_ids: set[bytes]) -> re.Pattern[bytes]:
    """A regular expression of the ``trace_id`` fields holding one of ``trace_ids``: one
    pass of the regex engine, branching as a trie (a few hundred ids); else any trace id."""
    if not trace_ids or len(trace_ids) > _MAX_ALTERNATIVES:
        return _TRACE_ID
    return re.compile(_TRACE_ID_FIELD + b"(" + _alternatives(sorted(trace_ids)) + b')"')


def _alternatives(words: list[bytes]) -> bytes:
    """A regular expression matching exactly ``words`` (sorted), common prefixes factored."""
    if len(words) == 1:
        return re.escape(words[0])
    branches = []
    empty = False
    at = 0
    while at < len(words):
        if not words[at]:
            empty, at = True, at + 1
            continue
        first = words[at][:1]
        rest = []
        while at < len(words) and words[at][:1] == first:
            rest.append(words[at][1:])
            at += 1
        branches.append(re.escape(first) + _alternatives(rest))
    group = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
    return b"(?:" + group + b")?" if empty else group


class _End:
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
            at = _complete_at(self.data, first) if first > 0 else None
            if at is not None and at <= when:
                break
            self._extend(self._more(at, when))
        self.start = self._latest(self._first_line(), when, inclusive=True)
        if self.whole and self.start == 0:
            self.complete_at = None
        else:
            self.complete_at = _complete_at(self.data, self.start)
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
        found = _TRACE_ID.findall(self.data, at)
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
        size = max(have * 2, _CHUNK)
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
        while high - low > _CHUNK // 4:
            middle = data.find(b"\n", (low + high) // 2) + 1
            if middle <= 0 or middle >= high:
                break
            at = _complete_at(data, middle)
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
        written = _line_time(data, begin, finish) if finish > begin else None
        if last is not None and written is not None and written - last > CLOCK_SKEW:
            raise CannotScan(f"{self.path.name}: a clock more than {CLOCK_SKEW} ahead")


def _complete_at(data: bytes, at: int) -> datetime | None:
    """The latest ``ts`` of the first lines from ``at`` (a line start): the lines from ``at``
    on hold every line written after that time. None when none of them has a time."""
    latest: datetime | None = None
    for _ in range(_FIRST_LINES):
        if at >= len(data):
            break
        end = data.find(b"\n", at)
        if end < 0:
            end = len(data)
        when = _line_time(data, at, end)
        if when is not None and (latest is None or when > latest):
            latest = when
        at = end + 1
    return latest


def _line_time(data: bytes, begin: int, end: int) -> datetime | None:
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
