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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from logtrace.format import fields as f
from logtrace.read.files import CLOCK_SKEW, file_range, recent_files, time_range
from logtrace.read.scan import Location, list_files
from logtrace.read.scan_ends import MAX_BYTES, TRACE_ID, TRACE_ID_FIELD, FileEnd, TooFarBack
from logtrace.read.scan_rows import CannotScan, trace_summary
from logtrace.read.trace import Row

__all__ = ["FILTERS", "MAX_BYTES", "Newest", "TooFarBack", "complete", "newest_traces"]

# The filters of recent_traces_no_attr.sql this scan applies (others: ask DuckDB).
FILTERS = frozenset({"service", "name", "status", "min_duration_ms"})
# How far before the newest line (beyond CLOCK_SKEW) the first try reads; each next try
# reaches as far as the traces found so far say is needed.
FIRST_REACH = timedelta(minutes=1)
_MAX_ALTERNATIVES = 2000


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
    ends: dict[Path, FileEnd] = {}
    reach = FIRST_REACH
    while True:
        target = newest - CLOCK_SKEW - reach
        for file in recent_files(listing.all_files, target, CLOCK_SKEW):
            if file not in ends:
                ends[file] = FileEnd(file)
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


def _complete_from(files: list[Path], ends: Mapping[Path, FileEnd]) -> datetime | None:
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


def _rows(ends: list[FileEnd], complete_from: datetime | None) -> list[Row]:
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
        return TRACE_ID
    return re.compile(TRACE_ID_FIELD + b"(" + _alternatives(sorted(trace_ids)) + b')"')


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
