"""logtrace.testing: captured lines, predictable ids and clocks for users' tests."""

from __future__ import annotations

import logtrace
from logtrace import testing


def test_deterministic_ids_and_frozen_clock_make_lines_reproducible() -> None:
    """With fixed ids and clock, the same code writes exactly the same lines twice."""

    def run() -> list[dict[str, object]]:
        with (
            testing.deterministic_ids(),
            testing.frozen_clock(step_ns=1_000_000),
            testing.capture_events() as events,
            logtrace.span("outer"),
            logtrace.span("inner", k=1),
        ):
            pass
        return [{k: v for k, v in e.items() if k != "pid"} for e in events]

    first, second = run(), run()
    assert first == second
    assert first[0]["trace_id"] == "00000000000000000000000000000001"
    assert first[0]["span_id"] == "0000000000000002"
    assert first[0]["ts"] == "2026-01-01T00:00:00.001000Z"
    assert [e["duration_ms"] for e in first if e["span"] == "end"] == [2.0, 5.0]


def test_helpers_restore_what_they_replaced() -> None:
    """After the with-blocks, ids are random and lines are no longer captured."""
    with testing.capture_events() as events, testing.deterministic_ids():
        pass
    with logtrace.span("after") as span:
        pass
    assert events == []
    assert span.span_id != "0000000000000001" and span.trace_id is not None
    assert not span.trace_id.startswith("000000000000")
