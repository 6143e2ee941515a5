"""What the pages of ``logtrace ui`` show, as plain data: each function reads through
``open_reader()`` and returns what its JSON endpoint sends (lists and dicts of JSON values).

No Starlette here: scripts and tests can call these directly, and the app is a thin layer over
them. Filters are the ones of ``logtrace ls`` / ``stats`` (``since``, ``until``, ``service``,
``name``, ``status``, ``min_duration``, ``attr``), given as text as on the command line, plus
``text`` (words in a log message of the trace) and ``q`` (a trace id prefix).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from logtrace.format.shown import short_repr
from logtrace.read.reader import open as open_reader

from ..read.arguments import count, from_text
from ..read.files import ReadError, recent_files, time_range
from ..read.filters import filter_params
from ..read.reader import Reader
from ..read.scan import CannotScan, lookup
from ..read.scan_newest import Newest, TooFarBack, complete, newest_traces
from ..read.trace import Trace, created_between
from . import tails
from .source import Source, reading

Row = dict[str, Any]

# The list is newest first: it looks in the newest files first and widens the window until it
# has enough traces, so a list of recent traces does not read a gigabyte of history.
LIST_WINDOWS = (
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=7),
)
# The files a first look reads the ends of: those written to in the last hour of the history.
TAILS_WINDOW = timedelta(hours=1)
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
_HEX = re.compile(r"[0-9a-fA-F]{1,32}")
_LEFT_OUT = frozenset({"trace_id", "filename"})
_FILTERS = ("since", "until", "service", "name", "status", "kind", "min_duration", "attr")
# The parameters each endpoint takes (any other is refused, as the CLI refuses an option).
TRACES_PARAMS = (*_FILTERS, "text", "q", "limit")
OPERATIONS_PARAMS = _FILTERS
HISTOGRAM_PARAMS = ("since", "until", "service")


@dataclass(frozen=True)
class TraceQuery:
    """A search of the trace list: the ``$parameters`` of ``queries/trace_search.sql``."""

    params: dict[str, Any]
    limit: int
    # Only the plain filters of `ls`: the faster recent_traces_no_attr.sql answers.
    plain: bool


def trace_query(query: Mapping[str, str]) -> TraceQuery:
    """The search a page's query string asks for (``since=1h&status=error&q=01a2``).

    Raises:
        ReadError: a value that does not parse (one line, as the CLI says it).
    """
    params = _filter_params(query)
    prefix = (query.get("q") or "").strip().lower() or None
    if prefix is not None and not _HEX.fullmatch(prefix):
        raise ReadError(f"q {short_repr(prefix)}: give the first hex digits of a trace id")
    text = (query.get("text") or "").strip() or None
    params.update(text=text, prefix=prefix)
    given = query.get("limit")
    limit = count(1)("limit", from_text(given)) if given else DEFAULT_LIMIT
    plain = prefix is None and text is None and params["attr_key"] is None
    plain = plain and params["kind"] is None
    if plain:
        params = {k: v for k, v in params.items() if k not in ("attr_key", "attr_value", "kind")}
        params.pop("text"), params.pop("prefix")
    return TraceQuery(params=params, limit=min(limit, MAX_LIMIT), plain=plain)


def list_traces(source: Source | str, query: Mapping[str, str]) -> Row:
    """The Traces page: the newest traces that pass the filters.

    Returns ``{"traces": [rows of the traces view], "searched_since": time or None,
    "files": n, "directory": d}``. Without ``since``, the newest files are read first (15 min,
    1 h, 6 h, 1 d, 7 d before the newest line, then everything) until ``limit`` traces are found
    that began inside the window, so the answer equals a search of everything.
    """
    search = trace_query(query)
    directory = _directory(source)
    scanned = _scanned(search, directory)
    if isinstance(scanned, Newest):
        return _listed(scanned.traces, scanned.complete_from, scanned.files, directory)
    with reading(source) as reader:
        found = _from_tails(reader, search, source, far=scanned == "far")
        if found is not None:
            return _listed(found[0], found[1], len(reader.all_files), directory)
        for window in _windows(reader, search):
            rows = _search(reader, search, window)
            enough = len(rows) >= search.limit and (
                window is None or _begins_after(rows[search.limit - 1], window)
            )
            if enough or window is None:
                break
        return _listed(rows, window, len(reader.all_files), directory)


def _listed(rows: list[Row], since: datetime | None, files: int, directory: str) -> Row:
    return {"traces": rows, "searched_since": since, "files": files, "directory": directory}


def _scanned(search: TraceQuery, directory: str) -> Newest | Literal["far"] | None:
    """The list read from the ends of the newest files without DuckDB (see
    :mod:`logtrace.read.scan_newest`), when the scan can give DuckDB's answer; ``"far"`` when
    the traces lie further back than it reads; None otherwise."""
    try:
        return newest_traces(directory, search.limit, search.params)
    except TooFarBack:
        return "far"
    except CannotScan:
        return None


def _from_tails(
    reader: Reader, search: TraceQuery, source: Source | str, far: bool = False
) -> tuple[list[Row], datetime] | None:
    """The list from the ends of the newest files (see :mod:`tails`), when it can be told
    from them alone: the same rows as a search of everything; None otherwise. ``far``: the
    scan found the traces further back than its reads (as much as the first excerpt's):
    the first excerpt is skipped."""
    if search.params.get("since") is not None or search.params.get("prefix") is not None:
        return None
    span = time_range(reader.all_files)
    if span is None:
        return None
    candidates = recent_files(reader.all_files, span[1] - TAILS_WINDOW)
    size = tails.TAIL_BYTES
    for attempt in range(tails.TRIES):
        if far and attempt < tails.TRIES - 1:
            size *= 8
            continue
        scratch = source.scratch() if isinstance(source, Source) else None
        with tails.excerpt(candidates, size, scratch) as (work, since):
            if since is None:
                return None  # nothing was cut: the files themselves are as cheap
            if not set(recent_files(reader.all_files, since)) <= set(candidates):
                return None  # nothing was cut, or older files may hold lines after the cut
            with _excerpt_reader(source, work) as part:
                rows = _search(part, search, since)
            top = rows[: search.limit]
            if len(top) == search.limit and all(complete(row, since) for row in top):
                return top, since
        size *= 8
    return None


@contextlib.contextmanager
def _excerpt_reader(source: Source | str, work: Path) -> Iterator[Reader]:
    """A Reader of an excerpt: the Source's own (over its scratch folder), or a new one."""
    if isinstance(source, Source):
        yield source.scratch_reader()
    else:
        with open_reader(work) as reader:
            yield reader


def _windows(reader: Reader, search: TraceQuery) -> list[datetime | None]:
    """The values of ``since`` to try, narrowest first; ``[given]`` when the query has one."""
    given = search.params.get("since")
    if given is not None:
        return [given]
    prefix = search.params.get("prefix")
    if prefix is not None and len(prefix) >= 8:
        created = created_between(prefix)
        if created is not None:  # a logtrace id: the files of its creation time
            return [created[0] - timedelta(minutes=5)]
    span = time_range(reader.all_files)
    if span is None:
        return [None]
    first, last = span
    tried: list[datetime | None] = [last - w for w in LIST_WINDOWS if last - w > first]
    return [*tried, None]


def _search(reader: Reader, search: TraceQuery, since: datetime | None) -> list[Row]:
    reader.since = since
    reader.until = search.params.get("until")
    reader.refresh()
    name = "recent_traces_no_attr" if search.plain else "trace_search"
    return reader.query(name, **{**search.params, "since": since}, limit=search.limit)


def _begins_after(row: Row, since: datetime) -> bool:
    start = row.get("start_ts")
    return isinstance(start, datetime) and start >= since


def trace_detail(source: Source | str, trace_id: str) -> Row:
    """The Trace page: one trace's summary, spans (tree order) and log lines.

    Returns ``{"trace": summary, "spans": [rows of the spans view, tree order, with depth and
    offset_ms], "logs": [rows of trace_logs.sql, with offset_ms], "files": [the files holding
    its lines], "directory": d}``. Spans and logs leave out null values and ``trace_id`` (the
    trace's), and give ``filename`` as ``file``, an index into ``files``: a 10,000-span trace
    is some 40% less JSON.

    Raises:
        ReadError: a malformed id; TraceNotFound / AmbiguousTrace as ``logtrace show``.
    """
    trace = _read_trace(source, trace_id)
    start = trace.summary.get("start_ts")
    names: dict[str, int] = {}
    logs = _compact(trace.logs, names)
    for row in logs:
        ts = row.get("ts")
        row["offset_ms"] = (ts - start) / timedelta(milliseconds=1) if ts and start else None
    return {
        "trace": trace.summary,
        "spans": _compact(trace.spans, names),
        "logs": logs,
        "files": list(names),
        "directory": _directory(source),
    }


def _read_trace(source: Source | str, trace_id: str) -> Trace:
    """The trace as ``logtrace show`` reads it: the JSONL files scanned for its id (no DuckDB,
    and no wait for the Reader), or, when only the Reader can answer, the Reader."""
    try:
        return lookup(_directory(source), trace_id)
    except CannotScan:
        pass
    with reading(source) as reader:
        return reader.trace(trace_id)


def _compact(rows: list[Row], names: dict[str, int]) -> list[Row]:
    """Rows as the Trace page gets them: no null values, no ``trace_id`` (the trace's), and
    ``filename`` as ``file``, its index in ``names`` (one file holds many spans)."""
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if v is not None and k not in _LEFT_OUT}
        filename = row.get("filename")
        if filename is not None:
            item["file"] = names.setdefault(str(filename), len(names))
        out.append(item)
    return out


