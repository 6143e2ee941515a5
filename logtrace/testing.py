"""Helpers for tests, yours and ours: capture lines in memory, fix ids and clocks.

with logtrace.testing.capture_events() as events:
    with logtrace.span("work", n=1):
        logging.getLogger("x").info("hello")
assert [e["event"] for e in events] == ["work", "hello", "work"]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from logtrace.write import ids as _ids
from logtrace.write.pipeline import state, writing_to
from logtrace.write.span import tracer


@contextmanager
def capture_events() -> Iterator[list[dict[str, Any]]]:
    """Collect every line logtrace would write, parsed back into dicts, instead of writing it.

    The lines are exactly what the processor chain rendered, so what a test sees is what a file
    would hold with ``flush="always"``: every span's start line is written when it opens (a
    file flushed on an interval holds only the end line of a span that ended before a flush).
    """
    events: list[dict[str, Any]] = []
    deferred = tracer.defer_starts
    tracer.defer_starts = False

    def capture(line: bytes) -> None:
        events.append(orjson.loads(line))

    try:
        with writing_to(capture):
            yield events
    finally:
        tracer.defer_starts = deferred


@contextmanager
def deterministic_ids(start: int = 1) -> Iterator[None]:
    """Hand out predictable ids: span ids ``0000000000000001``, ``…02``; trace ids likewise.

    Trace ids keep the layout of real ones: 12 hex digits of time (here zero), then a counter.
    """
    counter = itertools.count(start)
    saved = _ids.new_trace_id, _ids.new_span_id
    _ids.new_trace_id = lambda: f"{0:012x}{next(counter):020x}"
    _ids.new_span_id = lambda: f"{next(counter):016x}"
    try:
        yield
    finally:
        _ids.new_trace_id, _ids.new_span_id = saved


class StepClock:
    """A clock that advances by ``step_ns`` each time it is read."""

    def __init__(self, start_ns: int, step_ns: int) -> None:
        self.now = start_ns
        self.step = step_ns

    def __call__(self) -> int:
        now = self.now
        self.now += self.step
        return now


@contextmanager
def frozen_clock(
    start_ns: int = 1_767_225_600_000_000_000, step_ns: int = 1_000_000
) -> Iterator[StepClock]:
    """Make times predictable: every read of the clock advances it by ``step_ns``.

    Covers line timestamps and span durations (which read the same clock here). The default
    start is 2026-01-01T00:00:00Z and the default step one millisecond.
    """
    clock = StepClock(start_ns, step_ns)
    saved: tuple[Callable[[], int], Callable[[], int], Callable[[], int]] = (
        tracer.wall_ns,
        tracer.monotonic_ns,
        state.stamper.clock,
    )
    tracer.wall_ns = tracer.monotonic_ns = state.stamper.clock = clock
    try:
        yield clock
    finally:
        tracer.wall_ns, tracer.monotonic_ns, state.stamper.clock = saved
