"""OpenTelemetry SDK spans into logtrace's files (extra ``logtrace[otel]``).

``LogtraceSpanProcessor`` is a ``SpanProcessor`` for ``TracerProvider.add_span_processor``:
every sampled OpenTelemetry span — yours, or those of any ``opentelemetry-instrumentation-*``
package — is written through logtrace's sink as logtrace lines: a start line when it starts
(so it is visible while in flight, like logtrace's own spans), then its events and its end
line when it ends. Ids and parent are OpenTelemetry's, so ``logtrace show`` draws these spans
in the same tree as logtrace's own::

    logtrace.configure("api", otel=True)
    install(provider)   # provider.add_span_processor(LogtraceSpanProcessor()), and bridge()

The other way round, ``bridge()`` lets OpenTelemetry see logtrace's spans: an OpenTelemetry
span started inside a logtrace span (by an instrumentation, say) becomes its child, and
``traceparent`` headers that instrumentations inject carry it. It wraps OpenTelemetry's runtime
context: whichever of the two current spans started last is the parent.

Kind goes in ``kind`` (left out for internal spans); the instrumentation scope in the
attributes ``otel.scope.name``/``otel.scope.version``; an explicit OK status as
``otel.status_code: "OK"``; an error status as ``status: "error"`` with the description as
``error_message`` and the last ``exception`` event's type and stack trace as ``error_type`` and
``exception``. Like every part of the write side, it never raises into the program: failures
are counted in ``errors``.
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

import opentelemetry.context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.context.context import _RuntimeContext
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import NonRecordingSpan, SpanKind, StatusCode, TraceFlags

from ..format import fields as f
from ..write.context import SpanContext, TraceContext, get_span, reset_span, set_span
from ..write.pipeline import emit_span

SCOPE_NAME = "otel.scope.name"
SCOPE_VERSION = "otel.scope.version"
STATUS_CODE = "otel.status_code"
KIND = "kind"
# Spans open at once whose start attributes are remembered (to write only later ones at the
# end); past that the end line repeats them all.
MAX_OPEN = 100_000
_KINDS = {
    SpanKind.SERVER: "server",
    SpanKind.CLIENT: "client",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
}


class LogtraceSpanProcessor(SpanProcessor):
    """Writes each OpenTelemetry span as logtrace start, event and end lines."""

    def __init__(self) -> None:
        self.errors = 0
        self._started: dict[tuple[int, int], dict[str, Any]] = {}

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        """Write the span's start line (ids, parent, kind, attributes so far)."""
        try:
            context = span.get_span_context()
            if not context.trace_flags.sampled or span.start_time is None:
                return
            attributes = _attributes(span.attributes)
            if len(self._started) < MAX_OPEN:
                self._started[(context.trace_id, context.span_id)] = dict(attributes)
            scope = span.instrumentation_scope
            if scope is not None and scope.name:
                attributes[SCOPE_NAME] = scope.name
                if scope.version:
                    attributes[SCOPE_VERSION] = scope.version
            fields = {f.SPAN: f.SPAN_START, f.NAME: span.name, f.PARENT_ID: _parent_id(span)}
            _add_kind(fields, span.kind)
            emit_span("info", _context(span), span.start_time, fields, span.name, attributes)
        except Exception:
            self.errors += 1

    def on_end(self, span: ReadableSpan) -> None:
        """Write the span's events and its end line (duration, status, later attributes)."""
        try:
            context = span.get_span_context()
            if context is None:
                return
            if not context.trace_flags.sampled:
                return
            start = span.start_time or 0
            end = span.end_time or start
            ctx = _context(span)
            exception: dict[str, Any] = {}
            for event in span.events:
                attributes = _attributes(event.attributes)
                if event.name == "exception":
                    exception = attributes
                fields = {f.SPAN: f.SPAN_EVENT}
                emit_span("info", ctx, event.timestamp, fields, event.name, attributes)
            at_start = self._started.pop((context.trace_id, context.span_id), None)
            attributes = _attributes(span.attributes)
            if at_start is not None:
                attributes = {k: v for k, v in attributes.items() if at_start.get(k, _NO) != v}
            fields = _end_fields(span, round((end - start) / 1e6, 3), exception, attributes)
            level = "error" if fields[f.STATUS] == f.STATUS_ERROR else "info"
            emit_span(level, ctx, end, fields, span.name, attributes)
        except Exception:
            self.errors += 1

    def shutdown(self) -> None:
        """Nothing to release: the lines are logtrace's sink's."""

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Write what the sink holds to the file (``logtrace.flush``)."""
        try:
            from ..write.config import flush

            flush(timeout_millis / 1000)
            return True
        except Exception:
            return False


_NO = object()


def _attributes(attributes: Any) -> dict[str, Any]:
    if not attributes:
        return {}
    return {str(k): list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def _context(span: ReadableSpan) -> SpanContext:
    context = span.get_span_context()
    assert context is not None
    return SpanContext(format(context.trace_id, "032x"), format(context.span_id, "016x"))


def _parent_id(span: ReadableSpan) -> str | None:
    parent = span.parent
    return None if parent is None or not parent.is_valid else format(parent.span_id, "016x")


def _add_kind(fields: dict[str, Any], kind: SpanKind) -> None:
    name = _KINDS.get(kind)
    if name is not None:
        fields[KIND] = name


def _end_fields(
    span: ReadableSpan,
    duration_ms: float,
    exception: dict[str, Any],
    attributes: dict[str, Any],
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        f.SPAN: f.SPAN_END,
        f.NAME: span.name,
        f.PARENT_ID: _parent_id(span),
        f.DURATION_MS: duration_ms,
        f.STATUS: f.STATUS_OK,
    }
    _add_kind(fields, span.kind)
    code = span.status.status_code
    if code is StatusCode.ERROR:
        fields[f.STATUS] = f.STATUS_ERROR
        if exception.get("exception.type"):
            fields[f.ERROR_TYPE] = str(exception["exception.type"])
        message = span.status.description or exception.get("exception.message")
        if message:
            fields[f.ERROR_MESSAGE] = str(message)
        if exception.get("exception.stacktrace"):
            fields[f.EXCEPTION] = str(exception["exception.stacktrace"])
    elif code is StatusCode.OK:
        attributes[STATUS_CODE] = "OK"
    return fields


def install(tracer_provider: TracerProvider | None = None) -> LogtraceSpanProcessor:
    """Send every span of ``tracer_provider`` (default: the global one) to logtrace's files,
    and ``bridge()``; returns the processor."""
    provider = tracer_provider or trace.get_tracer_provider()
    processor = LogtraceSpanProcessor()
    add = getattr(provider, "add_span_processor", None)
    if add is None:
        raise TypeError(
            "the tracer provider is not the SDK's: set one with trace.set_tracer_provider"
        )
    add(processor)
    bridge()
    return processor


class _Tokens:
    """What ``attach`` returns once bridged: OpenTelemetry's token, and logtrace's if it set
    the logtrace context too."""

    __slots__ = ("logtrace", "otel")

    def __init__(self, otel: Any, logtrace: Any) -> None:
        self.otel, self.logtrace = otel, logtrace


class _Bridged(_RuntimeContext):
    """OpenTelemetry's runtime context, kept in step with logtrace's current span.

    An OpenTelemetry span made current becomes logtrace's current span too (so logtrace spans
    and log lines inside it are its children); a logtrace span opened since is what
    OpenTelemetry sees as current (so an instrumentation's span inside it is its child).
    """

    def __init__(self, inner: _RuntimeContext) -> None:
        self.inner = inner
        self._last: tuple[TraceContext | None, Any] = (None, None)

    def attach(self, context: Context) -> Any:
        token = self.inner.attach(context)
        try:
            span_context = trace.get_current_span(context).get_span_context()
            ctx = get_span()
            if not span_context.is_valid:
                return token
            span_id = format(span_context.span_id, "016x")
            if ctx is not None and ctx.span_id == span_id:
                return token  # logtrace's own span, seen through get_current
            sampled = bool(span_context.trace_flags.sampled)
            ours = SpanContext(format(span_context.trace_id, "032x"), span_id, sampled,
                               depth=ctx.depth + 1 if ctx is not None else 0)  # fmt: skip
            return _Tokens(token, set_span(ours))
        except Exception:
            return token

    def detach(self, token: Any) -> None:
        if not isinstance(token, _Tokens):
            self.inner.detach(token)
            return
        self.inner.detach(token.otel)
        # Reset in another context than it was set in: nothing of ours to undo there.
        with contextlib.suppress(ValueError):
            reset_span(token.logtrace)

    def get_current(self) -> Context:
        context = self.inner.get_current()
        ctx = get_span()
        if ctx is None:
            return context
        span_context = trace.get_current_span(context).get_span_context()
        if span_context.is_valid and format(span_context.span_id, "016x") == ctx.span_id:
            return context
        last = self._last
        if last[0] is not ctx:
            flags = TraceFlags(TraceFlags.SAMPLED if ctx.sampled else TraceFlags.DEFAULT)
            otel = trace.SpanContext(
                int(cast(str, ctx.trace_id), 16),
                int(cast(str, ctx.span_id), 16),
                is_remote=False,
                trace_flags=flags,
            )
            last = self._last = (ctx, NonRecordingSpan(otel))
        return trace.set_span_in_context(last[1], context)


def bridge() -> None:
    """Let OpenTelemetry see logtrace's current span (idempotent; ``unbridge()`` undoes it)."""
    runtime = otel_context._RUNTIME_CONTEXT
    if not isinstance(runtime, _Bridged):
        otel_context._RUNTIME_CONTEXT = _Bridged(runtime)


def unbridge() -> None:
    """Give OpenTelemetry back its own runtime context."""
    runtime = otel_context._RUNTIME_CONTEXT
    if isinstance(runtime, _Bridged):
        otel_context._RUNTIME_CONTEXT = runtime.inner
