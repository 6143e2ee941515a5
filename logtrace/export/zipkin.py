"""Zipkin v2 JSON (what ``POST /api/v2/spans`` takes and Zipkin's UI uploads): a list of spans.

``{traceId, id, parentId, name, kind, timestamp, duration, localEndpoint, annotations, tags}``:
times in microseconds, ``kind`` upper case and left out for internal spans, tags strings only
(non-strings as JSON), span events as annotations, a failed span tagged ``error``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from .model import Span


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()


def zipkin_spans(spans: Iterable[Span]) -> list[dict[str, Any]]:
    """The Zipkin v2 spans of ``spans``."""
    out = []
    for span in spans:
        item: dict[str, Any] = {"traceId": span.trace_id, "id": span.span_id}
        if span.parent_id:
            item["parentId"] = span.parent_id
        item["name"] = span.name
        if span.kind != "internal":
            item["kind"] = span.kind.upper()
        item["timestamp"] = span.start_ns // 1000
        item["duration"] = max(1, span.duration_ns // 1000)
        item["localEndpoint"] = {"serviceName": span.resource.service}
        if span.events:
            item["annotations"] = [
                {"timestamp": e.time_ns // 1000, "value": e.name} for e in span.events
            ]
        tags = {k: _text(v) for k, v in span.attributes.items() if v is not None}
        tags.update({"host.name": span.resource.host, "process.pid": str(span.resource.pid)})
        if span.status_code == "error":
            tags["error"] = span.error_message or span.error_type or "error"
        item["tags"] = tags
        out.append(item)
    return out
