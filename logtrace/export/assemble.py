"""logtrace's lines -> spans and log lines of the export model (``model``).

A span is put together from its start line (attributes, start time), its end line (duration,
status, error, attributes set later) and its event lines. Either boundary line may be missing:
an end line alone gives the span (it carries name, parent and duration); a start line alone is
an unfinished span, exported with ``logtrace.unfinished = true`` and ending at the last time
seen. User fields that logtrace renamed (``level`` -> ``level_``) get their names back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import PurePath
from typing import Any

from ..format.fields import (
    DURATION_MS,
    ERROR_MESSAGE,
    ERROR_TYPE,
    EVENT,
    EXCEPTION,
    FILE_EVENT,
    LEVEL,
    LOGGER,
    NAME,
    PARENT_ID,
    PID,
    RESERVED,
    SERVICE,
    SPAN,
    SPAN_END,
    SPAN_EVENT,
    SPAN_ID,
    SPAN_START,
    STATUS,
    STATUS_ERROR,
    TRACE_FLAGS,
    TRACE_ID,
    TS,
)
from ..format.naming import FILE_NAME as _FILE_NAME
from .model import (
    KINDS,
    LOGTRACE_VERSION,
    SCOPE_NAME,
    SCOPE_VERSION,
    STATUS_CODE,
    UNFINISHED,
    Batch,
    Event,
    Log,
    Resource,
    Span,
)
from .otlp_input import only_hex_id

KIND = "kind"
# logtrace's own fields: never attributes. Fields renamed to stay clear of them get their name
# back (``name_`` -> ``name``).
OWN_FIELDS = frozenset(RESERVED | {EVENT, KIND})
DEFAULT_SCOPE = ("logtrace", LOGTRACE_VERSION)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The last nanosecond OTLP's fixed64 times hold (2554-07-21).
_LAST_NS = 2**64 - 1
# A duration past this is none, as the views read it (events.sql: 1e12 ms, 31 years).
_MAX_DURATION_MS = 1e12
_US = timedelta(microseconds=1)


def parse_ts(value: Any) -> int | None:
    """A line's ``ts`` (RFC 3339, UTC) as nanoseconds since the epoch; None if it is not one."""
    if type(value) is not str:
        return None
    # logtrace's own form, 2026-12-01T23:31:34.705346Z: the second looked up, then the µs.
    if len(value) == 27 and value[19] == "." and value[26] == "Z" and value[20:26].isdigit():
        second = _seconds.get(value[:19])
        if second is None:
            if len(_seconds) > 100_000:
                _seconds.clear()
            parsed = _parse(value[:19])
            if parsed is None:
                return None
            second = _seconds[value[:19]] = parsed // 1_000_000_000
        return (second * 1_000_000 + int(value[20:26])) * 1000
    return _parse(value)


_seconds: dict[str, int] = {}


