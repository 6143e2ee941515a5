"""The rows of one trace built in Python from its parsed lines, as the views build them.

The same values, column order and types as ``Reader.trace`` gets from ``queries/``:
``copied_span_lines.sql`` (typed fields of span lines), ``span_attributes.sql`` (user fields: a
JSON merge patch of the start line's by the end line's), ``spans.sql`` (start and end joined:
the start line's parent, kind, service and pid, the end line's name when it has one, a start
time from an end line alone), ``traces.sql`` (the summary), ``logs.sql`` and ``trace_logs.sql``.

Where DuckDB's answer could differ (a field of an unexpected type, a time in another format,
a span with two start lines, which ``any_value`` picks at random), :class:`CannotScan` says so
and the caller asks the Reader. No DuckDB here.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime, timedelta
from typing import Any

import orjson

from logtrace.format import fields as f
from logtrace.read.files import ReadError
from logtrace.read.queries import query_text
from logtrace.read.trace import Row, Trace, summarize
from logtrace.read.tree import tree_order

Line = dict[str, Any]
# DuckDB's TIMESTAMP casts of the forms the writers use; other forms are left to DuckDB.
_TS = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z?")
# spans.sql: the host of a file named <service>_<host>_<pid>_<opened>.
_HOST_NAME = re.compile(r"[A-Za-z0-9.-]+_[A-Za-z0-9.-]+_[0-9]+_.*")
_SLASHES = re.compile(r"[/\\]")
_INT64 = 2**63
_SPAN_KINDS = ("start", "end")


class CannotScan(Exception):
    """The scan cannot give the answer DuckDB would give: ask the Reader."""


@functools.lru_cache(maxsize=1)
def logtrace_keys() -> frozenset[str]:
    """The keys that are not user fields: the nulls of ``span_attributes.sql``'s merge patch."""
    text = query_text("span_attributes")
    match = re.search(r"json_merge_patch\(\s*json,\s*'(\{.*?\})'", text, re.DOTALL)
    if match is None:
        raise ReadError("queries/span_attributes.sql: no merge patch of logtrace's keys")
    return frozenset(orjson.loads(match[1]))


def build_trace(trace_id: str, lines: list[tuple[str, Line]]) -> Trace:
    """The Trace of ``trace_id`` from (filename, parsed line) pairs of the files read."""
    pieces, logs = _sorted_lines(trace_id, lines)
    rows = [_span_row(trace_id, span_id, both) for span_id, both in pieces.items()]
    names = {row["span_id"]: row["name"] for row in rows}
    log_rows = [row for name, line in logs if (row := _log_row(name, line, names)) is not None]
    log_rows.sort(key=_log_key)
    return Trace(trace_id=trace_id, summary=_summary(trace_id, rows), spans=tree_order(rows),
                 logs=log_rows)  # fmt: skip


def trace_summary(trace_id: str, lines: list[tuple[str, Line]]) -> Row:
    """The row of the ``traces`` view (traces.sql) of ``trace_id`` from (filename, parsed
    line) pairs, as :func:`build_trace` makes its summary; ``{}`` when it has no span."""
    pieces, _ = _sorted_lines(trace_id, lines)
    rows = [_span_row(trace_id, span_id, both, whole=False) for span_id, both in pieces.items()]
    return _summary(trace_id, rows)


def _sorted_lines(
    trace_id: str, lines: list[tuple[str, Line]]
) -> tuple[dict[str, dict[str, tuple[str, Line]]], list[tuple[str, Line]]]:
    """The lines of ``trace_id``: its span lines by span id and kind, and its log lines."""
    pieces: dict[str, dict[str, tuple[str, Line]]] = {}
    logs: list[tuple[str, Line]] = []
    for name, line in lines:
        if line.get(f.TRACE_ID) != trace_id:
            continue
        kind = _text(line, f.SPAN)
        if kind in _SPAN_KINDS:
            span_id = _text(line, f.SPAN_ID)
            if span_id is None:
                continue  # spans.sql: no row without a span id
            both = pieces.setdefault(span_id, {})
            if kind in both:
                raise CannotScan("two start (or end) lines of one span")
            both[kind] = (name, line)
        elif kind is None or kind == "event":
            logs.append((name, line))
    return pieces, logs


