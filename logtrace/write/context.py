"""The current span context, in a contextvar, and helpers that carry it into threads.

asyncio tasks copy the context when they are created, so spans follow them for free. Threads
start with an empty context, so work handed to a thread is wrapped: ``wrap(fn)`` runs ``fn`` in
a copy of the caller's context, and ``ThreadPoolExecutor`` does that for every submitted task.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class SpanContext:
    """What crosses a boundary: the ids of a span, its sampled flag and the W3C tracestate.

    A local span's context is its own; a remote one comes from an incoming ``traceparent``.
    """

    __slots__ = (
        "baggage",
        "depth",
        "remote",
        "sampled",
        "span_id",
        "tail",
        "trace_id",
        "tracestate",
    )

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        sampled: bool = True,
        tracestate: str | None = None,
        remote: bool = False,
        depth: int = 0,
        baggage: str | None = None,
        tail: Any = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.sampled = sampled
        self.tracestate = tracestate
        self.remote = remote
        self.depth = depth
        self.baggage = baggage
        # The keep-errors buffer of an unsampled trace's local root (see keep_errors.TailBuffer).
        self.tail = tail

    @property
    def trace_flags(self) -> str:
        """The W3C trace-flags byte as two hex digits: ``01`` sampled, ``00`` not."""
        return "01" if self.sampled else "00"

    def __repr__(self) -> str:
        kind = "remote " if self.remote else ""
        return f"<{kind}SpanContext trace_id={self.trace_id} span_id={self.span_id}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpanContext):
            return NotImplemented
        return (self.trace_id, self.span_id, self.sampled, self.tracestate) == (
            other.trace_id,
            other.span_id,
            other.sampled,
            other.tracestate,
        )

    def __hash__(self) -> int:
        return hash((self.trace_id, self.span_id))


class TraceContext(Protocol):
    """What log lines, child spans and ``inject`` read of the current context.

    A ``SpanContext`` is one; so is a ``Span`` of this process, which is its own context (its
    ids are made when first read: see ``logtrace.write.span``).
    """

    @property
    def trace_id(self) -> str | None:
        """The trace id (32 hex digits)."""

    @property
    def span_id(self) -> str | None:
        """The span id (16 hex digits)."""

    @property
    def sampled(self) -> bool | None:
        """Whether the trace writes its span lines (None: a span not open yet, never current)."""

    @property
    def trace_flags(self) -> str:
        """``01`` sampled, ``00`` not."""

    @property
    def tracestate(self) -> str | None:
        """The W3C tracestate carried on."""

    @property
    def baggage(self) -> str | None:
        """The W3C baggage carried on."""

    @property
    def remote(self) -> bool:
        """Whether it came from another process (a ``traceparent``)."""

    @property
    def depth(self) -> int:
        """How deep the span is in its trace, in this process (0 for a local root)."""

    @property
    def tail(self) -> Any:
        """The keep-errors buffer of an unsampled trace, or None."""


current_context: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "logtrace_current_span", default=None
)

# current_context's methods, bound once, for the hot paths. CPython 3.11 compiles a method call
# on a name bound by an import (``current_context.get()`` after ``from … import
# current_context``) as an attribute load, which makes a bound method object every call:
# ~45 ns of an unsampled span's ~900 (a span gets, sets and resets it).
get_span = current_context.get
set_span = current_context.set
reset_span = current_context.reset

# The context this process was started in (TRACEPARENT in its environment, read by
# configure()): outside any span, lines and new spans belong to it.
process_parent: SpanContext | None = None

# Set by the OpenTelemetry bridge when it is enabled: returns the active OpenTelemetry span's
# context when no logtrace span is current, so log lines carry its ids.
fallback_context: Callable[[], TraceContext | None] | None = None


def get_current() -> TraceContext | None:
    """Return the context of the current span, or ``None`` outside any span."""
    ctx = get_span()
    if ctx is not None:
        return ctx
    if fallback_context is not None:
        ctx = fallback_context()
        if ctx is not None:
            return ctx
    return process_parent


def current_trace_id() -> str | None:
    """Return the trace id of the current span, or ``None`` outside any span."""
    ctx = get_current()
    return None if ctx is None else ctx.trace_id


def current_span_id() -> str | None:
    """Return the span id of the current span, or ``None`` outside any span."""
    ctx = get_current()
    return None if ctx is None else ctx.span_id


def wrap(fn: Callable[P, R]) -> Callable[P, R]:
    """Bind ``fn`` to a copy of the current context, for running it on another thread.

    ``threading.Thread(target=logtrace.wrap(work)).start()`` makes log lines and spans inside
    ``work`` belong to the span that was current when ``wrap`` was called.
    """
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        # A copy per call: the same wrapped callable may run on two threads at once, and a
        # Context can be entered by one thread at a time.
        return ctx.copy().run(fn, *args, **kwargs)

    return run_in_context


class ThreadPoolExecutor(concurrent.futures.ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in the context of the code that submitted them."""

    def submit(
        self, fn: Callable[..., R], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[R]:
        """Schedule ``fn(*args, **kwargs)`` in a copy of the caller's context."""
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
