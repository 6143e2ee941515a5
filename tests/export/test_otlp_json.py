"""OTLP JSON export: valid ExportTraceServiceRequest/ExportLogsServiceRequest lines, the same
as the SDK's own file exporter writes, each line under 1 MiB."""

from __future__ import annotations

import base64
import io
import re
import socket
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("opentelemetry.proto")

from _export_helpers import ids_to_base64, logs_of, parse_logs, parse_traces, spans_of, written
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import logtrace
from logtrace import export
from logtrace.export import otlp_json
from logtrace.export.model import Event, Resource, Span

__all__ = ["written"]


def _export(directory: Path, **kwargs: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    with logtrace.open(directory) as reader:
        export.write(reader, out, "otlp-json", **kwargs)
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_every_line_is_a_valid_request_of_opentelemetry_proto(written: Path) -> None:
    """Each line parses as ExportTraceServiceRequest or ExportLogsServiceRequest, ids 16/8 bytes."""
    lines = _export(written)
    spans, records = [], []
    for line in lines:
        assert set(line) in ({"resourceSpans"}, {"resourceLogs"})
        if "resourceSpans" in line:
            spans.extend(spans_of(parse_traces(line)))
        else:
            records.extend(logs_of(parse_logs(line)))
    with logtrace.open(written) as reader:
        expected = reader.sql("select count(*) from spans").fetchall()[0][0]
        traced_logs = reader.sql(
            "select count(*) from logs where not is_span_event and message <> 'logtrace.file'"
        ).fetchall()
    assert len(spans) == expected == 10
    assert len(records) == traced_logs[0][0] == 4
    resources = {
        tuple((kv.key, kv.value.string_value or kv.value.int_value) for kv in r.attributes)
        for r, _, _ in spans
    }
    assert {dict(r)["service.name"] for r in resources} == {"coordinator", "worker"}
    assert len(resources) == 3  # one coordinator, a worker process per trace


def test_attributes_are_typed_and_int64_are_strings(written: Path) -> None:
    """Attributes keep their JSON type; 64-bit integers (times, ints) are decimal strings."""
    lines = [line for line in _export(written) if "resourceSpans" in line]
    request = next(
        s for line in lines for r in line["resourceSpans"] for sc in r["scopeSpans"]
        for s in sc["spans"] if s["name"] == "request"
    )  # fmt: skip
    values = {kv["key"]: kv["value"] for kv in request["attributes"]}
    assert values["ratio"] == {"doubleValue": 0.5}
    assert values["ok"] == {"boolValue": True}
    assert values["path"] == {"stringValue": "/x"}
    assert values["big"] == {"intValue": str(2**40)}
    assert values["tags"] == {
        "arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}
    }
    assert values["meta"] == {"kvlistValue": {"values": [{"key": "k", "value": {"intValue": "1"}}]}}
    assert isinstance(request["startTimeUnixNano"], str) and request["kind"] == 1
    assert request["events"][0]["name"] == "checkpoint"


def test_failed_span_has_error_status_and_exception_event(written: Path) -> None:
    """A failed span: status code 2 with its message, and OTel's exception event."""
    lines = [line for line in _export(written) if "resourceSpans" in line]
    message = parse_traces(lines[0])
    failed = [s for _, _, s in spans_of(message) if s.name == "validate"]
    assert failed and failed[0].status.code == 2 and failed[0].status.message == "bad input"
    event = failed[0].events[0]
    attributes = {kv.key: kv.value.string_value for kv in event.attributes}
    assert event.name == "exception" and attributes["exception.type"] == "ValueError"
    assert "Traceback" in attributes["exception.stacktrace"]


def test_log_lines_are_otlp_logs_with_their_span(written: Path) -> None:
    """Log lines become log records carrying the trace and span id of their span."""
    lines = [line for line in _export(written) if "resourceLogs" in line]
    records = [rec for line in lines for _, _, rec in logs_of(parse_logs(line))]
    received = [r for r in records if r.body.string_value == "received"]
    assert len(received) == 2
    assert all(len(r.trace_id) == 16 and len(r.span_id) == 8 for r in received)
    assert received[0].severity_number == 9 and received[0].severity_text == "INFO"


def test_json_format_alone_misreads_hex_ids() -> None:
    """The trap: json_format decodes a hex id as base64 silently; the checks here catch it."""
    trace_id = "0123456789abcdef0123456789abcdef"
    line = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": trace_id,
             "spanId": "0123456789abcdef", "name": "x"}]}]}]}  # fmt: skip
    naive = json_format.ParseDict(line, ExportTraceServiceRequest())
    assert len(naive.resource_spans[0].scope_spans[0].spans[0].trace_id) == 24
    checked = parse_traces(line)
    assert checked.resource_spans[0].scope_spans[0].spans[0].trace_id.hex() == trace_id
    with pytest.raises(AssertionError):
        ids_to_base64({"traceId": "00" * 16})
    with pytest.raises((AssertionError, ValueError)):
        ids_to_base64({"spanId": base64.b64encode(b"12345678").decode()})


