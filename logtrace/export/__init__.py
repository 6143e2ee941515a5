"""Exporting logtrace's traces: OTLP JSON, Chrome/Perfetto, Jaeger and Zipkin JSON, OTLP/HTTP.

Read side: the input is a Reader (``logtrace.open``); nothing here runs in a traced program::

    import logtrace
    from logtrace import export

    with logtrace.open("./logtrace") as reader:
        with open("traces.otlp.jsonl", "wb") as out:
            export.write(reader, out, "otlp-json", filters={"service": "api"})

``send`` posts OTLP/HTTP to a collector; ``follow.Shipper`` keeps doing it as the files grow;
``importer.import_otlp`` reads OTLP JSON files back into logtrace's format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

import orjson

from logtrace.format.shown import short_repr

from .model import Batch, Event, Log, Resource, Span
from .otlp_http import Sender, Summary

FORMATS = ("otlp-json", "chrome", "jaeger", "zipkin")

__all__ = [
    "FORMATS",
    "Batch",
    "Event",
    "Log",
    "Resource",
    "Sender",
    "Span",
    "Summary",
    "batches",
    "send",
    "write",
]


def batches(
    reader: Any,
    trace_ids: list[str] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> Iterator[Batch]:
    """The spans and log lines to export, one ``Batch`` per trace.

    With neither ``trace_ids`` nor ``filters``: everything, log lines outside traces too.

    Args:
        reader: a ``logtrace.open(...)`` Reader.
        trace_ids: ids or unique prefixes of the traces to export.
        filters: as ``logtrace ls`` takes them: ``since``, ``until`` (datetimes, UTC),
            ``service``, ``name``, ``status``, ``min_duration_ms``, ``attr_key``/``attr_value``.

    Raises:
        ReadError: a malformed, unknown or ambiguous trace id; failing SQL.
    """
    from .source import batches as read_batches
    from .source import select_traces

    chosen = select_traces(reader, trace_ids, filters)
    everything = not trace_ids and not any(v is not None for v in (filters or {}).values())
    return read_batches(reader, chosen, untraced=everything)


def write(
    reader: Any,
    out: IO[bytes],
    format: str = "otlp-json",
    *,
    trace_ids: list[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    logs: bool = True,
) -> dict[str, int]:
    """Write the chosen traces to ``out`` (binary) in ``format``; return the counts written.

    ``otlp-json`` streams one trace at a time; the single-document formats (``chrome``,
    ``jaeger``, ``zipkin``) hold the whole selection in memory.

    Raises:
        ValueError: an unknown format. ReadError: as for :func:`batches`.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {short_repr(format)}: use one of {', '.join(FORMATS)}")
    found = batches(reader, trace_ids, filters)
    if format == "otlp-json":
        from .otlp_json import write_batches

        spans, records, lines = write_batches(found, out, logs=logs)
        return {"spans": spans, "logs": records, "lines": lines}
    spans_list: list[Span] = []
    logs_list: list[Log] = []
    for batch in found:
        spans_list.extend(batch.spans)
        logs_list.extend(batch.logs)
    document: Any
    if format == "chrome":
        from .chrome import chrome_trace

        document = chrome_trace(spans_list, logs_list if logs else ())
    elif format == "jaeger":
        from .jaeger import jaeger_traces

        document = jaeger_traces(spans_list)
    else:
        from .zipkin import zipkin_spans

        document = zipkin_spans(spans_list)
    out.write(orjson.dumps(document) + b"\n")
    return {"spans": len(spans_list), "logs": len(logs_list) if format == "chrome" else 0}


def send(
    reader: Any,
    sender: Sender,
    *,
    trace_ids: list[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    logs: bool = True,
    batch_size: int = 512,
) -> Summary:
    """Send the chosen traces to an OTLP/HTTP endpoint in batches; return the summary."""
    from .otlp_http import count_items
    from .otlp_json import log_requests, trace_requests

    spans: list[Span] = []
    records: list[Log] = []

    def flush() -> None:
        for request in trace_requests(spans, max_spans=batch_size):
            sender.send("traces", request, count_items(request))
        if logs:
            for request in log_requests(records, max_logs=batch_size):
                sender.send("logs", request, count_items(request))
        spans.clear()
        records.clear()

    for batch in batches(reader, trace_ids, filters):
        spans.extend(batch.spans)
        records.extend(batch.logs)
        if len(spans) >= batch_size or len(records) >= batch_size:
            flush()
    flush()
    return sender.summary
