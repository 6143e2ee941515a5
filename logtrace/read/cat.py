"""Every line as JSONL, from every source: what ``logtrace cat`` prints.

"Tracing you can grep" holds for history too: after ``logtrace compact`` the lines live in
Parquet files, which grep and jq cannot read. ``cat`` gives every line back as text, live,
rotated (``.zst``) and compacted files alike, in time order, so ``logtrace cat --since 1d |
grep …`` and ``| jq …`` work whatever has been compacted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from logtrace.read.queries import query_text
from logtrace.read.trace import normalize_trace_id

if TYPE_CHECKING:
    from logtrace.read.reader import Reader

_BATCH = 10_000


def cat_lines(
    reader: Reader,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    trace: str | None = None,
    service: str | None = None,
) -> Iterator[str]:
    """The lines of ``reader``'s files (JSON text, no newline), oldest first, fetched in
    batches (a history larger than memory streams through) from a cursor of their own, so
    the Reader can be asked other questions between lines (``Reader._batches``).

    Until the first line is given, a file that vanished or does not decode is left out and
    the query run again, as for every question of the Reader; after it, nothing is run again
    (the lines given would come twice), and an error ends the lines.

    Args:
        since, until: naive UTC times: lines of ``[since, until)``.
        trace: a trace id or a prefix of 8+ hex digits: that trace's lines.
        service: that service's lines.

    Raises:
        ReadError: a malformed trace id, or SQL that fails (DuckDB's first line).
    """
    params = {
        "since": since,
        "until": until,
        "trace": None if trace is None else normalize_trace_id(trace),
        "service": service,
    }
    for rows in reader._batches(query_text("cat_lines"), params, _BATCH):
        for line, _ in rows:
            yield line