def _span(n: int, **kwargs: Any) -> Span:
    resource = Resource("svc", "host", 1)
    return Span(f"{n:032x}", f"{n:016x}", None, "s", resource, 10, 20, **kwargs)


def test_every_line_stays_under_one_mib() -> None:
    """Big spans are spread over lines under the limit; one too big alone loses events, counted."""
    big = "x" * 200_000
    spans = [_span(n + 1, attributes={"blob": big}) for n in range(12)]
    events = [Event(f"e{i}", 15, {"blob": big}) for i in range(8)]
    spans.append(_span(99, events=events))
    requests = list(otlp_json.trace_requests(spans))
    sizes = [len(otlp_json.dumps(r)) for r in requests]
    assert len(requests) > 1 and max(sizes) < 1024 * 1024
    found = [s for r in requests for _, _, s in spans_of(parse_traces(r))]
    assert sorted(s.span_id.hex() for s in found) == sorted(s.span_id for s in spans)
    cut = next(s for s in found if s.span_id.hex() == f"{99:016x}")
    assert cut.dropped_events_count > 0 and len(cut.events) + cut.dropped_events_count == 8


def test_an_attribute_nested_200_deep_is_cut_and_the_export_goes_on(
    written: Path, tmp_path: Path
) -> None:
    """Another program's line with an attribute nested 200 levels deep (logtrace writes 16 at
    most): the export aborted with orjson's "TypeError: Recursion limit reached"; the value is
    cut at 16 levels with the writer's marker, and every line parses with opentelemetry-proto."""
    import shutil

    directory = tmp_path / "logtrace"
    shutil.copytree(written, directory)
    deep: Any = 1
    for _ in range(200):
        deep = {"a": deep}
    day = next(p for p in directory.iterdir() if p.is_dir())
    line = {"ts": "2026-11-24T13:00:00.000000Z", "event": "deep", "span": "end", "name": "deep",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
            "duration_ms": 1, "deep": deep}  # fmt: skip
    (day / "other_host-1_9_20261124T130000.000Z.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    out = io.BytesIO()
    with logtrace.open(directory) as reader:
        export.write(reader, out, format="otlp-json")
    requests = [orjson.loads(x) for x in out.getvalue().splitlines()]
    spans = [s for r in requests if "resourceSpans" in r for _, _, s in spans_of(parse_traces(r))]
    (span,) = [s for s in spans if s.name == "deep"]
    value = span.attributes[0].value
    for _ in range(otlp_json.MAX_DEPTH):
        value = value.kvlist_value.values[0].value
    assert value.string_value == "[nested too deep]"


def test_a_huge_name_or_body_of_another_program_still_fits_a_line(tmp_path: Path) -> None:
    """A foreign span named by 1.5 MB of text, an error message and a log body as long: each
    OTLP JSON line stays within the otlpjsonfile receiver's 1 MiB (they came out at 1.5 MB:
    only events and attributes were cut), the texts cut with the writer's marker."""
    directory = tmp_path / "logtrace" / "2026-11-24"
    directory.mkdir(parents=True)
    huge = "n" * 1_500_000
    lines = [
        {"ts": "2026-11-24T13:00:00.000000Z", "event": huge, "span": "end", "name": huge,
         "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
         "duration_ms": 1, "status": "error", "error_type": "E", "error_message": huge},
        {"ts": "2026-11-24T13:00:00.000000Z", "event": huge, "level": "info"},
    ]  # fmt: skip
    path = directory / "other_host-1_9_20261124T130000.000Z.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    out = io.BytesIO()
    with logtrace.open(tmp_path / "logtrace") as reader:
        export.write(reader, out, format="otlp-json")
    written_lines = out.getvalue().splitlines()
    assert written_lines and all(len(x) + 1 <= otlp_json.LINE_LIMIT for x in written_lines)
    assert all(re.search(rb"\xe2\x80\xa6\[truncated \d+ chars\]", x) for x in written_lines)


def test_the_remote_flag_follows_the_parent_of_the_spans_own_trace() -> None:
    """Span ids are unique within a trace only: a child whose parent runs in its own process
    is not flagged remote because another trace's span of the same id runs elsewhere (the
    parents were looked up by span id alone)."""
    here, there, shared = Resource("svc", "host", 1), Resource("svc", "other", 2), f"{7:016x}"
    spans = [Span("a" * 32, shared, None, "A root", here, 10, 20),
             Span("a" * 32, f"{8:016x}", shared, "A child", here, 11, 19),
             Span("b" * 32, shared, None, "B root", there, 10, 20)]  # fmt: skip
    (request,) = otlp_json.trace_requests(spans)
    flags = {s.name: s.flags for _, _, s in spans_of(parse_traces(request))}
    assert flags["A child"] == otlp_json.HAS_IS_REMOTE  # known, and not remote