def operations(source: Source | str, query: Mapping[str, str]) -> Row:
    """The Operations page: per span name, count, errors, error rate, p50/p95/p99, max.

    Returns ``{"operations": [rows of span_percentiles.sql]}``; filters apply to spans.
    """
    params = _filter_params(query)
    name = "span_percentiles"
    if params["attr_key"] is None:
        name = "span_percentiles_no_attr"
        params = {k: v for k, v in params.items() if k not in ("attr_key", "attr_value")}
    with reading(source, params["since"], params["until"]) as reader:
        return {"operations": reader.query(name, **params)}


def histogram(source: Source | str, name: str, query: Mapping[str, str]) -> Row:
    """The latency histogram of one span name: ``{"name", "buckets": [rows of
    span_histogram.sql]}``, five buckets per decade of milliseconds."""
    params = _filter_params(query)
    with reading(source, params["since"], params["until"]) as reader:
        rows = reader.query(
            "span_histogram",
            name=name,
            since=params["since"],
            until=params["until"],
            service=params["service"],
        )
    return {"name": name, "buckets": rows}


def _directory(source: Source | str) -> str:
    return source.directory if isinstance(source, Source) else source


def _filter_params(query: Mapping[str, str]) -> dict[str, Any]:
    """The ``$parameters`` of the filters of `ls` / `stats` in a page's query string."""

    def given(name: str) -> str | None:
        return query.get(name) or None

    return filter_params(
        since=given("since"),
        until=given("until"),
        service=given("service"),
        name=given("name"),
        status=given("status"),
        min_duration=given("min_duration"),
        attr=given("attr"),
        kind=given("kind"),
    )


__all__ = [
    "HISTOGRAM_PARAMS",
    "LIST_WINDOWS",
    "OPERATIONS_PARAMS",
    "TRACES_PARAMS",
    "TraceQuery",
    "histogram",
    "list_traces",
    "operations",
    "trace_detail",
    "trace_query",
]
