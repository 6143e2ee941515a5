"""The span settings decided at configure time, read by every span, and the open spans.

A span's start line is not written when it opens: it is put in ``open_spans``, and the file
sink's writer asks ``open_spans.start_lines()`` for the start lines of the spans still open each
time it flushes (every ``flush_interval``, at ``flush()``, at exit, on SIGTERM). A span that ends
before that writes only its end line, which carries everything its start line would have. With
``flush="always"`` (``defer_starts`` off) start lines are written at once, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from logtrace.format import fields as f
from logtrace.write import context as _context
from logtrace.write.context import TraceContext
from logtrace.write.pipeline import direct, state
from logtrace.write.render import to_line
from logtrace.write.sampling import ParentBased, Sampler, always, new_trace_decision
from logtrace.write.stamper import ORIGIN_KEY, Origin


class Tracer:
    """Span settings decided at configure time, read by every span."""

    __slots__ = (
        "_sampler",
        "cost_meter",
        "defer_starts",
        "depth_dropped",
        "enabled",
        "keep_errors",
        "max_depth",
        "monotonic_ns",
        "new_trace_sampled",
        "quiet_roots",
        "slow_ms",
        "tail_limit",
        "wall_ns",
    )

    def __init__(self) -> None:
        self.quiet_roots = False
        self.depth_dropped = 0
        self.wall_ns: Callable[[], int] = time.time_ns
        self.monotonic_ns: Callable[[], int] = time.perf_counter_ns
        self.unconfigure()

    def unconfigure(self) -> None:
        """The settings as before ``configure()`` (the clocks and counters stay)."""
        # False: span() and @traced do nothing at all (a shared no-op span, no ids).
        self.enabled = True
        # True once a sink that flushes on an interval asks for start lines when it flushes.
        self.defer_starts = False
        self.sampler = ParentBased(always)
        self.keep_errors = True
        self.slow_ms: float | None = None
        self.tail_limit = 1000
        self.max_depth = 50
        self.cost_meter: Callable[[int], None] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # Settings are set at configure time; spans only read them (slot reads, no call).
        object.__setattr__(self, name, value)
        if name in _QUIET_INPUTS:
            self.settle()

    def settle(self) -> None:
        """Recompute ``quiet_roots``: whether a new trace writes nothing at all (its sampler
        says no in advance, no keep-errors buffer holds its spans, its root is within
        max_depth) and has no parent to look for outside the context variable (no
        ``TRACEPARENT`` of the process, no OpenTelemetry bridge). Its root then skips the
        decisions a root makes (``Span.start``). Called when a setting is set, and by whoever
        sets ``context.process_parent`` or ``context.fallback_context``."""
        try:
            quiet = (
                self.new_trace_sampled is False
                and not self.keep_errors
                and self.max_depth > 0
                and _context.process_parent is None
                and _context.fallback_context is None
            )
        except AttributeError:  # in __init__, before every setting is there
            quiet = False
        object.__setattr__(self, "quiet_roots", quiet)

    @property
    def sampler(self) -> Sampler:
        """Which new traces write their span lines (``logtrace.sampling``)."""
        return self._sampler

    @sampler.setter
    def sampler(self, sampler: Sampler) -> None:
        self._sampler = sampler
        # A sampler whose answer for a new trace is known in advance (always, never, and
        # parent-based on either) is not asked, and the new trace's id waits to be needed.
        self.new_trace_sampled: bool | None = new_trace_decision(sampler)


# The settings quiet_roots is made of (the sampler's setter sets new_trace_sampled).
_QUIET_INPUTS = frozenset({"new_trace_sampled", "keep_errors", "max_depth"})

tracer = Tracer()


class Deferred(Protocol):
    """An open span whose start line is not written yet (``Span`` is one)."""

    def start_line(self) -> bytes | None:
        """The span's start line, rendered; None if it cannot be made."""


class OpenSpans:
    """The spans open now whose start line is not written yet, at most ``limit`` of them.

    The hot path (``Span.open`` and its end) adds a span to ``spans`` unless ``limit`` are
    there already (it then writes the start line itself) and removes it when it ends: single
    dict operations, atomic under the GIL, with no lock a signal handler could find held. The
    writer takes each span out before rendering its start line, so a start line is written at
    most once.
    """

    __slots__ = ("limit", "spans")

    def __init__(self, limit: int = 100_000) -> None:
        self.spans: dict[Deferred, bool] = {}
        self.limit = limit

    def start_lines(self) -> list[bytes]:
        """The start lines of the spans still open (for the writer, at a flush); never raises."""
        spans = self.spans
        lines: list[bytes] = []
        try:
            for span in list(spans):
                if spans.pop(span, None) is None:
                    continue  # it ended meanwhile, on its own thread
                line = span.start_line()
                if line:
                    lines.append(line)
        except Exception:
            return lines
        return lines

    def clear(self) -> None:
        """Forget every open span (in a forked child: they are the parent's to write)."""
        self.spans.clear()


open_spans = OpenSpans()


def render_start(
    ctx: TraceContext,
    ts_ns: int,
    name: str,
    parent_id: str | None,
    kind: str | None,
    attributes: Mapping[str, Any],
) -> bytes | None:
    """A span's start line as bytes, the line ``emit_span`` would write; None if a processor
    dropped it or it cannot be made. Runs on the writer's thread, at a flush: fields bound with
    structlog's contextvars are the span's thread's, so they are on its end line, not here."""
    try:
        stamper = state.stamper
        if kind is None and direct():
            return to_line(stamper.boundary_line(ctx, ts_ns, name, parent_id, None, attributes))
        span_fields: dict[str, Any] = {f.SPAN: f.SPAN_START, f.NAME: name, f.PARENT_ID: parent_id}
        if kind is not None:
            span_fields[f.KIND] = kind
        if direct():
            return to_line(stamper.span_line("info", ctx, ts_ns, span_fields, name, attributes))
        line: Any = dict(attributes)
        line[f.EVENT] = name
        line[ORIGIN_KEY] = Origin(ts_ns, "logtrace", ctx, span_fields)
        for processor in state.processors:
            line = processor(None, "info", line)
        return line if isinstance(line, bytes) else None
    except Exception:
        state.errors += 1
        return None
    except BaseException as exc:
        # structlog.DropEvent from a processor of the user's: the line is dropped, not an error.
        if type(exc).__name__ != "DropEvent":
            raise
        return None