def _span_row(
    trace_id: str, span_id: str, both: dict[str, tuple[str, Line]], whole: bool = True
) -> Row:
    """The span's row of spans.sql; not ``whole``: only the columns traces.sql reads."""
    start = _checked(*both["start"]) if "start" in both else None
    end = _checked(*both["end"]) if "end" in both else None
    start_ts = start[0] if start is not None else None
    if end is not None:
        end_ts, _, duration_ms, end_line = end
    else:
        end_ts = duration_ms = end_line = None
    if start_ts is None and end_ts is not None:
        try:
            start_ts = end_ts - timedelta(microseconds=_round((duration_ms or 0.0) * 1000))
        except OverflowError:
            raise CannotScan("a start time out of range") from None
    start_line = start[3] if start is not None else None
    error_type = _pick(f.ERROR_TYPE, end_line)
    if end_line is None:
        status = "unfinished"
    elif end_line.get(f.STATUS) == f.STATUS_ERROR or error_type is not None:
        status = f.STATUS_ERROR
    else:
        status = f.STATUS_OK
    if not whole:
        return {
            "span_id": span_id,
            "parent_id": _pick(f.PARENT_ID, start_line, end_line),
            "name": _pick(f.NAME, end_line, start_line),
            "service": _pick(f.SERVICE, start_line, end_line),
            "start_ts": start_ts,
            "end_ts": end_ts,
            "status": status,
        }
    filename = min(name for name, _ in both.values())
    pid = start[1] if start is not None else None
    if pid is None and end is not None:
        pid = end[1]
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_id": _pick(f.PARENT_ID, start_line, end_line),
        "name": _pick(f.NAME, end_line, start_line),
        "kind": _coalesce(_pick(f.KIND, start_line, end_line), f.KIND_INTERNAL),
        "service": _pick(f.SERVICE, start_line, end_line),
        "host": _host(filename),
        "pid": pid,
        "start_ts": start_ts,
        "end_ts": end_ts,
        "duration_ms": duration_ms,
        "status": status,
        "error_type": error_type,
        "error_message": _pick(f.ERROR_MESSAGE, end_line),
        "exception": _pick(f.EXCEPTION, end_line),
        "attributes": merge_patch(
            _user_fields(start_line) if start_line is not None else {},
            _user_fields(end_line) if end_line is not None else {},
        ),
        "has_start": start is not None,
        "has_end": end is not None,
        "filename": filename,
    }


# The text columns of copied_span_lines.sql that spans.sql uses: strings, or left to DuckDB.
_SPAN_TEXT = (
    f.PARENT_ID, f.NAME, f.KIND, f.SERVICE, f.STATUS, f.ERROR_TYPE, f.ERROR_MESSAGE, f.EXCEPTION,
)  # fmt: skip


def _checked(name: str, line: Line) -> tuple[datetime | None, int | None, float | None, Line]:
    """A span line whose text columns are strings (as ``->>`` reads them), with its typed
    ``ts``, ``pid`` and ``duration_ms`` (copied_span_lines.sql)."""
    get = line.get
    for key in _SPAN_TEXT:
        value = get(key)
        if value is not None and not isinstance(value, str):
            raise CannotScan(f"{key} is not a string")  # ->> gives its JSON text
    return _timestamp(line), _bigint(line, f.PID), _duration(line), line


def _pick(key: str, line: Line | None, other: Line | None = None) -> Any:
    """The first non-null ``key`` of the two lines (either may be absent)."""
    value = line.get(key) if line is not None else None
    if value is None and other is not None:
        value = other.get(key)
    return value


