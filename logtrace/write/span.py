"""Spans: one end line when a span closes, a start line too if it is still open at a flush.

A span that opens is held in ``open_spans``; each time the file sink flushes (every
``flush_interval``, at ``flush()``, at exit, on SIGTERM) it writes the start lines of the spans
still open, so a crash or ``tail`` shows work in flight within one flush interval. A span that
ends before that writes only its end line, which carries the name, parent, start time (its
``ts`` less ``duration_ms``), duration, status, error and every attribute (those given at start
and those set later). With ``flush="always"`` the start line is written at once. Span lines go
through the same processor chain as every log line (``_pipeline.emit``).

An unsampled trace writes no span lines, but with ``keep_errors`` on, its spans are held in a
bounded buffer owned by the local root; if one fails (or is slower than ``slow_ms``) the buffer
is written and the rest of the trace's spans in this process are written as they end.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, cast

from logtrace.format import fields as f
from logtrace.write import ids as _ids
from logtrace.write.context import SpanContext, current_context, get_current
from logtrace.write.pipeline import emit_span, emit_span_boundary, end_fields
from logtrace.write.span_notes import report_dropped, short_repr, span_kind, status_of, warn_misuse
from logtrace.write.stamper import error_fields
from logtrace.write.tracer import Tracer, open_spans, render_start, tracer

__all__ = ["Span", "TailBuffer", "Tracer", "span", "span_kind", "tracer"]


class TailBuffer:
    """Ended spans of an unsampled trace's local root, written only if one of them fails."""

    __slots__ = ("dropped", "keep", "spans")

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.keep = False
        self.dropped = 0


