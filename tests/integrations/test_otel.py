"""OpenTelemetry interop with the real SDK: one trace id both ways, ids on log lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from _core_fixtures import read_lines, traced_dir

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import logtrace
from logtrace import testing
from logtrace.integrations import otel as _otel

__all__ = ["traced_dir"]

W3C = TraceContextTextMapPropagator()


@pytest.fixture
def otel() -> Iterator[tuple[trace.Tracer, InMemorySpanExporter]]:
    """A real SDK tracer (parent-based sampling) exporting to memory; not installed globally."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("test"), exporter
    provider.shutdown()
    _otel.disable()


def test_logtrace_header_is_continued_by_otel_and_back(
    otel: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    """logtrace -> OpenTelemetry SDK -> logtrace over traceparent keeps one trace id and links."""
    tracer, exporter = otel
    with testing.capture_events() as events:
        with logtrace.span("coordinator") as root:
            carrier = logtrace.inject({})
        carrier["tracestate"] = "vendor=abc"  # as a vendor on the way would add
        ctx = W3C.extract(carrier)
        with tracer.start_as_current_span("otel service", context=ctx):
            onward: dict[str, str] = {}
            W3C.inject(onward)
        with logtrace.span("worker", parent=onward) as leaf:
            pass
    (otel_span,) = exporter.get_finished_spans()
    assert otel_span.context is not None and otel_span.parent is not None
    assert otel_span.context.trace_id == int(root.trace_id or "", 16)
    assert otel_span.parent.span_id == int(root.span_id or "", 16)
    assert otel_span.context.trace_state.to_header() == "vendor=abc"
    assert leaf.trace_id == root.trace_id
    assert leaf.parent_id == format(otel_span.context.span_id, "016x")
    assert leaf.context is not None and leaf.context.tracestate == "vendor=abc"
    assert {e["trace_id"] for e in events} == {root.trace_id}


def test_otel_header_is_continued_by_logtrace_and_back(
    otel: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    """OpenTelemetry -> logtrace -> OpenTelemetry over traceparent keeps one trace id and links."""
    tracer, exporter = otel
    with tracer.start_as_current_span("otel root") as otel_root:
        carrier: dict[str, str] = {}
        W3C.inject(carrier)
    with testing.capture_events(), logtrace.span("logtrace hop", parent=carrier) as hop:
        back = logtrace.inject({})
    with tracer.start_as_current_span("otel leaf", context=W3C.extract(back)):
        pass
    root_ctx = otel_root.get_span_context()
    assert hop.trace_id == format(root_ctx.trace_id, "032x")
    assert hop.parent_id == format(root_ctx.span_id, "016x")
    leaf = next(s for s in exporter.get_finished_spans() if s.name == "otel leaf")
    assert leaf.context is not None and leaf.parent is not None
    assert leaf.context.trace_id == root_ctx.trace_id
    assert leaf.parent.span_id == int(hop.span_id or "", 16)


def test_unsampled_decision_reaches_otel_and_back(
    otel: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    """An unsampled logtrace trace is not recorded by a parent-based SDK, and vice versa."""
    tracer, exporter = otel
    unsampled = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}
    with testing.capture_events() as events, logtrace.span("a", parent=unsampled):
        carrier = logtrace.inject({})
    with tracer.start_as_current_span("b", context=W3C.extract(carrier)) as b:
        assert not b.is_recording()
        onward: dict[str, str] = {}
        W3C.inject(onward)
    assert onward["traceparent"].endswith("-00")
    with testing.capture_events() as more, logtrace.span("c", parent=onward) as c:
        pass
    assert exporter.get_finished_spans() == () and events == more == []
    assert c.context is not None and not c.context.sampled


def test_log_lines_carry_the_active_otel_span(
    otel: tuple[trace.Tracer, InMemorySpanExporter], traced_dir: Path
) -> None:
    """With enable(), log lines outside logtrace spans carry the active OpenTelemetry span's ids."""
    tracer, _ = otel
    log = logging.getLogger("app")
    _otel.enable()
    with tracer.start_as_current_span("request") as request:
        log.info("inside otel")
        with logtrace.span("logtrace child") as child:
            log.info("inside both")
    log.info("outside")
    _otel.disable()
    with tracer.start_as_current_span("request"):
        log.info("disabled")
    logtrace.flush()
    lines = {e["event"]: e for e in read_lines(traced_dir)}
    ctx = request.get_span_context()
    trace_id, span_id = format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")
    inside = lines["inside otel"]
    assert (inside["trace_id"], inside["span_id"], inside["trace_flags"]) == (
        trace_id,
        span_id,
        "01",
    )
    assert lines["logtrace child"]["parent_id"] == span_id
    assert lines["inside both"]["span_id"] == child.span_id
    assert child.trace_id == trace_id
    assert "trace_id" not in lines["outside"] and "trace_id" not in lines["disabled"]


def test_otel_span_inside_a_logtrace_span_is_its_child(
    otel: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    """An OpenTelemetry span started with context=otel_context() is the logtrace span's child."""
    tracer, exporter = otel
    with testing.capture_events(), logtrace.span("logtrace parent") as parent:
        with tracer.start_as_current_span("db query", context=_otel.otel_context()):
            pass
    (query,) = exporter.get_finished_spans()
    assert query.context is not None and query.parent is not None
    assert format(query.context.trace_id, "032x") == parent.trace_id
    assert format(query.parent.span_id, "016x") == parent.span_id


def test_conversions_round_trip() -> None:
    """to_otel and from_otel convert ids, flags and tracestate both ways."""
    ctx = logtrace.SpanContext(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", False, "a=1,b=2"
    )
    back = _otel.from_otel(_otel.to_otel(ctx))
    assert back == ctx and back is not None and back.remote
    assert _otel.from_otel(trace.INVALID_SPAN_CONTEXT) is None


def test_configure_otel_switch_bridges_and_unbridges(
    otel: tuple[trace.Tracer, InMemorySpanExporter], tmp_path: Path
) -> None:
    """configure(otel=True) makes log lines carry the OpenTelemetry span; otel=False stops it."""
    tracer, _ = otel
    log = logging.getLogger("app")
    try:
        logtrace.configure(directory=tmp_path / "on", otel=True, environ={})
        with tracer.start_as_current_span("request") as request:
            log.warning("bridged")
        logtrace.configure(directory=tmp_path / "off", otel=False, environ={})
        with tracer.start_as_current_span("request"):
            log.warning("not bridged")
    finally:
        logtrace.shutdown()
    (bridged,) = [e for e in read_lines(tmp_path / "on") if e["event"] == "bridged"]
    assert bridged["span_id"] == format(request.get_span_context().span_id, "016x")
    (plain,) = [e for e in read_lines(tmp_path / "off") if e["event"] == "not bridged"]
    assert "trace_id" not in plain


def test_a_trace_that_writes_nothing_continues_the_active_otel_span(
    otel: tuple[trace.Tracer, InMemorySpanExporter], tmp_path: Path
) -> None:
    """``sampler="never", keep_errors=False`` with the bridge on: a logtrace root inside an
    OpenTelemetry span is its child (its log lines carry that trace id); bridge off, a new
    trace again."""
    tracer, _ = otel
    log = logging.getLogger("app")
    directory = tmp_path / "lt"
    try:
        logtrace.configure(
            directory=directory, otel=True, environ={}, sampler="never", keep_errors=False
        )
        with tracer.start_as_current_span("request") as request:
            with logtrace.span("quiet child") as child:
                log.warning("bridged")
        _otel.disable()
        with tracer.start_as_current_span("request"):
            with logtrace.span("quiet root") as root:
                log.warning("not bridged")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    lines = {e["event"]: e for e in read_lines(directory)}
    ctx = request.get_span_context()
    assert lines["bridged"]["trace_id"] == format(ctx.trace_id, "032x") == child.trace_id
    assert child.parent_id == format(ctx.span_id, "016x")
    assert lines["not bridged"]["trace_id"] == root.trace_id != child.trace_id
    assert root.parent_id is None