def _user_fields(line: Line) -> dict[str, Any]:
    ours = logtrace_keys()
    return {key: value for key, value in line.items() if key not in ours}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 as DuckDB's ``json_merge_patch`` (yyjson) does it, key order included: the
    target's keys the patch does not name, then the patch's keys (a null removes one)."""
    if not isinstance(patch, dict):
        return patch
    base = target if isinstance(target, dict) else {}
    merged = {key: value for key, value in base.items() if key not in patch}
    for key, value in patch.items():
        if value is not None:
            merged[key] = merge_patch(base.get(key), value)
    return merged


def _summary(trace_id: str, spans: list[Row]) -> Row:
    """The trace's row of traces.sql; ``{}`` when it has no span (as Reader.trace)."""
    if any(s["start_ts"] is None for s in spans):
        raise CannotScan("a span without a start time")  # how DuckDB orders NULL in a struct
    return summarize(trace_id, spans)


def _log_row(name: str, line: Line, span_names: dict[str, Any]) -> Row | None:
    """The line's row of logs.sql, or None for a line without a valid ``ts``."""
    ts = _timestamp(line)
    if ts is None:
        return None
    span_id = _text(line, f.SPAN_ID)
    return {
        "ts": ts,
        "level": _text(line, f.LEVEL),
        "message": _text(line, f.EVENT),
        "logger": _text(line, f.LOGGER),
        "service": _text(line, f.SERVICE),
        "pid": _bigint(line, f.PID),
        "trace_id": line[f.TRACE_ID],
        "span_id": span_id,
        "span_name": None if span_id is None else span_names.get(span_id),
        "is_span_event": line.get(f.SPAN) == "event",
        "error_type": _text(line, f.ERROR_TYPE),
        "error_message": _text(line, f.ERROR_MESSAGE),
        "exception": _text(line, f.EXCEPTION),
        "fields": line,
        "filename": name,
    }


def _log_key(row: Row) -> tuple[Any, ...]:
    """trace_logs.sql: ORDER BY ts, span_id, message (NULLs last)."""
    span_id, message = row["span_id"], row["message"]
    return (row["ts"], span_id is None, span_id or "", message is None, message or "")


# -- typed fields, as DuckDB casts them ---------------------------------------------------------


def _text(line: Line, key: str) -> str | None:
    value = line.get(key)
    if value is None or isinstance(value, str):
        return value
    raise CannotScan(f"{key} is not a string")  # ->> gives its JSON text: left to DuckDB


def _timestamp(line: Line) -> datetime | None:
    value = _text(line, f.TS)
    if value is None:
        return None
    if len(value) == 27 and value[26] == "Z":  # the writers' form: one C call, checked back
        try:
            at = datetime.fromisoformat(value[:26])
        except ValueError:
            pass
        else:
            if at.tzinfo is None and at.isoformat(timespec="microseconds") == value[:26]:
                return at
    match = _TS.fullmatch(value)
    if match is None:
        raise CannotScan("a time in another form")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int((fraction or "0").ljust(6, "0")),
        )  # fmt: skip
    except ValueError:
        raise CannotScan("a time that is no date") from None


def _bigint(line: Line, key: str) -> int | None:
    value = line.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64:
        return value
    raise CannotScan(f"{key} is not a 64-bit integer")


def _duration(line: Line) -> float | None:
    """``CASE WHEN abs(d) <= 1e12 THEN d END`` of the duration as a DOUBLE."""
    value = line.get(f.DURATION_MS)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CannotScan("duration_ms is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise CannotScan("duration_ms out of range") from None
    return number if abs(number) <= 1e12 else None


def _round(value: float) -> int:
    """DuckDB's ``round`` of a DOUBLE (half away from zero), as a BIGINT."""
    size = abs(value)
    whole = math.floor(size)
    if size - whole >= 0.5:
        whole += 1
    return int(math.copysign(whole, value))


def _coalesce(value: Any, otherwise: Any) -> Any:
    return otherwise if value is None else value


@functools.lru_cache(maxsize=1024)
def _host(filename: str) -> str | None:
    name = _SLASHES.split(filename)[-1]
    return name.split("_")[1] if _HOST_NAME.fullmatch(name) else None
