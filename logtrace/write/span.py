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
is written and the rest of the trace's spans in this process are written as they end
(``keep_errors.TailBuffer``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, cast

from logtrace.format import fields as f
from logtrace.write import context as _context
from logtrace.write import ids as _ids
from logtrace.write.context import (
    SpanContext,
    TraceContext,
    get_current,
    get_span,
    reset_span,
    set_span,
)
from logtrace.write.durations import rounded_us
from logtrace.write.end_line import emit_sampled_end
from logtrace.write.keep_errors import TailBuffer
from logtrace.write.pipeline import (
    NO_TAIL,
    emit_span,
    emit_span_boundary,
    emit_span_end,
    end_fields,
    state,
)
from logtrace.write.span_base import SpanBase, metered
from logtrace.write.span_notes import ended_out_of_order, report_dropped, span_kind, text_of
from logtrace.write.tracer import Tracer, open_spans, render_start, tracer

__all__ = ["Span", "TailBuffer", "Tracer", "span", "span_kind", "tracer"]

_STATUS_OK = f.STATUS_OK


class Span(SpanBase):
    """One unit of work: ``with logtrace.span("name", key=value) as span: ...``.

    Use it as a context manager (``with`` or ``async with``). Inside, log lines carry its ids.
    An exception leaving the block marks the span as an error and is re-raised unchanged.

    An open span is its own context: the context variable holds the span, and its children
    and log lines read ``sampled``, ``depth``, ``tail`` and the ids from it. A sampled span
    makes its ids when it opens; an unsampled one when something first reads them (a log
    line, a child's line, ``inject``), so an unsampled span nobody looks at makes no ids.

    Its slots, ids, context and the calls a program makes on it (``set``, ``event``, …) are
    ``SpanBase``'s (span_base.py); here is its lifecycle.
    """

    __slots__ = ()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, current: bool = True) -> Span:
        """Open the span and make it current (its start line waits for the next flush).

        Args:
            current: False opens it without making it current (generators do that per step).
        """
        parent = self._parent
        if parent is None:
            parent = get_span()
            if parent is None:
                if tracer.quiet_roots:
                    # A new trace that writes nothing (never sampled, no keep-errors buffer:
                    # the ids-without-span-lines setup), with no parent to look for elsewhere.
                    self.depth = 0
                    self.sampled = False
                    self.tail = None
                    self._token = set_span(self) if current else None
                    return self
                if _context.fallback_context or _context.process_parent:
                    parent = get_current()  # OpenTelemetry's span, or the process's parent
            if parent is not None:
                self._parent = parent
        elif parent is NEW_TRACE:
            # A malformed traceparent was given (and reported): a new trace, not the current.
            self._parent = parent = None
        if parent is not None and not parent.remote:
            # The trace's decision, made once at its local root: no sampler call here.
            self.sampled = sampled = parent.sampled
            self.tail = tail = parent.tail
            self.depth = depth = parent.depth + 1
            if sampled:
                # A sampled local span's trace id is in its slot: its property costs a call.
                self._trace_id = (
                    parent._trace_id if type(parent) is Span else parent.trace_id  # type: ignore[assignment]
                )
            elif tail is not None or depth >= tracer.max_depth:
                self._record()
            # else unsampled, and no keep-errors buffer: nothing of it will be written
        else:
            # A local root: its trace's decision is made here.
            self.depth = depth = 0
            if parent is None:
                sampled = tracer.new_trace_sampled
                if sampled is None:  # the sampler decides on the trace id: make it now
                    trace_id = _ids.new_trace_id()
                    sampled = bool(tracer.sampler(trace_id, None))
                    if sampled:
                        self._trace_id = trace_id
                    else:
                        self.__dict__["trace_id"] = trace_id
                elif sampled:
                    self._trace_id = _ids.new_trace_id()
            else:
                trace_id = cast(str, parent.trace_id)
                sampled = bool(tracer.sampler(trace_id, cast(SpanContext, parent)))
                if sampled:
                    self._trace_id = trace_id
            self.sampled = sampled
            if sampled:
                self.tail = None
            elif tracer.keep_errors:
                self.tail = TailBuffer()
                if tracer.max_depth > 0:  # held in its new buffer: no start line, no ids yet
                    self._start_mono = tracer.monotonic_ns()
                    self._recording = True
                    self._live = False
                else:
                    self._record()
            else:
                self.tail = None  # nothing of this trace will be written
                if tracer.max_depth <= 0:
                    self._record()
        if sampled:
            if depth < tracer.max_depth:
                # _record()'s sampled case, inline: a call costs as much as half of what it
                # does, and most spans are sampled ones within max_depth.
                self._start_mono = tracer.monotonic_ns()
                self._recording = self._live = True
                self._span_id = _ids.new_span_id()
                self._start_wall = tracer.wall_ns()
                waiting = open_spans.spans
                if tracer.defer_starts and len(waiting) < open_spans.limit:
                    self._start_attributes = self.attributes
                    waiting[self] = True
                else:
                    self._write_start()
            else:
                self._record()  # past max_depth: counted, with ids for its children
        self._token = set_span(self) if current else None
        return self

    def open(self) -> None:
        """Open the span without making it current (generators do that per step)."""
        self.start(current=False)

    def _record(self) -> None:
        """Start recording: a sampled span writes its lines, an unsampled one of a trace with
        a keep-errors buffer may; a span past ``max_depth`` only counts."""
        if self.depth >= tracer.max_depth:
            tracer.depth_dropped += 1
            if self.depth == tracer.max_depth:
                self._recording = None
                self._depth_dropped_at_start = tracer.depth_dropped - 1
            if self.sampled:
                self._span_id = _ids.new_span_id()  # it has ids, as its children do
            return
        self._start_mono = tracer.monotonic_ns()
        self._recording = True
        if self.sampled:
            self._span_id = _ids.new_span_id()
        # Unsampled and recording: it has a keep-errors buffer.
        elif not self.tail.keep:  # type: ignore[union-attr]
            self._live = False  # held in the keep-errors buffer: no start line, no ids yet
            return
        # Its lines will be written: its start line queued for the writer (or written now).
        self._live = True
        self._start_wall = tracer.wall_ns()
        # open_spans.spans, by hand: a method call would cost as much as the dict operation.
        # (A span not put there is not found there when it ends: no flag says which it was.)
        waiting = open_spans.spans
        if tracer.defer_starts and len(waiting) < open_spans.limit:
            self._start_attributes = self.attributes
            waiting[self] = True
        else:
            self._write_start()

    def end(self, exc: BaseException | None = None) -> None:
        """Close the span: write its end line and restore the previous current span."""
        self.__exit__(None, exc, None)

    def start_line(self) -> bytes | None:
        """The start line, rendered (for the writer, when it flushes while the span is open)."""
        if self.sampled is None:
            return None
        name, attributes = self._text_name(), self._start_attributes
        return render_start(self, self._start_wall, name, self.parent_id, self.kind, attributes)

    def _text_name(self) -> str:
        """The name, made text first if it is not (``span(123)``, an Enum member: its
        ``str()``; such a name wrote no line). Here, where lines are written, not in
        ``span()``: a span that writes nothing need not pay for the check."""
        name = self.name
        if type(name) is not str:
            self.name = name = text_of(name)
        return name

    def _write_start(self) -> None:
        self._text_name()
        if self.kind is not None:
            span_fields = {
                f.SPAN: f.SPAN_START,
                f.NAME: self.name,
                f.PARENT_ID: self.parent_id,
                f.KIND: self.kind,
            }
            wall, attributes = self._start_wall, self.attributes
            metered(emit_span, "info", self, wall, span_fields, self.name, attributes)
            return
        metered(
            emit_span_boundary,
            self,
            self._start_wall,
            self.name,
            self.parent_id,
            None,
            self.attributes,
        )

    def _write_end(self) -> None:
        attributes = self.attributes
        if type(self.name) is not str:
            self._text_name()
        if self.status == f.STATUS_OK and self.kind is None:
            parent = self._parent
            trace_id: str | None
            span_id: str | None
            if self.sampled:
                # Its ids, and a local parent's, are in their slots: a property costs a call.
                trace_id, span_id = self._trace_id, self._span_id
                if parent is None:
                    parent_id = None
                elif type(parent) is Span:
                    parent_id = parent._span_id
                else:
                    parent_id = parent.span_id
            else:  # a span of a kept unsampled trace: its ids are made when first read
                trace_id, span_id = self.trace_id, self.span_id
                parent_id = None if parent is None else parent.span_id
            name, ms, wall = self.name, self._duration_ms, self._end_wall
            if tracer.cost_meter is None:  # the common case, without metered()'s call
                emit_span_end(self, trace_id, span_id, wall, name, parent_id, ms, attributes)
            else:
                metered(
                    emit_span_end, self, trace_id, span_id, wall, name, parent_id, ms, attributes
                )
            return
        span_fields = end_fields(
            self.name, self.parent_id, self._duration_ms, self.status, self.kind
        )
        if self._error is not None:
            span_fields.update(self._error)
        level = "info" if self.status == f.STATUS_OK else "error"
        metered(emit_span, level, self, self._end_wall, span_fields, self.name, attributes)

    __enter__ = start

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.sampled is None:
            return
        if exc is not None and not _is_normal_exit(exc):
            self.record_exception(exc)
        recording = self._recording
        if recording:
            self._recording = False
            if self._live:
                ns = tracer.monotonic_ns() - self._start_mono
                # rounded_us(ns), its common case inline.
                if ns % 1000 != 500 and 0 <= ns < 1 << 52:
                    micros = (ns + 500) // 1000
                else:
                    micros = rounded_us(ns)
                # The end is the start plus the monotonic time between, as OpenTelemetry's Go
                # SDK has it, in the whole µs duration_ms holds: the end line's ts (µs, cut)
                # less duration_ms is the start line's ts exactly, whatever the wall clock did
                # meanwhile (start + elapsed, cut, was 1 µs off a third of the time).
                end_wall = self._start_wall + micros * 1000
                open_spans.spans.pop(self, None)  # its end line says everything
                if (
                    self.sampled
                    and self.status == _STATUS_OK
                    and self.kind is None
                    and tracer.cost_meter is None
                ):
                    # _write_end()'s most common case, its line made of bytes (end_line.py).
                    emit_sampled_end(self, end_wall, micros)
                else:
                    self._duration_ms = micros / 1000
                    self._end_wall = end_wall
                    self._write_end()
                # The stdlib handler's tail of its last line (stdlib.py) lets go of the span
                # now, not at the next line: the span's objects, freed there, just before the
                # program's next work, left CPython's allocator a pool of one free block for
                # it (the demo's task mispredicted twice the branches: docs/benchmarks.md).
                if state.line_tail[0] is self:
                    state.line_tail = NO_TAIL
            else:
                # Held in its trace's keep-errors buffer (never None here). span_ended()'s
                # commonest case, inline: a root ends its trace well, with nothing held.
                tail: TailBuffer = self.tail  # type: ignore[assignment]
                if (
                    self.depth != 0
                    or tail
                    or self.status != _STATUS_OK
                    or tracer.slow_ms is not None
                    or tail.keep
                ):
                    tail.span_ended(self)
        elif recording is None:
            self._recording = False
            report_dropped(tracer.depth_dropped - self._depth_dropped_at_start, "max_depth")
        token = self._token
        if token is not None:
            self._token = None
            if get_span() is self:
                # contextlib.suppress would cost ~0.5 µs a span.
                try:
                    reset_span(token)
                except ValueError:  # current in a copy of its context (a task made inside it)
                    ended_out_of_order(self, token)
            else:  # ended while not current: another thread or task, or a late generator
                ended_out_of_order(self, token)

    async def __aenter__(self) -> Span:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end(exc)


