"""compare: a planted regression is found, an A/A comparison finds none, structure is counted."""

from __future__ import annotations

import math
import random
from typing import Any

from logtrace.read.analytics.compare import Samples, compare_samples, compare_trees

NAMES = {"fetch": 20.0, "parse": 5.0, "store": 50.0}


def side(
    label: str, seed: int, slower: dict[str, float] | None = None, traces: int = 300
) -> Samples:
    """Traces of one fetch, two parses and one store, log-normal durations; ``slower`` scales
    a name's durations."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for t in range(traces):
        for name, median in NAMES.items():
            for _ in range(2 if name == "parse" else 1):
                scale = (slower or {}).get(name, 1.0)
                ms = scale * median * math.exp(rng.gauss(0, 0.5))
                status = "error" if rng.random() < 0.02 else "ok"
                rows.append(
                    {"trace_id": f"{label}{t}", "name": name, "status": status, "duration_ms": ms}
                )
    return Samples.from_rows(label, rows)


def test_a_planted_twenty_percent_regression_is_found_in_that_name_only() -> None:
    """B's fetch 20% slower: fetch is ↑ and a regression, the others are ~."""
    result = compare_samples(side("A", 1), side("B", 2, {"fetch": 1.2}))
    by_name = {n.name: n for n in result.names}
    assert [n.name for n in result.regressions] == ["fetch"]
    fetch = by_name["fetch"]
    assert fetch.verdict == "↑" and fetch.p is not None and fetch.p < 0.001
    assert 10 < (fetch.change_pct or 0) < 30
    assert fetch.shift_ms.low is not None and fetch.shift_ms.low > 0
    assert by_name["parse"].verdict == "~" and by_name["store"].verdict == "~"


def test_a_against_a_finds_no_regression() -> None:
    """Two draws of the same system, ten times over: never a regression."""
    for seed in range(10):
        result = compare_samples(side("A", seed), side("A2", seed + 1000))
        assert result.regressions == [], seed


def test_a_speedup_is_down_and_not_a_regression() -> None:
    """B's store twice as fast: ↓, no regression (exit 0 for CI)."""
    result = compare_samples(side("A", 3), side("B", 4, {"store": 0.5}))
    store = next(n for n in result.names if n.name == "store")
    assert store.verdict == "↓" and not result.regressions


def test_a_slowdown_under_the_threshold_is_not_a_regression() -> None:
    """A significant 20% slowdown with --threshold 30 is ↑ but not a regression."""
    result = compare_samples(side("A", 1), side("B", 2, {"fetch": 1.2}), threshold_pct=30)
    assert not result.regressions
    assert next(n for n in result.names if n.name == "fetch").verdict == "↑"


def test_few_samples_say_so() -> None:
    """Ten traces a side: each name carries the few-samples note."""
    result = compare_samples(side("A", 1, traces=10), side("B", 2, traces=10))
    assert all(n.note == "few samples (n<50)" for n in result.names)
    fetch = next(n for n in result.to_dict()["names"] if n["name"] == "fetch")
    assert fetch["a"]["n"] == 10


def test_structure_counts_spans_per_trace() -> None:
    """A name only in B is added, only in A removed; twice as many per trace is more."""

    def rows(trace: str, *names: str) -> list[dict[str, Any]]:
        return [{"trace_id": trace, "name": n, "status": "ok", "duration_ms": 1.0} for n in names]

    a = Samples.from_rows("A", rows("1", "x", "x", "gone"))
    b = Samples.from_rows("B", rows("2", "x", "x", "x", "x", "new"))
    changes = {s.name: s.change for s in compare_samples(a, b).structure}
    assert changes == {"x": "more", "gone": "removed", "new": "added"}


def test_two_traces_are_compared_by_ancestral_path() -> None:
    """Spans keyed by the names from the root down: counts and time per path on each side."""

    def span(i: str, parent: str | None, name: str, ms: float) -> dict[str, Any]:
        return {"span_id": i, "parent_id": parent, "name": name, "duration_ms": ms}

    a = [span("r", None, "req", 100), span("1", "r", "db", 10), span("2", "r", "db", 10)]
    b = [
        span("r", None, "req", 90),
        span("1", "r", "db", 10),
        span("3", "r", "cache", 1),
        span("4", "3", "db", 5),
    ]
    rows = {r.path: (r.a_count, r.b_count, r.change) for r in compare_trees(a, b)}
    assert rows == {
        "req": (1, 1, "same"),
        "req / db": (2, 1, "less"),
        "req / cache": (0, 1, "added"),
        "req / cache / db": (0, 1, "added"),
    }
