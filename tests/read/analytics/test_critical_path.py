"""The critical path and self time of hand-built traces (Jaeger UI's algorithm)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from logtrace.read.analytics.critical_path import (
    Interval,
    critical_path,
    critical_path_of,
    self_times_of,
    summarize,
)


def tree(*spans: tuple[str, str | None, float, float]) -> list[Interval]:
    """Intervals from (id, parent, start, end); the id is the name too."""
    return [Interval(i, p, i, s, e) for i, p, s, e in spans]


def sections(spans: list[Interval]) -> list[tuple[str, float, float]]:
    """The path's sections as (span, start, end), latest first as Jaeger lists them."""
    path = critical_path_of(spans)
    return [(s.span_id, s.start_ms, s.end_ms) for s in reversed(path.sections)]


def test_the_example_of_field_md() -> None:
    """root 0-100, A 0-60, B 10-90, C under B 20-80: A, overlapped by B, is off the path."""
    spans = tree(
        ("root", None, 0, 100), ("A", "root", 0, 60), ("B", "root", 10, 90), ("C", "B", 20, 80)
    )
    assert sections(spans) == [
        ("root", 90, 100),
        ("B", 80, 90),
        ("C", 20, 80),
        ("B", 10, 20),
        ("root", 0, 10),
    ]


def test_gaps_between_children_are_charged_to_the_parent() -> None:
    """Sequential children with gaps: each gap is the parent's, each child wholly on the path."""
    spans = tree(("root", None, 0, 100), ("A", "root", 10, 30), ("B", "root", 50, 70))
    assert sections(spans) == [
        ("root", 70, 100),
        ("B", 50, 70),
        ("root", 30, 50),
        ("A", 10, 30),
        ("root", 0, 10),
    ]


def test_children_outliving_their_parent_are_clamped_and_outsiders_dropped() -> None:
    """A child running past its parent counts only up to the parent's end; one wholly after
    its parent's end is left off, however late it ends."""
    spans = tree(
        ("root", None, 0, 100),
        ("A", "root", 0, 50),
        ("A1", "A", 40, 80),  # outlives A: clamped to 40-50
        ("A2", "A", 60, 99),  # wholly after A: dropped
        ("early", "root", -20, 5),  # starts before root: clamped to 0-5
    )
    assert sections(spans) == [("root", 50, 100), ("A1", 40, 50), ("A", 0, 40)]
    path = critical_path_of(spans)
    assert "A2" not in path.on_path_ms and "early" not in path.on_path_ms


def test_concurrent_children_put_only_the_last_finisher_on_the_path() -> None:
    """Of workers running at once, the one ending last owns the path; an earlier-ending one
    that started before it is still off the path, and the gap before them is the parent's."""
    spans = tree(
        ("root", None, 0, 100),
        ("w1", "root", 10, 90),
        ("w2", "root", 10, 95),
        ("w3", "root", 20, 40),
    )
    assert sections(spans) == [("root", 95, 100), ("w2", 10, 95), ("root", 0, 10)]


def test_the_last_finisher_before_the_bound_is_taken_when_coming_back() -> None:
    """Coming back to the parent at a child's start, the child ending last strictly before it is
    next; one still running at that moment (a ends after b starts) is not, so it is the parent's."""
    spans = tree(
        ("root", None, 0, 100),
        ("a", "root", 0, 30),
        ("b", "root", 20, 60),  # overlaps a, ends before c starts
        ("c", "root", 70, 100),
    )
    assert sections(spans) == [
        ("c", 70, 100),
        ("root", 60, 70),
        ("b", 20, 60),
        ("root", 0, 20),
    ]


def test_each_root_has_its_own_path() -> None:
    """A span whose parent is not in the files starts a path of its own."""
    spans = tree(("r1", None, 0, 10), ("orphan", "gone", 20, 30), ("kid", "orphan", 22, 25))
    assert sections(spans) == [
        ("orphan", 25, 30),
        ("kid", 22, 25),
        ("orphan", 20, 22),
        ("r1", 0, 10),
    ]


def test_a_chain_ten_thousand_deep_is_walked_without_recursion() -> None:
    """A deep chain: the path runs down and back up through every span."""
    n = 10_000
    spans = [
        Interval(f"s{i}", None if i == 0 else f"s{i - 1}", f"s{i}", i, 2 * n - i) for i in range(n)
    ]
    path = critical_path_of(spans)
    assert len(path.on_path_ms) == n
    assert path.total_ms == 2 * n


def test_self_time_is_duration_minus_the_union_of_clamped_children() -> None:
    """Overlapping children count once, the part of a child outside its parent not at all."""
    spans = tree(
        ("root", None, 0, 100),
        ("a", "root", 10, 30),
        ("b", "root", 20, 50),
        ("c", "root", 90, 120),
        ("d", "root", 130, 140),
    )
    own = self_times_of(spans)
    assert own["root"] == 50
    assert own["a"] == 20 and own["c"] == 30


def test_rows_of_the_spans_view_are_read_in_ms_from_the_earliest_start() -> None:
    """Rows with start_ts and duration_ms; an unfinished span runs to the trace's last moment."""
    t0 = datetime(2026, 1, 1)
    rows = [
        {"span_id": "r", "parent_id": None, "name": "root", "start_ts": t0, "duration_ms": 100.0},
        {
            "span_id": "u",
            "parent_id": "r",
            "name": "stuck",
            "start_ts": t0 + timedelta(milliseconds=40),
            "duration_ms": None,
        },
    ]
    path = critical_path(rows, "t1")
    assert [(s.name, s.start_ms, s.end_ms) for s in path.sections] == [
        ("root", 0, 40),
        ("stuck", 40, 100),
    ]
    assert path.to_dict()["total_ms"] == 100


@st.composite
def random_trees(draw: st.DrawFn) -> list[Interval]:
    """A random tree: each span's parent an earlier span, times anywhere (outliving allowed)."""
    n = draw(st.integers(1, 30))
    spans = []
    for i in range(n):
        start = draw(st.integers(0, 100))
        length = draw(st.integers(0, 60))
        parent = None if i == 0 else f"s{draw(st.integers(0, i - 1))}"
        spans.append(Interval(f"s{i}", parent, "x", start, start + length))
    return spans


@settings(max_examples=200, deadline=None)
@given(random_trees())
def test_the_path_tiles_the_root_exactly(spans: list[Interval]) -> None:
    """Sections never overlap and cover the root's interval exactly."""
    path = critical_path_of(spans)
    root = spans[0]
    reach = root.start_ms
    for s in path.sections:
        assert s.start_ms == reach and s.end_ms > s.start_ms
        reach = s.end_ms
    assert reach == root.end_ms or (not path.sections and root.end_ms == root.start_ms)


def test_shares_over_many_traces_add_up_to_one() -> None:
    """Across traces, each name's share of the path and of self time; both columns sum to 1."""
    one = tree(("root", None, 0, 100), ("db", "root", 10, 90))
    two = tree(("root", None, 0, 50), ("db", "root", 0, 9), ("cache", "root", 10, 20))
    shares = summarize((critical_path_of(t), t) for t in (one, two))
    by_name = {s.name: s for s in shares}
    assert by_name["db"].critical_ms == 80 + 9 and by_name["db"].traces == 2
    assert by_name["root"].critical_ms == 20 + 30 + 1
    assert abs(sum(s.critical_share for s in shares) - 1) < 1e-12
    assert abs(sum(s.self_share for s in shares) - 1) < 1e-12
    assert shares[0].name == "db"
