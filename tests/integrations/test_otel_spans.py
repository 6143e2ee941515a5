"""OpenTelemetry SDK spans into logtrace's files (``LogtraceSpanProcessor``), with real
instrumentation packages: sqlite3, and requests against a server on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _core_fixtures import read_lines, traced_dir

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import logtrace
from logtrace.integrations import otel as _otel
from logtrace.integrations import otel_spans
from logtrace.integrations.otel_spans import LogtraceSpanProcessor

__all__ = ["traced_dir"]


@pytest.fixture
def provider(traced_dir: Path) -> Iterator[tuple[TracerProvider, LogtraceSpanProcessor]]:
    """A real TracerProvider whose spans go to logtrace's files; logtrace sees its spans."""
    processor = LogtraceSpanProcessor()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    _otel.enable()
    yield tracer_provider, processor
    _otel.disable()
    tracer_provider.shutdown()


def _tree(directory: Path, trace_id: str) -> list[tuple[int, str]]:
    logtrace.flush()
    with logtrace.open(directory) as reader:
        return [(row["depth"], row["name"]) for row in reader.trace(trace_id).spans]


def test_sqlite3_instrumentation_spans_join_logtrace_spans(
    traced_dir: Path, provider: tuple[TracerProvider, LogtraceSpanProcessor]
) -> None:
    """sqlite3's spans (kind client, a failing query with its error) and a logtrace span sit in
    one tree under the OTel request span."""
    pytest.importorskip("opentelemetry.instrumentation.sqlite3")
    import sqlite3

    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    tracer_provider, processor = provider
    SQLite3Instrumentor().instrument(tracer_provider=tracer_provider)
    try:
        tracer = tracer_provider.get_tracer("app")
        with tracer.start_as_current_span("request") as root:
            with logtrace.span("prepare", step=1):
                pass
            cursor = sqlite3.connect(":memory:").cursor()
            cursor.execute("create table t (x)")
            with pytest.raises(sqlite3.OperationalError):
                cursor.execute("select * from missing")
    finally:
        SQLite3Instrumentor().uninstrument()
    trace_id = format(root.get_span_context().trace_id, "032x")
    assert _tree(traced_dir, trace_id) == [(0, "request"), (1, "prepare"), (1, "create"),
                                          (1, "select")]  # fmt: skip
    lines = read_lines(traced_dir)
    ends = {line["name"]: line for line in lines if line.get("span") == "end"}
    assert ends["select"]["kind"] == "client" and ends["select"]["status"] == "error"
    assert ends["select"]["error_type"] == "sqlite3.OperationalError"
    assert ends["select"]["db.statement"] == "select * from missing"
    assert "kind" not in ends["request"] and processor.errors == 0
    starts = {line["name"]: line for line in lines if line.get("span") == "start"}
    assert starts["create"]["otel.scope.name"] == "opentelemetry.instrumentation.sqlite3"
    assert any(line.get("span") == "event" and line["event"] == "exception" for line in lines)


def test_requests_instrumentation_to_a_logtrace_server(
    traced_dir: Path, provider: tuple[TracerProvider, LogtraceSpanProcessor]
) -> None:
    """requests' client span carries traceparent to a server on 127.0.0.1 whose logtrace span
    continues it: OTel span -> requests span -> logtrace span, one tree."""
    pytest.importorskip("opentelemetry.instrumentation.requests")
    import requests
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            carrier = {k.lower(): v for k, v in self.headers.items()}
            with logtrace.span("handle", parent=carrier):
                self.send_response(204)
                self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tracer_provider, _ = provider
    RequestsInstrumentor().instrument(tracer_provider=tracer_provider)
    try:
        tracer = tracer_provider.get_tracer("app")
        with tracer.start_as_current_span("checkout") as root:
            response = requests.get(f"http://127.0.0.1:{server.server_address[1]}/x", timeout=10)
    finally:
        RequestsInstrumentor().uninstrument()
        server.shutdown()
        server.server_close()
    assert response.status_code == 204
    trace_id = format(root.get_span_context().trace_id, "032x")
    assert _tree(traced_dir, trace_id) == [(0, "checkout"), (1, "GET"), (2, "handle")]
    client = next(line for line in read_lines(traced_dir) if line.get("name") == "GET")
    assert client["kind"] == "client"