class Span:
    """One unit of work: ``with logtrace.span("name", key=value) as span: ...``.

    Use it as a context manager (``with`` or ``async with``). Inside, log lines carry its ids.
    An exception leaving the block marks the span as an error and is re-raised unchanged.
    """

    __slots__ = (
        "_deferred",
        "_depth_dropped_at_start",
        "_duration_ms",
        "_end_wall",
        "_error",
        "_live",
        "_local_root",
        "_parent",
        "_recording",
        "_start_attributes",
        "_start_mono",
        "_start_wall",
        "_token",
        "attributes",
        "context",
        "kind",
        "name",
        "parent_id",
        "status",
    )

    def __init__(
        self,
        name: str,
        attributes: dict[str, Any],
        parent: SpanContext | None = None,
        kind: str | None = None,
    ) -> None:
        self.name = name
        # None for an internal span (the kind is then left off its lines).
        self.kind = span_kind(kind)
        self.attributes = attributes
        self._parent = parent
        self.context: SpanContext | None = None
        self.parent_id: str | None = None
        self.status = f.STATUS_OK
        self._error: dict[str, str] | None = None
        self._start_attributes = attributes
        self._token: contextvars.Token[SpanContext | None] | None = None
        self._recording = False
        # _live: its lines are written (sampled, or its unsampled trace is kept); _deferred: it
        # waits in open_spans for the writer to write its start line.
        self._live = False
        self._deferred = False
        self._local_root = False
        self._depth_dropped_at_start = -1
        # _start_mono and _start_wall are set when the span starts recording, _end_wall and
        # _duration_ms when it stops: never read before.

    @property
    def trace_id(self) -> str | None:
        """The trace id, once the span has started."""
        return None if self.context is None else self.context.trace_id

    @property
    def span_id(self) -> str | None:
        """This span's id, once it has started."""
        return None if self.context is None else self.context.span_id

    # -- recording -------------------------------------------------------------------------

    def set(self, /, **attributes: Any) -> None:
        """Add attributes; the end line carries them all, the start line those given first."""
        if self.context is None:
            self.attributes.update(attributes)
            return
        # Rebind rather than update: the start line (maybe written later) keeps its own dict.
        self.attributes = {**self.attributes, **attributes}

    def event(self, name: str, /, **attributes: Any) -> None:
        """Write a point-in-time event of this span (a line with ``span: "event"``).

        Positional-only ``name``: an attribute may be called ``name`` too (written as
        ``name_``, like every attribute named after one of logtrace's fields).
        """
        ctx = self.context
        if ctx is None or not self._live:
            return
        _metered(emit_span, "info", ctx, tracer.wall_ns(), {f.SPAN: f.SPAN_EVENT}, name, attributes)

    def rename(self, name: str) -> None:
        """Name the span anew once a better name is known (a server span its route).

        The end line carries the new name (the start line, already written, keeps the old
        one); the read side takes a span's name from its end line.
        """
        self.name = name

    def set_status(self, status: Any, message: str | None = None) -> None:
        """Set ``"ok"`` or ``"error"``; an error may carry a message.

        OpenTelemetry's names are understood too (``"OK"``, ``"ERROR"``, ``"UNSET"``, a
        ``StatusCode``). Anything else leaves the status as it was and writes one warning line
        (once per process): tracing never raises into the program.
        """
        known = status_of(status)
        if known is None:
            warn_misuse("set_status", f"unknown span status {short_repr(status)}")
            return
        self.status = known
        if known == f.STATUS_ERROR and message is not None and self._error is None:
            self._error = {f.ERROR_MESSAGE: str(message)}
        elif known == f.STATUS_OK:
            self._error = None

    def record_exception(self, exc: BaseException) -> None:
        """Mark the span as failed by ``exc`` (type, message, traceback) without raising.

        Given something that is not an exception, the span is still marked failed, with that
        value's type and text as the error, and one warning line is written (once per process).
        """
        self.status = f.STATUS_ERROR
        if isinstance(exc, BaseException):
            self._error = error_fields(exc)
            return
        warn_misuse("record_exception", f"not an exception: {type(exc).__name__}")
        try:
            text = str(exc)
        except Exception:
            text = f"<unprintable {type(exc).__name__}>"
        self._error = {f.ERROR_TYPE: type(exc).__name__, f.ERROR_MESSAGE: text}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Span:
        """Open the span and make it current (its start line waits for the next flush)."""
        self.open()
        self._token = current_context.set(self.context)
        return self

    def open(self) -> None:
        """Open the span without making it current (generators do that per step)."""
        parent = self._parent
        if parent is None:
            parent = get_current()
        if parent is None or parent.remote:
            self._local_root = True
            trace_id = _ids.new_trace_id() if parent is None else parent.trace_id
            sampled = tracer.sampler(trace_id, parent)
            tail = TailBuffer() if not sampled and tracer.keep_errors else None
            depth = 0
        else:
            trace_id = parent.trace_id
            sampled = parent.sampled
            tail = parent.tail
            depth = parent.depth + 1
        if parent is not None:
            self.parent_id = parent.span_id
            ctx = SpanContext(
                trace_id,
                _ids.new_span_id(),
                sampled,
                parent.tracestate,
                False,
                depth,
                parent.baggage,
                tail,
            )
        else:
            ctx = SpanContext(trace_id, _ids.new_span_id(), sampled, None, False, 0, None, tail)
        self.context = ctx
        if depth >= tracer.max_depth:
            tracer.depth_dropped += 1
            if depth == tracer.max_depth:
                self._depth_dropped_at_start = tracer.depth_dropped - 1
            return
        if not sampled and tail is None:
            return  # unsampled, and no keep-errors buffer: nothing of it will be written
        self._start_mono = tracer.monotonic_ns()
        self._recording = True
        self._start_wall = tracer.wall_ns()
        if sampled or (tail is not None and tail.keep):
            self._live = True
            # open_spans.spans, by hand: a method call would cost as much as the dict operation.
            waiting = open_spans.spans
            if tracer.defer_starts and len(waiting) < open_spans.limit:
                waiting[self] = True
                self._deferred = True
            else:
                self._write_start()

    def end(self, exc: BaseException | None = None) -> None:
        """Close the span: write its end line and restore the previous current span."""
        self.__exit__(None, exc, None)

    def _end_unsampled(self, tail: TailBuffer) -> None:
        slow = tracer.slow_ms is not None and self._duration_ms >= tracer.slow_ms
        if tail.keep:
            self._write_end()
        elif self.status == f.STATUS_ERROR or slow:
            tail.keep = True
            kept, tail.spans = tail.spans, []
            for span in kept:
                span._write_end()
            self._write_end()
            if tail.dropped:
                report_dropped(tail.dropped, "keep_errors_buffer_full")
        elif self._local_root:
            pass  # the trace ends here in this process, and nothing in it failed
        elif len(tail.spans) < tracer.tail_limit:
            tail.spans.append(self)
        else:
            tail.dropped += 1
        if self._local_root and not tail.keep:
            tail.spans.clear()

    def start_line(self) -> bytes | None:
        """The start line, rendered (for the writer, when it flushes while the span is open)."""
        ctx = self.context
        if ctx is None:
            return None
        name, attributes = self.name, self._start_attributes
        return render_start(ctx, self._start_wall, name, self.parent_id, self.kind, attributes)

    def _write_start(self) -> None:
        if self.kind is not None:
            span_fields = {
                f.SPAN: f.SPAN_START,
                f.NAME: self.name,
                f.PARENT_ID: self.parent_id,
                f.KIND: self.kind,
            }
            ctx, wall = self.context, self._start_wall
            _metered(emit_span, "info", ctx, wall, span_fields, self.name, self._start_attributes)
            return
        _metered(
            emit_span_boundary,
            self.context,
            self._start_wall,
            self.name,
            self.parent_id,
            None,
            self._start_attributes,
        )

    def _write_end(self) -> None:
        attributes = self.attributes
        if self.status == f.STATUS_OK and self.kind is None:
            _metered(
                emit_span_boundary,
                self.context,
                self._end_wall,
                self.name,
                self.parent_id,
                self._duration_ms,
                attributes,
            )
            return
        span_fields = end_fields(
            self.name, self.parent_id, self._duration_ms, self.status, self.kind
        )
        if self._error is not None:
            span_fields.update(self._error)
        ctx, level = self.context, "info" if self.status == f.STATUS_OK else "error"
        _metered(emit_span, level, ctx, self._end_wall, span_fields, self.name, attributes)

    __enter__ = start

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ctx = self.context
        if ctx is None:
            return
        if exc is not None and not _is_normal_exit(exc):
            self.record_exception(exc)
        if self._recording:
            self._recording = False
            self._duration_ms = round((tracer.monotonic_ns() - self._start_mono) / 1e6, 3)
            self._end_wall = tracer.wall_ns()
            if self._live:
                if self._deferred:
                    open_spans.spans.pop(self, None)  # its end line says everything
                self._write_end()
            elif ctx.tail is not None:
                self._end_unsampled(ctx.tail)
        elif self._depth_dropped_at_start >= 0:
            report_dropped(tracer.depth_dropped - self._depth_dropped_at_start, "max_depth")
        token = self._token
        if token is not None:
            self._token = None
            # contextlib.suppress would cost ~0.5 µs a span.
            try:  # noqa: SIM105
                current_context.reset(token)
            except ValueError:
                pass  # ended in another context (a generator finalised elsewhere)

    async def __aenter__(self) -> Span:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end(exc)

    def __repr__(self) -> str:
        return f"<Span {self.name!r} trace_id={self.trace_id} span_id={self.span_id}>"


