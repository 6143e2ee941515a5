"""The questions of trace trees as Reader methods, on real files: critical path, self times,
shares over a window, two traces, advice."""

from __future__ import annotations

from pathlib import Path

import orjson
from _analytics_fixtures import T0, requests, trace_id, trace_lines, write

import logtrace
from logtrace.read.analytics.advise import Thresholds

FIELD_EXAMPLE = [
    ("0000000000000001", None, "root", 0.0, 100.0, "ok"),
    ("000000000000000a", "0000000000000001", "A", 0.0, 60.0, "ok"),
    ("000000000000000b", "0000000000000001", "B", 10.0, 80.0, "ok"),
    ("000000000000000c", "000000000000000b", "C", 20.0, 60.0, "ok"),
]


def test_critical_path_of_a_trace_in_the_files(logs_dir: Path) -> None:
    """FIELD.md's example written as lines: the sections Jaeger gives, and JSON-ready."""
    write(logs_dir, "a", trace_lines(trace_id(1), FIELD_EXAMPLE))
    with logtrace.open(logs_dir) as reader:
        path = reader.critical_path(trace_id(1))
        own = reader.self_times(trace_id(1))
    assert [(s.name, s.start_ms, s.end_ms) for s in path.sections] == [
        ("root", 0, 10),
        ("B", 10, 20),
        ("C", 20, 80),
        ("B", 80, 90),
        ("root", 90, 100),
    ]
    data = orjson.loads(orjson.dumps(path.to_dict()))
    assert data["trace_id"] == trace_id(1) and data["total_ms"] == 100
    assert set(data["sections"][0]) == {"span_id", "name", "start_ms", "end_ms", "duration_ms"}
    assert own["0000000000000001"] == 10 and own["000000000000000a"] == 60


def test_critical_path_shares_over_a_window(logs_dir: Path) -> None:
    """Over many requests, store (the longer child) has the bigger share of the path."""
    write(logs_dir, "a", requests(50, seed=1))
    with logtrace.open(logs_dir) as reader:
        shares = reader.critical_path_summary(name="request", since=T0)
    by_name = {s.name: s for s in shares}
    assert shares[0].name == "store" and by_name["store"].traces == 50
    assert abs(sum(s.critical_share for s in shares) - 1) < 1e-9


def test_compare_two_traces(logs_dir: Path) -> None:
    """Two traces of the same shape: every path the same."""
    write(logs_dir, "a", requests(2, seed=1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.compare_traces(trace_id(0), trace_id(1))
    assert {r.change for r in rows} == {"same"} and len(rows) == 3


def test_advise_one_trace_and_a_window(logs_dir: Path) -> None:
    """A request with 8 sequential queries: N+1 in the trace, and over the window."""
    spans = [("0000000000000001", None, "request", 0.0, 100.0, "ok")]
    spans += [
        (f"{i + 2:016x}", "0000000000000001", "query", i * 11.0, 10.0, "ok") for i in range(8)
    ]
    write(logs_dir, "a", trace_lines(trace_id(1), spans) + trace_lines(trace_id(2), spans))
    with logtrace.open(logs_dir) as reader:
        one = reader.advise(trace_id(1))
        many = reader.advise(since=T0)
        strict = reader.advise(trace_id(1), thresholds=Thresholds(repeats=20))
        grouped = reader.advice_summary(many)
    assert [f.pattern for f in one] == ["n_plus_one"]
    assert len(many) == 2 and strict == []
    assert grouped[0]["traces"] == 2 and grouped[0]["saving_ms"] == 140
