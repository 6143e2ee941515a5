"""A span's state, and what a program reads and calls on it while it is open.

``SpanBase`` holds the slots of a span and its user-facing half: the ids and context
(``trace_id``, ``span_id``, ``parent_id``, ``context``, …; an unsampled span makes its ids when
something first reads them) and the recording calls (``set``, ``event``, ``rename``,
``set_status``, ``record_exception``). ``Span`` (span.py) adds the lifecycle: opening, the
sampling decision, the lines it writes, closing. Only ``Span`` and its disabled twin
(``NoopSpan``) are ever made.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from logtrace.format import fields as f
from logtrace.format.shown import short_repr
from logtrace.write import ids as _ids
from logtrace.write.context import SpanContext, TraceContext
from logtrace.write.pipeline import emit_span
from logtrace.write.span_notes import span_kind, status_of, text_of, warn_misuse
from logtrace.write.stamper import error_fields
from logtrace.write.tracer import tracer

if TYPE_CHECKING:
    from logtrace.write.keep_errors import TailBuffer

__all__ = ["SpanBase", "metered"]


class SpanBase:
    """The state of a span and its calls for the program; see ``Span`` (span.py)."""

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
        metered(emit_span, "info", self, tracer.wall_ns(), fields, text_of(name), attributes)

    def rename(self, name: str) -> None:
        """Name the span anew once a better name is known (a server span its route).

        The end line carries the new name (the start line, already written, keeps the old
        one); the read side takes a span's name from its end line.
        """
        self.name = text_of(name)

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
            self._error = {f.ERROR_MESSAGE: text_of(message)}
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

    def __repr__(self) -> str:
        return f"<Span {self.name!r} trace_id={self.trace_id} span_id={self.span_id}>"


def metered(write: Callable[..., None], *args: Any) -> None:
    """``write(*args)``: a span line; timed for the adaptive sampler when it asks for costs."""
    meter = tracer.cost_meter
    if meter is None:
        write(*args)
        return
    started = time.perf_counter_ns()
    write(*args)
    meter(time.perf_counter_ns() - started)