def _parse(value: str) -> int | None:
    try:
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return ((when - _EPOCH) // _US) * 1000


def host_of(filename: str | None) -> str:
    """The host part of a logtrace file's name (``svc_host_pid_time.jsonl``); ``unknown``."""
    if filename:
        match = _FILE_NAME.fullmatch(PurePath(filename).name)
        if match is not None:
            return match["host"]
    return "unknown"


def resource_of(line: dict[str, Any], host: str) -> Resource:
    """The process a line was written by."""
    pid = line.get(PID)
    service = line.get(SERVICE)
    return Resource(
        service if isinstance(service, str) else "unknown_service",
        host,
        pid if isinstance(pid, int) and not isinstance(pid, bool) else 0,
    )


def user_fields(line: dict[str, Any]) -> dict[str, Any]:
    """The user's fields of a line (attributes), under the names they were given."""
    out: dict[str, Any] = {}
    for key, value in line.items():
        if key in OWN_FIELDS or value is None:
            continue
        if key.endswith("_") and key[:-1] in OWN_FIELDS:
            key = key[:-1]
        out[key] = value
    return out


class SpanParts:
    """The lines of one span seen so far: start, end, events, and the host of their file."""

    __slots__ = ("end", "events", "host", "start")

    def __init__(self, host: str) -> None:
        self.start: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []
        self.host = host

    def add(self, line: dict[str, Any]) -> None:
        """Take one of the span's lines."""
        marker = line.get(SPAN)
        if marker == SPAN_START:
            self.start = line
        elif marker == SPAN_END:
            self.end = line
        else:
            self.events.append(line)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (for a checkpoint)."""
        return {"start": self.start, "end": self.end, "events": self.events, "host": self.host}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SpanParts:
        """The parts saved by ``to_json``."""
        parts = cls(str(value.get("host", "unknown")))
        parts.start, parts.end = value.get("start"), value.get("end")
        parts.events = list(value.get("events") or [])
        return parts


def build_span(parts: SpanParts, last_seen_ns: int | None = None) -> Span | None:
    """The span of ``parts``; None without a start or end line (or without times).

    Args:
        last_seen_ns: for an unfinished span (no end line), when it is taken to end: the last
            time seen in its trace; its start otherwise.
    """
    start, end = parts.start, parts.end
    main = start if start is not None else end
    if main is None:
        return None
    duration_ns = _duration_ns(end)
    start_ns = parse_ts(start.get(TS)) if start is not None else None
    end_ts = parse_ts(end.get(TS)) if end is not None else None
    if start_ns is None:
        if end_ts is None:
            return None
        start_ns = end_ts - (duration_ns or 0)
    attributes = user_fields(start) if start is not None else {}
    if end is not None:
        attributes.update(user_fields(end))
    trace_id, span_id = line_id(main.get(TRACE_ID), 16), line_id(main.get(SPAN_ID), 8)
    if trace_id is None or span_id is None:
        return None  # another program's ids (decimal, too short): no OTLP span can carry them
    start_ns = _in_range(start_ns)
    span = Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=line_id((start or {}).get(PARENT_ID), 8)
        or line_id((end or {}).get(PARENT_ID), 8),
        name=_text(main.get(NAME)) or _text(main.get(EVENT)) or "span",
        resource=resource_of(main, parts.host),
        start_ns=start_ns,
        end_ns=start_ns,
        kind=_kind(start, end),
        sampled=main.get(TRACE_FLAGS) != "00",
    )
    name = attributes.pop(SCOPE_NAME, None)
    version = attributes.pop(SCOPE_VERSION, None)
    if isinstance(name, str):
        span.scope = (name, version if isinstance(version, str) else None)
    else:
        span.scope = DEFAULT_SCOPE
    code = attributes.pop(STATUS_CODE, None)
    if end is None:
        span.status = "unfinished"
        span.end_ns = _in_range(max(start_ns, last_seen_ns or start_ns))
        attributes[UNFINISHED] = True
    else:
        span.end_ns = _in_range(start_ns + (duration_ns if duration_ns is not None else 0))
        _set_status(span, end, code)
    span.attributes = attributes
    span.events = [_event(line) for line in parts.events if parse_ts(line.get(TS)) is not None]
    for event in span.events:
        event.time_ns = _in_range(event.time_ns)
    _add_exception_event(span)
    return span


def line_id(value: Any, size: int) -> str | None:
    """A line's id as OTLP carries it: ``size`` bytes of lowercase hex, not all zeros
    (``otlp_input.only_hex_id``); a 64-bit trace id (16 digits, as Jaeger and Zipkin may write
    it) padded with zeros; None for any other value (another program's decimal or short ids),
    which no OTLP span can carry."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if size == 16 and len(text) == 16:
        text = text.zfill(32)
    return only_hex_id(text, size)


def _in_range(ns: int) -> int:
    """A time OTLP's fixed64 holds: from 1970 to 2554 (a time outside, from another program's
    line, is put at the nearest end rather than failing the whole request)."""
    return min(max(ns, 0), _LAST_NS)


def _duration_ns(end: dict[str, Any] | None) -> int | None:
    """The end line's ``duration_ms`` in nanoseconds; None for one that is no duration: not a
    number, negative, or past ``_MAX_DURATION_MS`` (as the views read it: ``events.sql``). A
    duration of 1e303 ms and more is infinite in nanoseconds, and ``round`` of it raised
    OverflowError, which ended the whole export (and ``--follow``, at every start)."""
    value = None if end is None else end.get(DURATION_MS)
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value <= _MAX_DURATION_MS
    ):
        return round(value * 1_000_000)
    return None


def _kind(*lines: dict[str, Any] | None) -> str:
    for line in lines:
        value = None if line is None else line.get(KIND)
        if value in KINDS:
            return str(value)
    return "internal"


def _set_status(span: Span, end: dict[str, Any], code: Any) -> None:
    error_type = _text(end.get(ERROR_TYPE))
    failed = end.get(STATUS) == STATUS_ERROR or error_type is not None or code == "ERROR"
    if failed:
        span.status = span.status_code = "error"
        span.error_type = error_type
        span.error_message = _text(end.get(ERROR_MESSAGE))
        span.exception = _text(end.get(EXCEPTION))
    elif code == "OK":
        span.status_code = "ok"


def _add_exception_event(span: Span) -> None:
    """A failed span's error as OpenTelemetry's ``exception`` event, unless it has one."""
    if span.status != "error" or span.error_type is None:
        return
    if any(event.name == "exception" for event in span.events):
        return
    attributes: dict[str, Any] = {"exception.type": span.error_type}
    if span.error_message is not None:
        attributes["exception.message"] = span.error_message
    if span.exception is not None:
        attributes["exception.stacktrace"] = span.exception
    span.events.append(Event("exception", span.end_ns, attributes))


def _event(line: dict[str, Any]) -> Event:
    return Event(_text(line.get(EVENT)) or "event", parse_ts(line.get(TS)) or 0, user_fields(line))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def build_log(line: dict[str, Any], host: str) -> Log | None:
    """The log record of a line that is not a span boundary; None for logtrace's file headers
    and lines without a time."""
    time_ns = parse_ts(line.get(TS))
    if time_ns is None or (line.get(EVENT) == FILE_EVENT and line.get(LOGGER) == "logtrace"):
        return None
    attributes = user_fields(line)
    for key, name in ((ERROR_TYPE, "type"), (ERROR_MESSAGE, "message"), (EXCEPTION, "stacktrace")):
        value = _text(line.get(key))
        if value is not None:
            attributes[f"exception.{name}"] = value
    message = line.get(EVENT)
    level = line.get(LEVEL)
    logger = line.get(LOGGER)
    return Log(
        time_ns=_in_range(time_ns),
        level=level if isinstance(level, str) else "info",
        message=message if isinstance(message, str) else ("" if message is None else str(message)),
        resource=resource_of(line, host),
        logger=logger if isinstance(logger, str) else "unknown",
        trace_id=line_id(line.get(TRACE_ID), 16),
        span_id=line_id(line.get(SPAN_ID), 8),
        sampled=line.get(TRACE_FLAGS) != "00",
        attributes=attributes,
    )


def is_span_line(line: dict[str, Any]) -> bool:
    """A span's start, end or event line (with ids)."""
    return (
        line.get(SPAN) in (SPAN_START, SPAN_END, SPAN_EVENT)
        and isinstance(line.get(TRACE_ID), str)
        and isinstance(line.get(SPAN_ID), str)
    )


def assemble(lines: Iterable[tuple[dict[str, Any], str]]) -> Batch:
    """Spans and log lines of whole traces from their lines, in any order: (line, host) pairs.

    An event line of a span that has no start or end line here is exported as a log line.
    """
    parts: dict[tuple[str, str], SpanParts] = {}
    batch = Batch()
    last_seen: dict[str, int] = {}
    for line, host in lines:
        ts = parse_ts(line.get(TS))
        trace_id = line.get(TRACE_ID)
        if ts is not None and isinstance(trace_id, str):
            last_seen[trace_id] = max(last_seen.get(trace_id, ts), ts)
        if is_span_line(line):
            key = (str(line[TRACE_ID]), str(line[SPAN_ID]))
            found = parts.get(key)
            if found is None:
                found = parts[key] = SpanParts(host)
            found.add(line)
            continue
        log = build_log(line, host)
        if log is not None:
            batch.logs.append(log)
    for (trace_id, _), found in parts.items():
        span = build_span(found, last_seen.get(trace_id))
        if span is not None:
            batch.spans.append(span)
        else:
            batch.logs.extend(
                log for log in (build_log(e, found.host) for e in found.events) if log is not None
            )
    batch.spans.sort(key=lambda s: (s.trace_id, s.start_ns, s.span_id))
    batch.logs.sort(key=lambda log: log.time_ns)
    return batch