def _metered(write: Callable[..., None], *args: Any) -> None:
    """``write(*args)``: a span line; timed for the adaptive sampler when it asks for costs."""
    meter = tracer.cost_meter
    if meter is None:
        write(*args)
        return
    started = time.perf_counter_ns()
    write(*args)
    meter(time.perf_counter_ns() - started)


def _is_normal_exit(exc: BaseException) -> bool:
    if isinstance(exc, GeneratorExit):
        return True
    return isinstance(exc, SystemExit) and exc.code in (0, None)


def span(name: str, /, *, parent: Any = None, kind: str | None = None, **attributes: Any) -> Span:
    """Open a span: ``with logtrace.span("dispatch", task_id=42) as span: ...``.

    Args:
        name: what the span does, in a few words; ``event`` and ``name`` of its lines.
        parent: continue another context instead of the current span: a ``SpanContext``,
            a ``Span``, or a carrier dict with a ``traceparent`` (see ``logtrace.extract``).
        kind: ``"server"`` (handling a request), ``"client"`` (making one), ``"producer"``
            (sending a message or task), ``"consumer"`` (handling one) or ``"internal"``
            (the default), as OpenTelemetry names them; the ``kind`` of its lines.
        attributes: fields written on the start line, reachable as ``jq '.task_id'``.

    With tracing disabled (``enabled=False``), the one shared span that does nothing.
    """
    if not tracer.enabled:
        return NOOP_SPAN
    return Span(name, attributes, None if parent is None else _as_context(parent), kind)


def _as_context(parent: Any) -> SpanContext | None:
    if parent is None or isinstance(parent, SpanContext):
        return parent
    if isinstance(parent, Span):
        return parent.context
    from logtrace.write.propagation import extract

    return extract(parent)


# The shared span of disabled tracing; noop.py (a subclass of Span) sets it when imported,
# which it is here, last, whichever of the two modules is imported first.
NOOP_SPAN: Span = cast(Span, None)
import logtrace.write.noop  # noqa: E402, F401
