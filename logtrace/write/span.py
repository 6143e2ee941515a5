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

import contextvars
import time
from collections.abc import Callable
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
from logtrace.write.pipeline import emit_span, emit_span_boundary, emit_span_end, end_fields
from logtrace.write.span_notes import report_dropped, short_repr, span_kind, status_of, warn_misuse
from logtrace.write.stamper import error_fields
from logtrace.write.tracer import Tracer, open_spans, render_start, tracer

__all__ = ["Span", "TailBuffer", "Tracer", "span", "span_kind", "tracer"]

_STATUS_OK = f.STATUS_OK


class Span:
    """One unit of work: ``with logtrace.span("name", key=value) as span: ...``.

    Use it as a context manager (``with`` or ``async with``). Inside, log lines carry its ids.
    An exception leaving the block marks the span as an error and is re-raised unchanged.

    An open span is its own context: the context variable holds the span, and its children
    and log lines read ``sampled``, ``depth``, ``tail`` and the ids from it. A sampled span
    makes its ids when it opens; an unsampled one when something first reads them (a log
    line, a child's line, ``inject``), so an unsampled span nobody looks at makes no ids.
    """

    __slots__ = (
        # Where an id made on first read is published, by one dict.setdefault: two threads
        # reading it at once get the same id. Never created for a sampled span.
        "__dict__",
        "_duration_ms",
        "_end_wall",
        "_live",
        "_parent",
        "_recording",
        "_span_id",
        "_start_attributes",
        "_start_mono",
        "_start_wall",
        "_token",
        "_trace_id",
        "attributes",
        "depth",
        "kind",
        "name",
        "sampled",
        "status",
        "tail",
    )

    # A span of this process (one from another is a SpanContext).
    remote = False

    # Set when the span opens: depth (0 for a local root), tail, and for a sampled span its
    # ids; when it starts recording: _start_mono, and _start_wall and _start_attributes (if it
    # waits in open_spans for the writer to write its start line) if its lines are written;
    # when it stops: _end_wall and _duration_ms (not by a sampled span's successful internal
    # end, which hands them to its line directly). Never read before.
    depth: int
    tail: TailBuffer | None
    _trace_id: str
    _span_id: str
    _start_mono: int
    _start_wall: int
    _end_wall: int
    _duration_ms: float
    _start_attributes: dict[str, Any]
    # _live: its lines are written (sampled, or its unsampled trace is kept): set when it
    # starts recording. _token: set by start().
    _live: bool
    _token: contextvars.Token[TraceContext | None] | None

    def __init__(
        self,
        name: str,
        attributes: dict[str, Any],
        parent: TraceContext | None = None,
        kind: str | None = None,
    ) -> None:
        self.name = name
        # None for an internal span (the kind is then left off its lines).
        self.kind = None if kind is None else span_kind(kind)
        self.attributes = attributes
        # The parent given, then (once open) the parent found: None for a new trace.
        self._parent = parent
        # None until the span opens, then whether its trace writes span lines.
        self.sampled: bool | None = None
        self.status = f.STATUS_OK
        # True while it records (it will or may write its end line); None when it is the
        # first span past max_depth (it reports the spans dropped below it when it ends).
        self._recording: bool | None = False

    # Set only when needed (in the span's __dict__): most spans never fail, and only the
    # first span past max_depth needs the count of drops when it started.
    _error: dict[str, str] | None = None
    _depth_dropped_at_start = 0

    # -- its context -----------------------------------------------------------------------

    @property
    def trace_id(self) -> str | None:
        """The trace id, once the span has started."""
        sampled = self.sampled
        if sampled:
            return self._trace_id
        if sampled is None:
            return None
        made: str | None = self.__dict__.get("trace_id")
        if made is None:
            parent = self._parent
            made = self._publish(
                "trace_id", _ids.new_trace_id() if parent is None else parent.trace_id
            )
        return made

    @property
    def span_id(self) -> str | None:
        """This span's id, once it has started."""
        sampled = self.sampled
        if sampled:
            return self._span_id
        if sampled is None:
            return None
        made: str | None = self.__dict__.get("span_id")
        if made is None:
            made = self._publish("span_id", _ids.new_span_id())
        return made

    def _publish(self, key: str, made: str | None) -> str | None:
        """The first id made for ``key``: ``made``, unless another thread was first."""
        first: str | None = self.__dict__.setdefault(key, made)
        return first

    @property
    def parent_id(self) -> str | None:
        """The parent span's id (local or remote); None for a new trace's root."""
        parent = self._parent
        return None if parent is None or self.sampled is None else parent.span_id

    @property
    def trace_flags(self) -> str:
        """The W3C trace-flags byte as two hex digits: ``01`` sampled, ``00`` not."""
        return "01" if self.sampled else "00"

    @property
    def tracestate(self) -> str | None:
        """The W3C tracestate of its trace, from the incoming ``traceparent``'s."""
        parent = self._parent
        return None if parent is None or self.sampled is None else parent.tracestate

    @property
    def baggage(self) -> str | None:
        """The W3C baggage of its trace, from the incoming ``traceparent``'s."""
        parent = self._parent
        return None if parent is None or self.sampled is None else parent.baggage

    @property
    def context(self) -> SpanContext | None:
        """The span's ``SpanContext`` (ids, sampled flag, tracestate), once it has started."""
        if self.sampled is None:
            return None
        return SpanContext(
            cast(str, self.trace_id),
            cast(str, self.span_id),
            self.sampled,
            self.tracestate,
            False,
            self.depth,
            self.baggage,
            self.tail,
        )

    # -- recording -------------------------------------------------------------------------

    def set(self, /, **attributes: Any) -> None:
        """Add attributes; the end line carries them all, the start line those given first."""
        if self.sampled is None:
            self.attributes.update(attributes)
            return
        # Rebind rather than update: the start line (maybe written later) keeps its own dict.
        self.attributes = {**self.attributes, **attributes}

    def event(self, name: str, /, **attributes: Any) -> None:
        """Write a point-in-time event of this span (a line with ``span: "event"``).

        Positional-only ``name``: an attribute may be called ``name`` too (written as
        ``name_``, like every attribute named after one of logtrace's fields).
        """
        if not getattr(self, "_live", False):
            return
        fields = {f.SPAN: f.SPAN_EVENT}
        _metered(emit_span, "info", self, tracer.wall_ns(), fields, name, attributes)

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
        name, attributes = self.name, self._start_attributes
        return render_start(self, self._start_wall, name, self.parent_id, self.kind, attributes)

    def _write_start(self) -> None:
        if self.kind is not None:
            span_fields = {
                f.SPAN: f.SPAN_START,
                f.NAME: self.name,
                f.PARENT_ID: self.parent_id,
                f.KIND: self.kind,
            }
            wall, attributes = self._start_wall, self.attributes
            _metered(emit_span, "info", self, wall, span_fields, self.name, attributes)
            return
        _metered(
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
            if tracer.cost_meter is None:  # the common case, without _metered's call
                emit_span_end(self, trace_id, span_id, wall, name, parent_id, ms, attributes)
            else:
                _metered(
                    emit_span_end, self, trace_id, span_id, wall, name, parent_id, ms, attributes
                )
            return
        span_fields = end_fields(
            self.name, self.parent_id, self._duration_ms, self.status, self.kind
        )
        if self._error is not None:
            span_fields.update(self._error)
        level = "info" if self.status == f.STATUS_OK else "error"
        _metered(emit_span, level, self, self._end_wall, span_fields, self.name, attributes)

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
            # contextlib.suppress would cost ~0.5 µs a span.
            try:  # noqa: SIM105
                reset_span(token)
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


def as_current(span: Span) -> TraceContext | None:
    """What the context variable holds while ``span`` is current: the span itself, once open
    (None for the disabled span)."""
    return None if span.sampled is None else span


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
    # Span(...) without the class call: calling a class with a Python __init__ costs ~40 ns
    # a span more than object.__new__ and the same stores made here (kept as __init__ has them).
    made = _new_object(Span)
    made.name = name
    made.kind = None if kind is None else span_kind(kind)
    made.attributes = attributes
    made._parent = None if parent is None else _as_context(parent)
    made.sampled = None
    made.status = _STATUS_OK
    made._recording = False
    return made


_new_object = object.__new__


def _as_context(parent: Any) -> TraceContext | None:
    if parent is None or isinstance(parent, SpanContext):
        return parent
    if isinstance(parent, Span):
        return as_current(parent)
    from logtrace.write.propagation import extract

    return extract(parent)


# The shared span of disabled tracing; noop.py (a subclass of Span) sets it when imported,
# which it is here, last, whichever of the two modules is imported first.
NOOP_SPAN: Span = cast(Span, None)
import logtrace.write.noop  # noqa: E402, F401
