"""OpenTelemetry interop (extra ``logtrace[otel]``): one trace id across both.

Between processes nothing is needed: both speak W3C ``traceparent``, so a header injected by
logtrace is continued by the OpenTelemetry SDK's propagator and the other way round.

Inside one process, ``enable()`` lets logtrace see OpenTelemetry's active span: when one is
active and no logtrace span is, log lines carry its ``trace_id``/``span_id``, and a logtrace
span opened there becomes its child. For the opposite direction (an OpenTelemetry span opened
inside a logtrace span), pass ``otel_context()`` as the span's ``context``.

This module imports ``opentelemetry``; ``import logtrace`` never does.
"""

from __future__ import annotations

from typing import cast

from opentelemetry import context as otel_context_api
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, TraceFlags, TraceState

from logtrace.write import context as _context
from logtrace.write.context import SpanContext, TraceContext
from logtrace.write.tracer import tracer

# The last conversion, keyed by the OpenTelemetry span context it came from: log lines inside
# one OpenTelemetry span convert it once.
_last: tuple[object, SpanContext | None] = (None, None)


def from_otel(span_context: trace.SpanContext) -> SpanContext | None:
    """The logtrace ``SpanContext`` of an OpenTelemetry span context; ``None`` if it is invalid."""
    if not span_context.is_valid:
        return None
    state = span_context.trace_state.to_header() if span_context.trace_state else ""
    return SpanContext(
        format(span_context.trace_id, "032x"),
        format(span_context.span_id, "016x"),
        sampled=span_context.trace_flags.sampled,
        tracestate=state or None,
        # Foreign to logtrace either way: the first logtrace span under it is a local root.
        remote=True,
    )


def to_otel(ctx: TraceContext) -> trace.SpanContext:
    """The OpenTelemetry span context of a logtrace ``SpanContext`` or span (marked remote)."""
    return trace.SpanContext(
        int(cast(str, ctx.trace_id), 16),
        int(cast(str, ctx.span_id), 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if ctx.sampled else TraceFlags.DEFAULT),
        trace_state=TraceState.from_header([ctx.tracestate]) if ctx.tracestate else TraceState(),
    )


def active_context() -> SpanContext | None:
    """The context of OpenTelemetry's active span, or ``None``; never raises.

    Installed as logtrace's fallback by ``enable()``.
    """
    global _last
    try:
        span_context = trace.get_current_span().get_span_context()
        last = _last
        if last[0] is span_context:
            return last[1]
        ctx = from_otel(span_context)
        _last = (span_context, ctx)
        return ctx
    except Exception:
        return None


def enable() -> None:
    """Let log lines and new spans outside any logtrace span use OpenTelemetry's active span.

    Idempotent; ``disable()`` undoes it.
    """
    _context.fallback_context = active_context
    tracer.settle()


def disable() -> None:
    """Stop looking at OpenTelemetry's active span."""
    global _last
    if _context.fallback_context is active_context:
        _context.fallback_context = None
        tracer.settle()
    _last = (None, None)


def otel_context(ctx: TraceContext | None = None) -> otel_context_api.Context:
    """An OpenTelemetry ``Context`` whose parent span is the current logtrace span (or ``ctx``).

    ``tracer.start_as_current_span("query", context=logtrace.otel_context())`` makes the
    OpenTelemetry span a child of the logtrace span it runs in (or of the process's parent,
    from ``TRACEPARENT``). Outside both it is OpenTelemetry's current context, unchanged.
    """
    if ctx is None:
        ctx = _context.current_context.get() or _context.process_parent
    if ctx is None:
        return otel_context_api.get_current()
    return trace.set_span_in_context(NonRecordingSpan(to_otel(ctx)))
