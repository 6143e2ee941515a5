"""OTLP JSON, as the Collector's file exporter writes it and ``otlpjsonfile`` reads it.

One ``ExportTraceServiceRequest`` (``{"resourceSpans": [...]}``) per line, spans grouped by
resource (``service.name``, ``host.name``, ``process.pid``) and then by instrumentation scope;
log lines as ``ExportLogsServiceRequest`` lines (``{"resourceLogs": [...]}``). The protobuf JSON
mapping with OTLP's exceptions: ids are lowercase hex (not base64), enums integers, 64-bit
integers decimal strings, keys lowerCamelCase. Each line stays under ``LINE_LIMIT`` bytes (the
receiver's default limit): requests are split, and a span too big on its own loses events,
then attribute text, and counts what it lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from ..format.lines import TOO_DEEP
from .model import OTLP_KIND, Log, Resource, Span

# The otlpjsonfile receiver's default limit of a line is 1 MiB; a margin for the newline.
LINE_LIMIT = 1024 * 1024 - 1024
# Spans (or log records) per request line.
MAX_ITEMS = 1000
_INT64 = (-(2**63), 2**63 - 1)
# OTLP span flags: bit 8 says whether bit 9 (the parent is remote) is known.
HAS_IS_REMOTE = 0x100
IS_REMOTE = 0x200
_STATUS_CODE = {"unset": 0, "ok": 1, "error": 2}
# The deepest nesting of an attribute's value kept (the writer's own limit: redact_walk).
MAX_DEPTH = 16
# Log levels as OTLP severity numbers (the first number of each range).
SEVERITY = {"debug": 5, "info": 9, "warning": 13, "warn": 13, "error": 17, "critical": 21}
SEVERITY["fatal"] = 21
# What spans (log records) are grouped by in a request: their process, then their scope.
Key = tuple[Resource, tuple[str, "str | None"]]


def any_value(value: Any, depth: int = 0) -> dict[str, Any]:
    """An attribute value as OTLP's ``AnyValue``: typed, 64-bit integers as strings; nesting
    past ``MAX_DEPTH`` (another program's line: logtrace writes 16 levels at most) as the
    writer's marker, since each level is four of JSON and a receiver's parser has a limit."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:
            return {"intValue": str(value)}
        return {"stringValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if value is None:
        return {}
    if isinstance(value, (list, tuple, dict)) and depth >= MAX_DEPTH:
        return {"stringValue": TOO_DEEP}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [any_value(v, depth + 1) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": key_values(value, depth + 1)}}
    return {"stringValue": str(value)}


def key_values(attributes: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """Attributes as OTLP's list of ``KeyValue`` (null values left out)."""
    return [
        {"key": str(k), "value": any_value(v, depth)}
        for k, v in attributes.items()
        if v is not None
    ]


def resource_json(resource: Resource) -> dict[str, Any]:
    """OTLP's ``Resource`` of a process."""
    return {
        "attributes": key_values(
            {
                "service.name": resource.service,
                "host.name": resource.host,
                "process.pid": resource.pid,
            }
        )
    }


def span_flags(span: Span, where: dict[tuple[str, str], Resource]) -> int:
    """OTLP span flags: whether the parent is remote (in another process), when known
    (``where``: the process of each span, by trace id and span id)."""
    if span.parent_id is None:
        return HAS_IS_REMOTE
    parent = where.get((span.trace_id, span.parent_id))
    if parent is None:
        return 0
    return HAS_IS_REMOTE | (IS_REMOTE if parent != span.resource else 0)


def span_json(span: Span, flags: int) -> dict[str, Any]:
    """OTLP's ``Span``, keys in the order the SDK's exporter writes them."""
    out: dict[str, Any] = {"traceId": span.trace_id, "spanId": span.span_id}
    if span.parent_id:
        out["parentSpanId"] = span.parent_id
    out["flags"] = flags
    out["name"] = span.name
    out["kind"] = OTLP_KIND.get(span.kind, 1)
    out["startTimeUnixNano"] = str(span.start_ns)
    out["endTimeUnixNano"] = str(span.end_ns)
    if span.attributes:
        out["attributes"] = key_values(span.attributes)
    if span.events:
        out["events"] = [
            _without_empty(
                {
                    "timeUnixNano": str(e.time_ns),
                    "name": e.name,
                    "attributes": key_values(e.attributes),
                }
            )
            for e in span.events
        ]
    status: dict[str, Any] = {}
    if span.status_code == "error" and span.error_message:
        status["message"] = span.error_message
    if span.status_code != "unset":
        status["code"] = _STATUS_CODE[span.status_code]
    out["status"] = status
    return out


def log_json(log: Log) -> dict[str, Any]:
    """OTLP's ``LogRecord`` of a log line, with its trace and span ids."""
    out: dict[str, Any] = {
        "timeUnixNano": str(log.time_ns),
        "observedTimeUnixNano": str(log.time_ns),
        "severityNumber": SEVERITY.get(log.level.lower(), 9),
        "severityText": log.level.upper(),
        "body": {"stringValue": log.message},
    }
    if log.attributes:
        out["attributes"] = key_values(log.attributes)
    if log.trace_id and log.span_id:
        out["flags"] = 1 if log.sampled else 0
        out["traceId"] = log.trace_id
        out["spanId"] = log.span_id
    return out


def _without_empty(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v != []}


def trace_requests(
    spans: Iterable[Span],
    *,
    max_bytes: int = LINE_LIMIT,
    max_spans: int = MAX_ITEMS,
    known: dict[tuple[str, str], Resource] | None = None,
) -> Iterator[dict[str, Any]]:
    """``ExportTraceServiceRequest`` dicts of ``spans``, each under ``max_bytes`` as a line.

    Args:
        known: the processes of other spans (by trace id and span id: span ids are unique
            within a trace only) that may be parents of these.
    """
    spans = list(spans)
    where = dict(known or {})
    where.update(((s.trace_id, s.span_id), s.resource) for s in spans)
    items = [((s.resource, s.scope), span_json(s, span_flags(s, where))) for s in spans]
    yield from _requests(items, "resourceSpans", "scopeSpans", "spans", max_bytes, max_spans)


def log_requests(
    logs: Iterable[Log], *, max_bytes: int = LINE_LIMIT, max_logs: int = MAX_ITEMS
) -> Iterator[dict[str, Any]]:
    """``ExportLogsServiceRequest`` dicts of ``logs`` (scope: the logger), each under the limit."""
    items: list[tuple[Key, dict[str, Any]]] = [
        ((log.resource, (log.logger, None)), log_json(log)) for log in logs
    ]
    yield from _requests(items, "resourceLogs", "scopeLogs", "logRecords", max_bytes, max_logs)


def _requests(
    items: list[tuple[Key, dict[str, Any]]],
    top: str,
    scoped: str,
    leaf: str,
    max_bytes: int,
    max_items: int,
) -> Iterator[dict[str, Any]]:
    group: dict[Key, list[dict[str, Any]]] = {}
    size = count = 0
    overhead = 600  # a resource and a scope, around each group
    for key, item in items:
        item = fit(item, max_bytes - 2 * overhead)
        item_size = len(orjson.dumps(item)) + 1
        extra = item_size + (overhead if key not in group else 0)
        if group and (size + extra > max_bytes or count >= max_items):
            yield _request(group, top, scoped, leaf)
            group, size, count = {}, 0, 0
            extra = item_size + overhead
        group.setdefault(key, []).append(item)
        size += extra
        count += 1
    if group:
        yield _request(group, top, scoped, leaf)


def _request(
    group: dict[Key, list[dict[str, Any]]], top: str, scoped: str, leaf: str
) -> dict[str, Any]:
    by_resource: dict[Resource, list[dict[str, Any]]] = {}
    for (resource, (name, version)), items in group.items():
        scope: dict[str, Any] = {"name": name}
        if version:
            scope["version"] = version
        by_resource.setdefault(resource, []).append({"scope": scope, leaf: items})
    return {
        top: [
            {"resource": resource_json(resource), scoped: scopes}
            for resource, scopes in by_resource.items()
        ]
    }


def fit(item: dict[str, Any], limit: int) -> dict[str, Any]:
    """``item`` (a span or log record) cut down to ``limit`` bytes of JSON: events dropped from
    the end first, then the longest attributes; the counts of what went are set. Then, for
    another program's line with a huge name, status message or log body, those texts cut."""
    if len(orjson.dumps(item)) <= limit:
        return item
    item = dict(item)
    events = list(item.get("events", []))
    while events and len(orjson.dumps(item)) > limit:
        events.pop()
        item["events"] = events
        item["droppedEventsCount"] = item.get("droppedEventsCount", 0) + 1
    if not events:
        item.pop("events", None)
    attributes = list(item.get("attributes", []))
    while attributes and len(orjson.dumps(item)) > limit:
        attributes.sort(key=lambda kv: len(orjson.dumps(kv)))
        attributes.pop()
        item["attributes"] = attributes
        item["droppedAttributesCount"] = item.get("droppedAttributesCount", 0) + 1
    if not attributes:
        item.pop("attributes", None)
    if len(orjson.dumps(item)) > limit:
        keep = max(limit // 4, 1024)
        if isinstance(item.get("name"), str):
            item["name"] = _cut_text(item["name"], keep)
        for key, text in (("status", "message"), ("body", "stringValue")):
            part = item.get(key)
            if isinstance(part, dict) and isinstance(part.get(text), str):
                item[key] = {**part, text: _cut_text(part[text], keep)}
    return item


def _cut_text(text: str, keep: int) -> str:
    """``text`` cut to ``keep`` characters with the writer's marker (``Scrubber.text``'s)."""
    return text if len(text) <= keep else f"{text[:keep]}…[truncated {len(text) - keep} chars]"


def dumps(request: dict[str, Any]) -> bytes:
    """One request as one line of bytes (with its newline)."""
    return orjson.dumps(request) + b"\n"


def write_batches(
    batches: Iterable[Any], stream: IO[bytes], *, logs: bool = True
) -> tuple[int, int, int]:
    """Write the OTLP JSON lines of ``batches`` (``model.Batch``) to ``stream``.

    Whole traces are gathered until a request's worth (``MAX_ITEMS`` spans) is there, so a
    line holds many small traces. Returns (spans, log records, lines) written.
    """
    spans: list[Span] = []
    records: list[Log] = []
    counts = [0, 0, 0]

    def flush() -> None:
        for request in trace_requests(spans):
            stream.write(dumps(request))
            counts[2] += 1
        if logs:
            for request in log_requests(records):
                stream.write(dumps(request))
                counts[2] += 1
        counts[0] += len(spans)
        counts[1] += len(records) if logs else 0
        spans.clear()
        records.clear()

    for batch in batches:
        spans.extend(batch.spans)
        records.extend(batch.logs)
        if len(spans) >= MAX_ITEMS or len(records) >= MAX_ITEMS:
            flush()
    flush()
    return counts[0], counts[1], counts[2]
