"""Samplers: which new traces write their span lines.

A sampler is called for a span with no local parent: a new root, or the first span after an
incoming ``traceparent``. Its children follow its decision. ``sampler(trace_id, parent)`` gets
the remote parent context, or ``None`` for a new trace, and returns ``True`` to record.

Log lines are not sampled by default: inside an unsampled trace they are still written with
``trace_flags: "00"``. Unsampled spans are kept in memory until their local root ends, and
written after all if one of them fails or is slow (see ``_tail``).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable

from logtrace.write.context import SpanContext

Sampler = Callable[[str, "SpanContext | None"], bool]

_TRACE_ID_LIMIT = (1 << 64) - 1


def always(trace_id: str, parent: SpanContext | None = None) -> bool:
    """Record every trace."""
    return True


def never(trace_id: str, parent: SpanContext | None = None) -> bool:
    """Record no trace (error traces are still kept when ``keep_errors`` is on)."""
    return False


class Ratio:
    """Record a fraction of traces, decided by the trace id alone.

    The rule is OpenTelemetry's ``TraceIdRatioBased``: record when the low 64 bits of the
    trace id are below ``round(ratio * 2**64)``. Every process and every OpenTelemetry SDK that
    sees the same trace id decides the same way.
    """

    __slots__ = ("bound", "ratio")

    def __init__(self, ratio: float) -> None:
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"sampling ratio must be between 0 and 1, not {ratio!r}")
        self.ratio = ratio
        self.bound = round(ratio * (_TRACE_ID_LIMIT + 1))

    def __call__(self, trace_id: str, parent: SpanContext | None = None) -> bool:
        return int(trace_id[16:], 16) < self.bound

    def __repr__(self) -> str:
        return f"Ratio({self.ratio})"


class ParentBased:
    """Follow the incoming sampled flag; use ``root`` for new traces (the default sampler)."""

    __slots__ = ("root",)

    def __init__(self, root: Sampler = always) -> None:
        self.root = root

    def __call__(self, trace_id: str, parent: SpanContext | None = None) -> bool:
        if parent is not None:
            return parent.sampled
        return self.root(trace_id, None)

    def __repr__(self) -> str:
        return f"ParentBased({self.root!r})"


class RateLimited:
    """Record at most ``per_second`` new traces each second (a token bucket)."""

    __slots__ = ("__weakref__", "_allowance", "_clock", "_last", "_lock", "per_second")

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        if per_second < 0:
            raise ValueError(f"traces per second must be >= 0, not {per_second!r}")
        self.per_second = per_second
        self._clock = clock
        self._allowance = per_second
        self._last = clock()
        self._lock = threading.Lock()
        _renewed_after_fork(self)

    def __call__(self, trace_id: str, parent: SpanContext | None = None) -> bool:
        # Never waited for: the lock is held by another thread deciding now, by this thread
        # when a signal handler that opens a span interrupted its decision (waiting would be
        # for good), or by a thread a fork left behind. Then the decision is made without it:
        # two at once may share a token (a trace more, at most one per thread).
        lock = self._lock
        if not lock.acquire(blocking=False):
            return self._take()
        try:
            return self._take()
        finally:
            lock.release()

    def _take(self) -> bool:
        now = self._clock()
        self._allowance = min(
            self.per_second, self._allowance + (now - self._last) * self.per_second
        )
        self._last = now
        if self._allowance >= 1.0:
            self._allowance -= 1.0
            return True
        return False

    def __repr__(self) -> str:
        return f"RateLimited({self.per_second})"


class Adaptive:
    """Keep the time spent writing span lines under ``budget`` of the process's wall time.

    Every ``window`` seconds it compares the measured cost of recorded spans (their lines'
    processing time, fed by the span code through ``record_cost``) with the budget and scales
    the fraction of traces it records, between ``min_ratio`` and 1. Decisions use the trace id
    like ``Ratio``, so processes that share a ratio agree.
    """

    __slots__ = (
        "__weakref__",
        "_clock",
        "_cost_ns",
        "_lock",
        "_window_start",
        "budget",
        "min_ratio",
        "ratio",
        "window",
    )

    def __init__(
        self,
        budget: float = 0.03,
        window: float = 1.0,
        min_ratio: float = 0.001,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not 0.0 < budget < 1.0:
            raise ValueError(f"overhead budget must be between 0 and 1, not {budget!r}")
        self.budget = budget
        self.window = window
        self.min_ratio = min_ratio
        self.ratio = 1.0
        self._clock = clock
        self._cost_ns = 0
        self._window_start = clock()
        self._lock = threading.Lock()
        _renewed_after_fork(self)

    def record_cost(self, cost_ns: int) -> None:
        """Add the processing time of one recorded line (called by the span code)."""
        self._cost_ns += cost_ns

    def __call__(self, trace_id: str, parent: SpanContext | None = None) -> bool:
        if parent is not None:
            return parent.sampled
        now = self._clock()
        elapsed = now - self._window_start
        if elapsed >= self.window * 1e9:
            self._adjust(now, elapsed)
        return int(trace_id[16:], 16) < self.ratio * (_TRACE_ID_LIMIT + 1)

    def _adjust(self, now: int, elapsed: int) -> None:
        # Never waited for (see RateLimited): held, another thread adjusts now, or this one
        # was interrupted doing so; the next decision adjusts.
        lock = self._lock
        if not lock.acquire(blocking=False):
            return
        try:
            if now - self._window_start < self.window * 1e9:
                return  # another thread adjusted meanwhile
            overhead = self._cost_ns / elapsed
            if overhead > 0:
                # Move toward the ratio that would have met the budget, at most 4x per window.
                target = self.ratio * self.budget / overhead
                self.ratio = max(self.min_ratio, min(1.0, target, self.ratio * 4))
            else:
                self.ratio = min(1.0, self.ratio * 4)
            self._cost_ns = 0
            self._window_start = now
        finally:
            lock.release()

    def __repr__(self) -> str:
        return f"Adaptive(budget={self.budget}, ratio={self.ratio:.4f})"


# The samplers with a lock: a forked child gets new ones (a thread of the parent that held
# one at the fork is not in the child to let go of it).
_with_locks: weakref.WeakSet[RateLimited | Adaptive] = weakref.WeakSet()
_fork_hook = False


def _renewed_after_fork(sampler: RateLimited | Adaptive) -> None:
    global _fork_hook
    _with_locks.add(sampler)
    if not _fork_hook and hasattr(os, "register_at_fork"):
        _fork_hook = True
        os.register_at_fork(after_in_child=_new_locks)


def _new_locks() -> None:
    for sampler in list(_with_locks):
        sampler._lock = threading.Lock()


def new_trace_decision(sampler: Sampler) -> bool | None:
    """What ``sampler`` answers for every new trace (no parent), when that is known without
    asking it: ``always``, ``never`` and ``ParentBased`` of either; else None (ask it)."""
    if sampler is always:
        return True
    if sampler is never:
        return False
    if type(sampler) is ParentBased:
        return new_trace_decision(sampler.root)
    return None


def from_name(name: str, arg: str | None) -> Sampler:
    """A sampler from OpenTelemetry's ``OTEL_TRACES_SAMPLER`` names or logtrace's own.

    OpenTelemetry: ``always_on``, ``always_off``, ``traceidratio``, ``parentbased_always_on``,
    ``parentbased_always_off``, ``parentbased_traceidratio``. logtrace: ``ratio`` (parent-based
    ratio), ``rate_limited`` (``arg`` traces per second), ``adaptive`` (``arg`` budget, 0.03),
    ``never`` (no trace is sampled, whatever the parent says: with ``keep_errors=False``, spans
    give ids to log lines and write no span lines).

    Raises:
        ValueError: an unknown name or an argument that is not a number in range.
    """
    name = name.strip().lower()
    number = _number(name, arg)
    samplers: dict[str, Callable[[], Sampler]] = {
        "always_on": lambda: always,
        "always_off": lambda: never,
        "traceidratio": lambda: Ratio(1.0 if number is None else number),
        "parentbased_always_on": lambda: ParentBased(always),
        "parentbased_always_off": lambda: ParentBased(never),
        "parentbased_traceidratio": lambda: ParentBased(Ratio(1.0 if number is None else number)),
        "ratio": lambda: ParentBased(Ratio(1.0 if number is None else number)),
        "rate_limited": lambda: ParentBased(RateLimited(100.0 if number is None else number)),
        "adaptive": lambda: Adaptive(0.03 if number is None else number),
        "never": lambda: never,
    }
    if name not in samplers:
        raise ValueError(f"unknown sampler {name!r}; use one of {', '.join(samplers)}")
    return samplers[name]()


def _number(name: str, arg: str | None) -> float | None:
    if arg is None or arg == "":
        return None
    try:
        return float(arg)
    except ValueError:
        raise ValueError(f"sampler {name!r} needs a number, not {arg!r}") from None
