"""OTLP JSON dicts (``otlp_json``) as protobuf messages of ``opentelemetry-proto``.

Extra ``logtrace[otel]``; imported only to send protobuf. ``json_format`` reads ``bytes``
fields as base64, and OTLP JSON writes ids as hex: a hex id would be decoded as base64 without
an error (32 hex digits becoming 24 bytes). So the ids are converted and their lengths checked
first.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from logtrace.format.shown import short_repr

_ID_BYTES = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


class BadId(ValueError):
    """An id that is not the hex of 16 (trace) or 8 (span) bytes, or is all zeros."""


def hex_ids_to_base64(request: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OTLP JSON request with its hex ids as base64, lengths checked.

    Raises:
        BadId: an id of the wrong length, not hex, or all zeros (an empty parent id is none).
    """
    out = copy.deepcopy(request)
    _convert(out)
    return out


def _convert(value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _convert(item)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        size = _ID_BYTES.get(key)
        if size is not None and isinstance(item, str):
            if key == "parentSpanId" and item == "":
                continue
            try:
                raw = bytes.fromhex(item)
            except ValueError:
                raise BadId(f"{key} {short_repr(item)} is not hex") from None
            if len(raw) != size or not any(raw):
                raise BadId(f"{key} {short_repr(item)}: expected {size} non-zero bytes")
            value[key] = base64.b64encode(raw).decode()
        else:
            _convert(item)


def trace_request(request: dict[str, Any]) -> Any:
    """The ``ExportTraceServiceRequest`` message of an OTLP JSON trace request."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    message = trace_service_pb2.ExportTraceServiceRequest()
    json_format.ParseDict(hex_ids_to_base64(request), message, ignore_unknown_fields=True)
    return message


def logs_request(request: dict[str, Any]) -> Any:
    """The ``ExportLogsServiceRequest`` message of an OTLP JSON logs request."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    message = logs_service_pb2.ExportLogsServiceRequest()
    json_format.ParseDict(hex_ids_to_base64(request), message, ignore_unknown_fields=True)
    return message


def rejected(signal: str, body: bytes, content_type: str) -> tuple[int, str]:
    """(items rejected, message) of a receiver's answer (OTLP ``partial_success``)."""
    if not body:
        return 0, ""
    try:
        if "json" in content_type:
            import orjson

            partial = orjson.loads(body).get("partialSuccess") or {}
            count = partial.get("rejectedSpans" if signal == "traces" else "rejectedLogRecords")
            return int(count or 0), str(partial.get("errorMessage") or "")
        if signal == "traces":
            from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

            traces = trace_service_pb2.ExportTraceServiceResponse.FromString(body)
            return traces.partial_success.rejected_spans, traces.partial_success.error_message
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

        logs = logs_service_pb2.ExportLogsServiceResponse.FromString(body)
        return logs.partial_success.rejected_log_records, logs.partial_success.error_message
    except Exception:
        return 0, ""
