"""Jaeger UI's upload JSON (the "JSON File" tab of Search): ``{"data": [trace, ...]}``.

A trace is ``{traceID, spans, processes}``; a process per service/host/pid (``p1``, ``p2``…);
a span has ``references`` (``CHILD_OF`` its parent), times in microseconds, typed ``tags``
(attributes, ``span.kind``, ``error``, ``otel.status_code``) and ``logs`` (its events).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .model import Resource, Span


def tag(key: str, value: Any) -> dict[str, Any]:
    """A Jaeger tag of the value's type (string, bool, int64, float64)."""
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if not isinstance(value, str):
        import orjson

        value = orjson.dumps(value, default=str).decode()
    return {"key": key, "type": "string", "value": value}


def jaeger_traces(spans: Iterable[Span]) -> dict[str, Any]:
    """The upload JSON of ``spans``, one trace per trace id."""
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    return {"data": [_trace(trace_id, group) for trace_id, group in by_trace.items()]}


def _trace(trace_id: str, spans: list[Span]) -> dict[str, Any]:
    processes: dict[Resource, str] = {}
    for span in spans:
        processes.setdefault(span.resource, f"p{len(processes) + 1}")
    return {
        "traceID": trace_id,
        "spans": [_span(span, processes[span.resource]) for span in spans],
        "processes": {
            key: {
                "serviceName": r.service,
                "tags": [tag("hostname", r.host), tag("pid", r.pid)],
            }
            for r, key in processes.items()
        },
        "warnings": None,
    }


def _span(span: Span, process_id: str) -> dict[str, Any]:
    tags = [tag(k, v) for k, v in span.attributes.items() if v is not None]
    if span.kind != "internal":
        tags.append(tag("span.kind", span.kind))
    if span.status_code == "error":
        tags.append(tag("error", True))
        tags.append(tag("otel.status_code", "ERROR"))
        if span.error_message:
            tags.append(tag("otel.status_description", span.error_message))
    elif span.status_code == "ok":
        tags.append(tag("otel.status_code", "OK"))
    references = []
    if span.parent_id:
        references.append(
            {"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": span.parent_id}
        )
    return {
        "traceID": span.trace_id,
        "spanID": span.span_id,
        "flags": 1 if span.sampled else 0,
        "operationName": span.name,
        "references": references,
        "startTime": span.start_ns // 1000,
        "duration": span.duration_ns // 1000,
        "tags": tags,
        "logs": [
            {
                "timestamp": e.time_ns // 1000,
                "fields": [tag("event", e.name)] + [tag(k, v) for k, v in e.attributes.items()],
            }
            for e in span.events
        ],
        "processID": process_id,
        "warnings": None,
    }
