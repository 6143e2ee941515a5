"""Spans: a start line when a span opens, an end line when it closes, the context in between.

A span that is open is visible on disk (its start line), so a crash leaves evidence of what was
in flight. The end line carries the duration (monotonic clock), the status and the error. Span
lines go through the same processor chain as every log line (``_pipeline.emit``).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from . import _fields as f
from . import _ids
from ._context import SpanContext, current_context, get_current
from ._pipeline import ORIGIN_KEY, Origin, emit, error_fields

# Who decides whether a new trace is recorded; (trace_id) -> sampled. Set by configure().
Sampler = Callable[[str], bool]


def _always(trace_id: str) -> bool:
    return True


class Tracer:
    """Span settings decided at configure time, read by every span."""

    __slots__ = ("depth_dropped", "max_depth", "monotonic_ns", "sampler", "wall_ns", "write_spans")

    def __init__(self) -> None:
        self.write_spans = True
        self.sampler: Sampler = _always
        self.max_depth = 50
        self.depth_dropped = 0
        self.wall_ns: Callable[[], int] = time.time_ns
        self.monotonic_ns: Callable[[], int] = time.perf_counter_ns


tracer = Tracer()


class Span:
    """One unit of work: ``with logtrace.span("name", key=value) as span: ...``.

    Use it as a context manager (``with`` or ``async with``). Inside, log lines carry its ids.
    An exception leaving the block marks the span as an error and is re-raised unchanged.
    """

    __slots__ = (
        "_end_attributes",
        "_error",
        "_parent",
        "_start_mono",
        "_token",
        "_written",
        "attributes",
        "context",
        "name",
        "parent_id",
        "status",
    )

    def __init__(
        self, name: str, attributes: dict[str, Any], parent: SpanContext | None = None
    ) -> None:
        self.name = name
        self.attributes = attributes
        self._parent = parent
        self.context: SpanContext | None = None
        self.parent_id: str | None = None
        self.status = f.STATUS_OK
        self._error: dict[str, str] | None = None
        self._end_attributes: dict[str, Any] | None = None
        self._token: contextvars.Token[SpanContext | None] | None = None
        self._written = False
        self._start_mono = 0

    # -- ids -------------------------------------------------------------------------------

    @property
    def trace_id(self) -> str | None:
        """The trace id, once the span has started."""
        return None if self.context is None else self.context.trace_id

    @property
    def span_id(self) -> str | None:
        """This span's id, once it has started."""
        return None if self.context is None else self.context.span_id

    # -- recording -------------------------------------------------------------------------

    def set(self, **attributes: Any) -> None:
        """Add attributes; those set after the start line is written go on the end line."""
        self.attributes.update(attributes)
        if self.context is not None:
            if self._end_attributes is None:
                self._end_attributes = {}
            self._end_attributes.update(attributes)

    def event(self, name: str, **attributes: Any) -> None:
        """Write a point-in-time event of this span (a line with ``span: "event"``)."""
        ctx = self.context
        if ctx is None or not self._written:
            return
        attributes[f.EVENT] = name
        attributes[ORIGIN_KEY] = Origin(tracer.wall_ns(), "logtrace", ctx, {f.SPAN: f.SPAN_EVENT})
        emit("info", attributes)

    def set_status(self, status: str, message: str | None = None) -> None:
        """Set ``"ok"`` or ``"error"``; an error may carry a message."""
        if status not in (f.STATUS_OK, f.STATUS_ERROR):
            raise ValueError(f"span status must be 'ok' or 'error', not {status!r}")
        self.status = status
        if status == f.STATUS_ERROR and message is not None and self._error is None:
            self._error = {f.ERROR_MESSAGE: message}
        elif status == f.STATUS_OK:
            self._error = None

    def record_exception(self, exc: BaseException) -> None:
        """Mark the span as failed by ``exc`` (type, message, traceback) without raising."""
        self.status = f.STATUS_ERROR
        self._error = error_fields(exc)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Span:
        """Open the span: make it current and write its start line."""
        self.open()
        self._token = current_context.set(self.context)
        return self

    def open(self) -> None:
        """Write the start line without making the span current (generators do that per step)."""
        parent = self._parent if self._parent is not None else get_current()
        if parent is None:
            trace_id = _ids.new_trace_id()
            ctx = SpanContext(trace_id, _ids.new_span_id(), tracer.sampler(trace_id))
        else:
            self.parent_id = parent.span_id
            ctx = SpanContext(
                parent.trace_id,
                _ids.new_span_id(),
                parent.sampled,
                parent.tracestate,
                False,
                0 if parent.remote else parent.depth + 1,
                parent.baggage,
            )
        self.context = ctx
        self._start_mono = tracer.monotonic_ns()
        if tracer.write_spans and ctx.sampled:
            if ctx.depth < tracer.max_depth:
                self._written = True
                line = dict(self.attributes)
                line[f.EVENT] = self.name
                line[ORIGIN_KEY] = Origin(
                    tracer.wall_ns(),
                    "logtrace",
                    ctx,
                    {f.SPAN: f.SPAN_START, f.NAME: self.name, f.PARENT_ID: self.parent_id},
                )
                emit("info", line)
            else:
                tracer.depth_dropped += 1

    def end(self, exc: BaseException | None = None) -> None:
        """Close the span: write its end line and restore the previous current span."""
        ctx = self.context
        if ctx is None:
            return
        if exc is not None and not _is_normal_exit(exc):
            self.record_exception(exc)
        if self._written:
            self._written = False
            duration_ms = (tracer.monotonic_ns() - self._start_mono) / 1e6
            span_fields: dict[str, Any] = {
                f.SPAN: f.SPAN_END,
                f.NAME: self.name,
                f.PARENT_ID: self.parent_id,
                f.DURATION_MS: round(duration_ms, 3),
                f.STATUS: self.status,
            }
            if self._error is not None:
                span_fields.update(self._error)
            line = self._end_attributes if self._end_attributes is not None else {}
            line[f.EVENT] = self.name
            line[ORIGIN_KEY] = Origin(tracer.wall_ns(), "logtrace", ctx, span_fields)
            emit("error" if self.status == f.STATUS_ERROR else "info", line)
        token, self._token = self._token, None
        if token is not None:
            # Ended in another context (a generator finalised elsewhere): nothing to restore.
            with contextlib.suppress(ValueError):
                current_context.reset(token)

    def __enter__(self) -> Span:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end(exc)

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


def _is_normal_exit(exc: BaseException) -> bool:
    if isinstance(exc, GeneratorExit):
        return True
    return isinstance(exc, SystemExit) and exc.code in (0, None)


def span(name: str, /, *, parent: Any = None, **attributes: Any) -> Span:
    """Open a span: ``with logtrace.span("dispatch", task_id=42) as span: ...``.

    Args:
        name: what the span does, in a few words; ``event`` and ``name`` of its lines.
        parent: continue another context instead of the current span: a ``SpanContext``,
            a ``Span``, or a carrier dict with a ``traceparent`` (see ``logtrace.extract``).
        attributes: fields written on the start line, reachable as ``jq '.task_id'``.
    """
    return Span(name, attributes, _as_context(parent))


def _as_context(parent: Any) -> SpanContext | None:
    if parent is None or isinstance(parent, SpanContext):
        return parent
    if isinstance(parent, Span):
        return parent.context
    from ._propagation import extract

    return extract(parent)
