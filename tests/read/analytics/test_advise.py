"""Each advise pattern on a generated trace that has it and on one that does not."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from logtrace.read.analytics.advise import Thresholds, advise, summarize_findings

T0 = datetime(2026, 1, 1)


def span(
    i: str, parent: str | None, name: str, start: float, ms: float, status: str = "ok"
) -> dict[str, Any]:
    return {
        "span_id": i,
        "parent_id": parent,
        "name": name,
        "start_ts": T0 + timedelta(milliseconds=start),
        "duration_ms": ms,
        "status": status,
    }


def patterns(rows: list[dict[str, Any]], **thresholds: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for f in advise(rows, "t", Thresholds(**thresholds)):
        found.setdefault(f.pattern, []).append(f)
    return found


def queries(overlap: bool) -> list[dict[str, Any]]:
    """A request running 8 queries of 10 ms: one after another, or all at once."""
    rows = [span("r", None, "request", 0, 100)]
    rows += [span(f"q{i}", "r", "query", 0 if overlap else i * 11, 10) for i in range(8)]
    return rows


def test_n_plus_one_is_found_in_sequential_queries() -> None:
    """8 sequential queries under one parent: N+1, saving 70 ms (sum minus the longest)."""
    found = patterns(queries(overlap=False))["n_plus_one"]
    assert [(f.name, f.count, f.saving_ms) for f in found] == [("query", 8, 70)]
    assert found[0].span_id == "r" and len(found[0].evidence) == 8


def test_concurrent_queries_are_no_n_plus_one() -> None:
    """The same queries running together: no N+1; with --repeats 9, not even sequential ones."""
    assert "n_plus_one" not in patterns(queries(overlap=True))
    assert "n_plus_one" not in patterns(queries(overlap=False), repeats=9)


def steps(gap: float) -> list[dict[str, Any]]:
    """A job of load, transform, save: one after another (gap >= 0) or overlapping (< 0)."""
    return [
        span("j", None, "job", 0, 100),
        span("a", "j", "load", 0, 30),
        span("b", "j", "transform", 30 + gap, 30),
        span("c", "j", "save", 60 + 2 * gap, 30),
    ]


def test_serial_siblings_that_could_overlap_are_found() -> None:
    """Three different steps back to back filling 90% of the job: saving 60 ms."""
    found = patterns(steps(0))["serial"]
    assert [(f.span_id, f.count, f.saving_ms) for f in found] == [("j", 3, 60)]


def test_overlapping_siblings_are_not_serial() -> None:
    """The same steps overlapping: nothing; serial ones filling under --serial-share: nothing."""
    assert "serial" not in patterns(steps(-5))
    assert "serial" not in patterns(steps(0), serial_share=0.95)


def test_a_span_doing_its_own_work_is_found() -> None:
    """A handler of 100 ms whose one child takes 5 ms: 95 ms of self time."""
    rows = [span("h", None, "handler", 0, 100), span("c", "h", "cache", 10, 5)]
    found = patterns(rows)["self_time"]
    assert [(f.span_id, f.saving_ms) for f in found] == [("h", 95)]


def test_a_span_waiting_on_its_children_is_not() -> None:
    """A handler whose child takes 90 of its 100 ms: no self-time finding."""
    rows = [span("h", None, "handler", 0, 100), span("c", "h", "db", 5, 90)]
    assert "self_time" not in patterns(rows)


def attempts(failures: int) -> list[dict[str, Any]]:
    """Four attempts of a call, the first ``failures`` of them failing."""
    rows = [span("r", None, "sync", 0, 100)]
    rows += [
        span(f"a{i}", "r", "call", i * 20, 15, "error" if i < failures else "ok") for i in range(4)
    ]
    return rows


def test_a_retry_storm_is_found() -> None:
    """Three of four calls failed: a retry storm, saving the 45 ms of failed attempts."""
    found = patterns(attempts(3), repeats=10)["retry_storm"]
    assert [(f.count, f.saving_ms, len(f.evidence)) for f in found] == [(4, 45, 3)]


def test_one_failure_among_calls_is_no_storm() -> None:
    """One of four failed: no retry storm."""
    assert "retry_storm" not in patterns(attempts(1))


def fanout(slowest: float) -> list[dict[str, Any]]:
    """Six workers started together, five of 10 ms and one of ``slowest`` ms."""
    rows = [span("c", None, "coordinate", 0, 200)]
    rows += [span(f"w{i}", "c", "task", 0, 10) for i in range(5)]
    rows.append(span("w5", "c", "task", 0, slowest))
    return rows


def test_one_slow_worker_in_a_fan_out_is_found() -> None:
    """One task of 80 ms among tasks of 10: skewed, saving 70 ms, the slow one as evidence."""
    found = patterns(fanout(80))["fanout_skew"]
    assert [(f.evidence, f.saving_ms) for f in found] == [(["w5"], 70)]


def test_a_balanced_fan_out_is_not() -> None:
    """All tasks about equal: nothing; a 15 ms one under --skew 2: nothing either."""
    assert "fanout_skew" not in patterns(fanout(10))
    assert "fanout_skew" not in patterns(fanout(15))


@pytest.mark.parametrize("min_ms", [0.5, 100.0])
def test_small_savings_are_left_out(min_ms: float) -> None:
    """--min-ms drops findings that would save less."""
    found = patterns(queries(overlap=False), min_ms=min_ms)
    assert ("n_plus_one" in found) is (min_ms < 70)


def test_findings_over_many_traces_are_grouped() -> None:
    """Per pattern and name: how many traces, the summed saving, an example."""
    findings = advise(queries(False), "t1") + advise(queries(False), "t2")
    rows = [r for r in summarize_findings(findings) if r["pattern"] == "n_plus_one"]
    assert [(r["name"], r["traces"], r["saving_ms"]) for r in rows] == [("query", 2, 140)]
