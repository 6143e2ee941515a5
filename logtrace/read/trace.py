"""One trace as the read side returns it, its id, and the errors of a lookup.

Plain data, no DuckDB: ``Trace`` holds rows of the views (``summary``, ``spans``, ``logs``) and
travels to renderers, exports and the web view as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

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
    value = text.strip().lower()
    if not _TRACE_ID.fullmatch(value):
        raise ReadError(f"malformed trace id {text!r}: expected 8 to 32 hex digits")
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
