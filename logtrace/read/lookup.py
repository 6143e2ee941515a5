"""One trace by id: ``Reader.trace()``, ``Reader.resolve()``.

Only the files whose time range can hold the trace are opened (a logtrace trace id begins with
its creation time: :func:`logtrace.read.trace.created_between`). Two ways to read them, with the
same rows:

- **From span rows** (:func:`from_span_rows`), when every file in range is compacted with its
  span file beside it and the trace has no fragment (a span whose start and end were compacted
  in different batches): two reads pruned by trace id — the trace's span rows
  (``trace_span_rows.sql``) and its compacted lines (``trace_compacted.sql``) — and the rest in
  Python: the tree (:mod:`logtrace.read.tree`), the log lines with their span names, the
  summary (:func:`logtrace.read.trace.summarize`). No view is bound over the copied rows:
  binding nine views cost more than reading the data.
- **From copies** (:func:`from_copies`) otherwise (live or rotated JSONL in range, fragments,
  compacted files without span files): the trace's lines and rows are copied into the schema
  ``one_trace`` and the views of ``queries/`` made over those copies.

This module imports DuckDB through the reader; ``import logtrace`` does not import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from logtrace.read.files import CLOCK_SKEW, LONG_TRACE, prune
from logtrace.read.queries import SPAN_VIEWS, VIEWS, query_text
from logtrace.read.trace import (
    Row,
    Trace,
    TraceNotFound,
    created_between,
    is_complete,
    normalize_trace_id,
    only_trace_id,
    summarize,
)
from logtrace.read.tree import tree_order
from logtrace.read.views import empty_select

if TYPE_CHECKING:
    from logtrace.read.reader import Reader

# The schema a single trace's lines are copied into by from_copies().
TRACE_SCHEMA = "one_trace"
# The schema of the two views from_span_rows() makes over the files of one lookup.
ROWS_SCHEMA = "one_trace_rows"


def find_trace(reader: Reader, trace_id: str) -> Trace:
    """Read one trace (see ``Reader.trace``): the files of its time first, then every file
    when it is not found there, looks cut short, or the id is no time (another tracer's)."""
    prefix = normalize_trace_id(trace_id)
    window = created_between(prefix) if reader.pruning else None
    if window is not None:
        files = prune(reader.all_files, window[0] - CLOCK_SKEW, window[1] + LONG_TRACE)
        if len(files) < len(reader.all_files):
            try:
                found = trace_in(reader, prefix, files)
            except TraceNotFound:
                found = None
            if found is not None and is_complete(found):
                return found
    return trace_in(reader, prefix, reader.all_files)


def trace_in(reader: Reader, prefix: str, files: list[Path]) -> Trace:
    """The trace ``prefix`` names, read from ``files``: from span rows when that can give it,
    else from copies of its lines."""
    if not files:
        raise TraceNotFound(f"no trace {prefix} in {reader.describe()}")
    reader.trace_files = files
    found = reader._with_retries(lambda: from_span_rows(reader, prefix, files))
    return found if found is not None else from_copies(reader, prefix, files)


def from_span_rows(reader: Reader, prefix: str, files: list[Path]) -> Trace | None:
    """The trace from span rows and compacted lines alone; None when those cannot give the
    same rows as the views (a JSONL file or a compacted file without span file in ``files``,
    a fragment, a span without start time, a span id twice).

    Raises:
        TraceNotFound, AmbiguousTrace: as ``Reader.resolve``.
    """
    con = reader._con
    bad = set(reader.unreadable_files)
    try:
        jsonl, parquet, _, bare = reader._views.set_variables([p for p in files if p not in bad])
        if jsonl or bare or not parquet:
            return None
        # The two views over these files alone, in a schema of their own: the views of the
        # whole set stay as they are (they read the variables, restored below, when queried).
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {ROWS_SCHEMA}")
        con.execute(f"SET schema = '{ROWS_SCHEMA}'")
        con.execute(query_text("compacted"))
        con.execute(query_text("span_rows"))
        # A full id (32 hex digits) is also looked up by equality: bloom filters prune then.
        lines = reader._query("trace_compacted", prefix=prefix, trace_id=_whole_id(prefix))
        rows = reader._query("trace_span_rows", prefix=prefix, trace_id=_whole_id(prefix))
    finally:
        con.execute("SET schema = 'main'")
        reader._views.set_variables(reader.files)
    full = _one_id(reader, prefix, {r["trace_id"] for r in [*lines, *rows]} - {None})
    spans = [r for r in rows if r["trace_id"] == full]
    if len({s["span_id"] for s in spans}) < len(spans) or any(
        not (s["has_start"] and s["has_end"]) or s["start_ts"] is None for s in spans
    ):
        return None
    names = {s["span_id"]: s["name"] for s in spans}
    logs = sorted(
        (_log_row(line, names) for line in lines if _is_log(line, full)),
        key=lambda r: (r["ts"], r["span_id"] is None, r["span_id"] or "", *_text(r["message"])),
    )
    return Trace(trace_id=full, summary=summarize(full, spans), spans=tree_order(spans), logs=logs)


def _whole_id(prefix: str) -> str | None:
    """The prefix when it is a whole trace id (32 hex digits): looked up by equality too, so
    that DuckDB's bloom filters on trace_id prune row groups; else None."""
    return prefix if len(prefix) == 32 else None


def _is_log(line: Row, trace_id: str) -> bool:
    """A row of ``logs`` (logs.sql): a readable log line or span event with a time."""
    return (
        line["trace_id"] == trace_id
        and bool(line["readable"])
        and line["span"] in (None, "event")
        and line["ts"] is not None
    )


def _log_row(line: Row, names: dict[str, str | None]) -> Row:
    """A compacted line (compacted.sql) as a row of ``logs`` (logs.sql), its span's name from
    ``names``."""
    span_id = line["span_id"]
    return {
        "ts": line["ts"],
        "level": line["level"],
        "message": line["event"],
        "logger": line["logger"],
        "service": line["service"],
        "pid": line["pid"],
        "trace_id": line["trace_id"],
        "span_id": span_id,
        "span_name": None if span_id is None else names.get(span_id),
        "is_span_event": line["span"] == "event",
        "error_type": line["error_type"],
        "error_message": line["error_message"],
        "exception": line["exception"],
        "fields": line["json"],
        "filename": line["filename"],
    }


def _text(value: str | None) -> tuple[bool, str]:
    """A sort key for text as DuckDB orders it: NULL last."""
    return (value is None, value or "")


def _one_id(reader: Reader, prefix: str, found: set[str]) -> str:
    """The one trace id of ``found`` (those beginning with ``prefix``), as ``resolve`` says."""
    return only_trace_id(prefix, found, reader.describe())


def resolve_in(reader: Reader, prefix: str, *, views: bool = False) -> str:
    """The one trace id of the files (``views``) or of the copies that begins with ``prefix``."""
    found = reader._query("trace_ids", views=views, prefix=prefix)
    return _one_id(reader, prefix, {str(row["trace_id"]) for row in found})


def from_copies(reader: Reader, prefix: str, files: list[Path]) -> Trace:
    """The trace from its lines and rows copied out of ``files``, through the views."""
    con = reader._con
    try:
        reader._with_retries(lambda: _copy_trace(reader, prefix, files))
    finally:
        reader._views.set_variables(reader.files)
    con.execute(f"SET schema = '{TRACE_SCHEMA}'")
    try:
        con.execute(query_text("copied_span_lines"))
        for view in VIEWS:
            con.execute(query_text(view))
        full = resolve_in(reader, prefix)
        summary = reader._run("SELECT * FROM traces WHERE trace_id = $t", {"t": full})
        spans = tree_order(reader._query("trace_spans", trace_id=full))
        logs = reader._query("trace_logs", trace_id=full)
    finally:
        con.execute("SET schema = 'main'")
    return Trace(trace_id=full, summary=summary[0] if summary else {}, spans=spans, logs=logs)


def _copy_trace(reader: Reader, prefix: str, files: list[Path]) -> None:
    """Copy the lines and compacted rows of ``files`` that hold ``prefix`` into one_trace.

    Only the variables change (the views read them when queried): no view of the whole set is
    created here.
    """
    con = reader._con
    bad = set(reader.unreadable_files)
    jsonl, parquet, spans, bare = reader._views.set_variables([p for p in files if p not in bad])
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {TRACE_SCHEMA}")
    lines = f"{TRACE_SCHEMA}.jsonl_lines"
    if jsonl:
        text = query_text("trace_lines").rstrip().rstrip(";")
        con.execute(f"CREATE OR REPLACE TABLE {lines} AS {text}", {"text": prefix})
    else:
        con.execute(f"CREATE OR REPLACE TABLE {lines} AS {empty_select('jsonl_lines')}")
    table = f"CREATE OR REPLACE TABLE {TRACE_SCHEMA}.compacted AS"
    if parquet:
        # The view over these files alone (the other views are not needed here); the
        # views of the whole set are made again on their next use.
        con.execute(query_text("compacted"))
        reader._views.forget()
        text = query_text("trace_compacted").rstrip().rstrip(";")
        con.execute(f"{table} {text}", {"prefix": prefix, "trace_id": _whole_id(prefix)})
    else:  # the empty stand-in's columns, as a table
        con.execute(
            query_text("no_compacted").replace("CREATE OR REPLACE VIEW compacted AS", table)
        )
    for view, present in zip(SPAN_VIEWS, (spans, bare), strict=True):
        table = f"CREATE OR REPLACE TABLE {TRACE_SCHEMA}.{view} AS"
        if present:
            con.execute(query_text(view))
            reader._views.forget()
            text = query_text(f"trace_{view}")
            params: dict[str, str | None] = {"prefix": prefix}
            if "$trace_id" in text:
                params["trace_id"] = _whole_id(prefix)
            con.execute(f"{table} {text.rstrip().rstrip(';')}", params)
        else:
            con.execute(f"{table} {empty_select(view)}")