def test_an_open_span_is_on_disk_before_it_ends(
    traced_dir: Path, provider: tuple[TracerProvider, LogtraceSpanProcessor]
) -> None:
    """The start line is written when the OTel span starts: in-flight work is visible."""
    tracer_provider, _ = provider
    span = tracer_provider.get_tracer("app").start_span("long job", attributes={"n": 1})
    logtrace.flush()
    starts = [line for line in read_lines(traced_dir) if line.get("span") == "start"]
    assert [(s["name"], s["n"]) for s in starts] == [("long job", 1)]
    span.set_attribute("rows", 5)
    span.end()
    logtrace.flush()
    end = next(line for line in read_lines(traced_dir) if line.get("span") == "end")
    assert end["rows"] == 5 and "n" not in end  # only what changed after the start


def test_never_raises_into_the_program(
    traced_dir: Path, provider: tuple[TracerProvider, LogtraceSpanProcessor]
) -> None:
    """A broken span object is counted as an error, not raised."""
    _, processor = provider
    processor.on_start(object())  # type: ignore[arg-type]
    processor.on_end(object())  # type: ignore[arg-type]
    assert processor.errors == 2


def test_unsampled_spans_are_not_written(traced_dir: Path) -> None:
    """With the SDK's sampler saying no, nothing is written."""
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    tracer_provider = TracerProvider(sampler=ALWAYS_OFF)
    tracer_provider.add_span_processor(LogtraceSpanProcessor())
    with tracer_provider.get_tracer("app").start_as_current_span("dropped"):
        pass
    logtrace.flush()
    assert not [line for line in read_lines(traced_dir) if line.get("span")]
    assert trace  # the API module stays importable alongside


def test_bridge_makes_instrumentation_spans_children_of_logtrace_spans(
    traced_dir: Path, provider: tuple[TracerProvider, LogtraceSpanProcessor]
) -> None:
    """With bridge(), whichever span started last is the parent, across both kinds, nested
    either way: logtrace job -> sqlite span; OTel step -> logtrace inner -> sqlite span."""
    pytest.importorskip("opentelemetry.instrumentation.sqlite3")
    import sqlite3

    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    tracer_provider, _ = provider
    tracer = tracer_provider.get_tracer("app")
    SQLite3Instrumentor().instrument(tracer_provider=tracer_provider)
    otel_spans.bridge()
    try:
        with logtrace.span("job") as job:
            cursor = sqlite3.connect(":memory:").cursor()
            cursor.execute("create table t (x)")
            with tracer.start_as_current_span("step"):
                with logtrace.span("inner"):
                    cursor.execute("insert into t values (1)")
                cursor.execute("select x from t")
            cursor.execute("drop table t")
    finally:
        otel_spans.unbridge()
        SQLite3Instrumentor().uninstrument()
    assert _tree(traced_dir, str(job.trace_id)) == [
        (0, "job"), (1, "create"), (1, "step"), (2, "inner"), (3, "insert"), (2, "select"),
        (1, "drop"),
    ]  # fmt: skip


def test_install_adds_the_processor_and_the_bridge(traced_dir: Path) -> None:
    """install(provider): the provider's spans are written, as children of logtrace's span."""
    tracer_provider = TracerProvider()
    processor = otel_spans.install(tracer_provider)
    try:
        with logtrace.span("outer") as outer:
            with tracer_provider.get_tracer("app").start_as_current_span("inner"):
                logging_line = logtrace.current_span_id()
    finally:
        otel_spans.unbridge()
        tracer_provider.shutdown()
    tree = _tree(traced_dir, str(outer.trace_id))
    assert tree == [(0, "outer"), (1, "inner")] and processor.errors == 0
    inner = next(x for x in read_lines(traced_dir) if x.get("name") == "inner")
    assert logging_line == inner["span_id"]  # log lines inside carry the OTel span's id