def as_current(span: Span) -> TraceContext | None:
    """What the context variable holds while ``span`` is current: the span itself, once open
    (None for the disabled span)."""
    return None if span.sampled is None else span


def _is_normal_exit(exc: BaseException) -> bool:
    if isinstance(exc, GeneratorExit):
        return True
    return isinstance(exc, SystemExit) and exc.code in (0, None)


def span(name: str, /, *, parent: Any = None, kind: str | None = None, **attributes: Any) -> Span:
    """Open a span: ``with logtrace.span("dispatch", task_id=42) as span: ...``.

    Args:
        name: what the span does, in a few words; ``event`` and ``name`` of its lines.
        parent: continue another context instead of the current span: a ``SpanContext``,
            a ``Span``, a carrier dict with a ``traceparent`` (see ``logtrace.extract``) or
            a ``traceparent`` value itself;
            a malformed one starts a new trace (and is reported), a carrier without one
            continues the current span.
        kind: ``"server"`` (handling a request), ``"client"`` (making one), ``"producer"``
            (sending a message or task), ``"consumer"`` (handling one) or ``"internal"``
            (the default), as OpenTelemetry names them; the ``kind`` of its lines.
        attributes: fields written on the start line, reachable as ``jq '.task_id'``.

    With tracing disabled (``enabled=False``), the one shared span that does nothing.
    """
    if not tracer.enabled:
        return NOOP_SPAN
    # Span(...) without the class call: calling a class with a Python __init__ costs ~40 ns
    # a span more than object.__new__ and the same stores made here (kept as SpanBase.__init__
    # in span_base.py has them).
    made = _new_object(Span)
    made.name = name  # made text (text_of) where a line is written: see _text_name
    made.kind = None if kind is None else span_kind(kind)
    made.attributes = attributes
    made._parent = None if parent is None else _as_context(parent)
    made.sampled = None
    made.status = _STATUS_OK
    made._recording = False
    return made


_new_object = object.__new__


# The parent of a span given a malformed traceparent: ``start`` makes it a new trace's root.
NEW_TRACE = cast(SpanContext, object())


def _as_context(parent: Any) -> TraceContext | None:
    if parent is None or isinstance(parent, SpanContext):
        return parent
    if isinstance(parent, Span):
        return as_current(parent)
    from logtrace.write import propagation

    if isinstance(parent, (str, bytes)):  # a traceparent value itself
        parent = {"traceparent": parent}
    context = propagation.extract_or_bad(parent)
    return NEW_TRACE if context is propagation.BAD else context  # type: ignore[return-value]


# The shared span of disabled tracing; noop.py (a subclass of Span) sets it when imported,
# which it is here, last, whichever of the two modules is imported first.
NOOP_SPAN: Span = cast(Span, None)
import logtrace.write.noop  # noqa: E402, F401
