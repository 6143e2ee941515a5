"""logtrace's OTLP JSON, field by field, against the SDK's own file exporter for the same spans.

The spans are made by the real OpenTelemetry SDK; its ``opentelemetry-exporter-otlp-json-file``
writes them as the reference, while ``LogtraceSpanProcessor`` writes the same spans into
logtrace's files, which ``logtrace export`` turns back into OTLP JSON.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("opentelemetry.exporter.otlp.json.file")

from _export_helpers import parse_traces
from opentelemetry import trace
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

import logtrace
from logtrace import export
from logtrace.export.assemble import host_of
from logtrace.integrations.otel_spans import LogtraceSpanProcessor

BASE = 1_796_000_000_000_000_000  # ns, a whole microsecond: logtrace keeps microseconds


def _make_spans(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("shop.checkout", "2.1")
    at = lambda us: BASE + us * 1000  # noqa: E731
    root = tracer.start_span("GET /cart", kind=SpanKind.SERVER, start_time=at(0),
                             attributes={"http.method": "GET", "n": 3, "r": 0.25, "ok": True,
                                         "tags": ["a", "b"], "big": 2**40})  # fmt: skip
    with trace.use_span(root, end_on_exit=False):
        db = tracer.start_span("SELECT cart", kind=SpanKind.CLIENT, start_time=at(10),
                               attributes={"db.system": "sqlite"})  # fmt: skip
        db.set_attribute("db.rows", 7)
        db.add_event("fetched", {"rows": 7}, timestamp=at(40))
        db.set_status(Status(StatusCode.OK))
        db.end(end_time=at(50))
        pay = tracer.start_span("charge", kind=SpanKind.PRODUCER, start_time=at(60))
        pay.record_exception(ValueError("card declined"), timestamp=at(90))
        pay.set_status(Status(StatusCode.ERROR, "declined"))
        pay.end(end_time=at(100))
        inner = tracer.start_span("render", start_time=at(110))
        inner.end(end_time=at(120))
    root.end(end_time=at(200))


def _by_span(lines: list[dict[str, Any]]) -> dict[str, tuple[Any, Any, dict[str, Any]]]:
    out = {}
    for line in lines:
        parse_traces(line)  # valid for opentelemetry-proto, ids checked
        for resource in line["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    out[span["spanId"]] = (_kv(resource["resource"]["attributes"]),
                                           scope["scope"], span)  # fmt: skip
    return out


def _kv(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    return {p["key"]: p["value"] for p in pairs}


def _normal(span: dict[str, Any]) -> dict[str, Any]:
    """A span with attributes as a dict (their order is not part of the format)."""
    out = dict(span)
    out["attributes"] = _kv(span.get("attributes", []))
    out["events"] = [{**e, "attributes": _kv(e.get("attributes", []))}
                     for e in span.get("events", [])]  # fmt: skip
    return out


def test_same_spans_as_the_sdk_file_exporter(tmp_path: Path) -> None:
    """Ids, parent, flags, name, kind, times, attributes, events, status, resource and scope
    agree with opentelemetry-exporter-otlp-json-file, span by span."""
    directory = tmp_path / "logtrace"
    logtrace.configure("shop", directory=directory, flush="always", environ={})
    host = host_of(str(logtrace.current_file()))
    reference = io.StringIO()
    provider = TracerProvider(resource=Resource({"service.name": "shop", "host.name": host,
                                                 "process.pid": os.getpid()}))  # fmt: skip
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(stream=reference)))
    processor = LogtraceSpanProcessor()
    provider.add_span_processor(processor)
    _make_spans(provider)
    logtrace.shutdown()
    out = io.BytesIO()
    with logtrace.open(directory) as reader:
        export.write(reader, out, "otlp-json", logs=False)
    ours = _by_span([orjson.loads(x) for x in out.getvalue().splitlines()])
    theirs = _by_span([orjson.loads(x) for x in reference.getvalue().splitlines()])
    assert processor.errors == 0
    assert sorted(ours) == sorted(theirs) and len(ours) == 4
    for span_id, (resource, scope, span) in theirs.items():
        our_resource, our_scope, our_span = ours[span_id]
        assert our_resource == resource
        assert our_scope == scope
        assert _normal(our_span) == _normal(span), span["name"]
