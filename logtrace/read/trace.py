"""One trace as the read side returns it, its id, and the errors of a lookup.

Plain data, no DuckDB: ``Trace`` holds rows of the views (``summary``, ``spans``, ``logs``) and
travels to renderers, exports and the web view as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from logtrace.format.shown import short_repr
from logtrace.read.files import ReadError

Row = dict[str, Any]
_TRACE_ID = re.compile(r"[0-9a-f]{8,32}")


class TraceNotFound(ReadError):
    """No trace has this id (or id prefix) in the files."""

    exit_code = 1


class AmbiguousTrace(ReadError):
    """More than one trace id begins with the given prefix."""


def normalize_trace_id(text: str) -> str:
    """A trace id or abbreviation as typed, checked and lowercased.

    Raises:
        ReadError: not 8 to 32 hex digits.
    """
    if not isinstance(text, str):
        raise ReadError(
            f"malformed trace id {short_repr(text)}: expected a string of 8 to 32 hex digits"
        )
    value = text.strip().lower()
    if not _TRACE_ID.fullmatch(value):
        raise ReadError(f"malformed trace id {short_repr(text)}: expected 8 to 32 hex digits")
    return value


@dataclass(frozen=True)
class Trace:
    """One trace read back: its summary, its spans as a tree, its log lines.

    ``spans`` are rows of ``queries/trace_tree.sql`` in display order (``depth``, ``top_reason``
    and every column of the ``spans`` view); ``logs`` are rows of ``trace_logs.sql`` in time
    order; ``summary`` is its row of the ``traces`` view.
    """

    trace_id: str
    summary: Row
    spans: list[Row] = field(default_factory=list)
    logs: list[Row] = field(default_factory=list)


def created_between(prefix: str) -> tuple[datetime, datetime] | None:
    """When a trace with this id (or id prefix) was created, per its first 12 hex digits.

    None when those digits are no plausible time (an id of another tracer: random digits),
    i.e. before 2000 or more than a day ahead of now, or when the prefix is too short to say
    within a day.
    """
    digits = prefix[:12]
    low = int(digits.ljust(12, "0"), 16)
    high = int(digits.ljust(12, "f"), 16)
    epoch = datetime(1970, 1, 1)
    earliest = (datetime(2000, 1, 1) - epoch) // timedelta(milliseconds=1)
    latest = (datetime.now(timezone.utc).replace(tzinfo=None) - epoch) // timedelta(
        milliseconds=1
    ) + 86_400_000
    if high - low > 86_400_000 or low < earliest or low > latest:
        return None
    return epoch + timedelta(milliseconds=low), epoch + timedelta(milliseconds=high + 1)


def is_complete(trace: Trace) -> bool:
    """A trace with a root span and no unfinished span: nothing of it can lie further on."""
    summary = trace.summary
    return bool(summary.get("has_root")) and not summary.get("unfinished_count")


def summarize(trace_id: str, spans: list[Row]) -> Row:
    """The trace's row of the ``traces`` view (traces.sql), from its spans (each with a start
    time); ``{}`` without spans, as the view has no row then."""
    if not spans:
        return {}
    roots = [s for s in spans if s["parent_id"] is None]

    def arg_min(column: str, rows: list[Row]) -> Any:
        kept = [s for s in rows if s[column] is not None]  # arg_min skips a NULL value
        return min(kept, key=lambda s: (s["start_ts"], s["span_id"]))[column] if kept else None

    def first(column: str) -> Any:
        # coalesce(arg_min(...) FILTER (WHERE parent_id IS NULL), arg_min(...))
        value = arg_min(column, roots)
        return arg_min(column, spans) if value is None else value

    start = min(s["start_ts"] for s in spans)
    end = max(s["end_ts"] or s["start_ts"] for s in spans)
    errors = sum(s["status"] == "error" for s in spans)
    unfinished = sum(s["status"] == "unfinished" for s in spans)
    return {
        "trace_id": trace_id,
        "root_name": first("name"),
        "root_span_id": first("span_id"),
        "has_root": bool(roots),
        "services": sorted({s["service"] for s in spans if s["service"] is not None}),
        "span_names": sorted({s["name"] for s in spans if s["name"] is not None}),
        "start_ts": start,
        "end_ts": end,
        "duration_ms": ((end - start) // timedelta(microseconds=1)) / 1000.0,
        "span_count": len(spans),
        "error_count": errors,
        "unfinished_count": unfinished,
        "status": "error" if errors else "unfinished" if unfinished else "ok",
    }


def only_trace_id(prefix: str, ids: set[str], where: str) -> str:
    """The one id of ``ids`` (those beginning with ``prefix``), as ``Reader.resolve`` says it.

    Raises:
        TraceNotFound: none; AmbiguousTrace: more than one (two of them named).
    """
    found = sorted(ids)[:3]
    if not found:
        raise TraceNotFound(f"no trace {prefix} in {where}")
    if len(found) > 1:
        shown = ", ".join(found[:2]) + (", …" if len(found) > 2 else "")
        raise AmbiguousTrace(f"trace id {prefix} is ambiguous: {shown} (give more digits)")
    return found[0]
