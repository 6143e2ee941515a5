"""The SQL files of the analytics (queries/*.sql), run on real files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from _analytics_fixtures import T0, at, dropped_line, log_line, requests, write

import logtrace


def test_span_timeseries_fills_empty_buckets(logs_dir: Path) -> None:
    """One request a second for a minute, then none for a minute, then another: 1-minute
    buckets of 60 requests (180 spans), an empty one (count 0), then the last."""
    write(logs_dir, "a", requests(60, seed=1) + requests(1, seed=2, start_ms=150_000, tag=1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.query(
            "span_timeseries", every_ms=60_000, since=None, until=None, service=None, name=None
        )
    assert [r["bucket"] for r in rows] == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert [r["count"] for r in rows] == [180, 0, 3]
    assert rows[1]["error_rate"] is None and rows[1]["p50_ms"] is None
    assert rows[0]["p50_ms"] <= rows[0]["p95_ms"] <= rows[0]["p99_ms"] <= rows[0]["max_ms"]


def test_span_timeseries_bounds_the_buckets_by_the_window(logs_dir: Path) -> None:
    """since/until given: buckets run over the whole window, even where nothing happened."""
    write(logs_dir, "a", requests(10, seed=1, start_ms=120_000))
    with logtrace.open(logs_dir) as reader:
        rows = reader.query(
            "span_timeseries",
            every_ms=60_000,
            since=T0,
            until=T0 + timedelta(minutes=5),
            service=None,
            name="fetch",
        )
    assert [r["count"] for r in rows] == [0, 0, 10, 0, 0]


def test_span_samples_choose_whole_traces_by_an_attribute(logs_dir: Path) -> None:
    """--by version=...: the version is on the root; its children are chosen with it."""
    write(logs_dir, "a", requests(5, seed=1, version="1.4.0"))
    write(logs_dir, "b", requests(7, seed=2, version="1.5.0", tag=1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.query(
            "span_samples", since=None, until=None, service=None, name=None,
            attr_key="version", attr_value="1.5.0",
        )  # fmt: skip
    assert len(rows) == 21 and {r["name"] for r in rows} == {"request", "fetch", "store"}


def test_window_spans_limits_traces_and_filters_by_name(logs_dir: Path) -> None:
    """The newest traces with a span of the name, all their spans."""
    write(logs_dir, "a", requests(10, seed=1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.query("window_spans", since=at(2000), until=None, name="fetch", limit=3)
        none = reader.query("window_spans", since=None, until=None, name="nothing", limit=3)
    assert len({r["trace_id"] for r in rows}) == 3 and len(rows) == 9
    assert rows[0]["start_ts"] == at(9000) and none == []


def test_slo_counts_count_failures_and_slow_spans(logs_dir: Path) -> None:
    """Bad events: failed spans, plus those slower than the latency objective."""
    write(logs_dir, "a", requests(200, seed=5, error_rate=0.1))
    with logtrace.open(logs_dir) as reader:
        plain = reader.query(
            "slo_counts", since=T0, until=at(10**7), name="fetch", service=None, latency_ms=None
        )[0]
        slow = reader.query(
            "slo_counts", since=T0, until=at(10**7), name="fetch", service=None, latency_ms=30
        )[0]
        errors = reader.execute(
            "SELECT count(*) AS n FROM spans WHERE name = 'fetch' AND status = 'error'"
        )[0]["n"]
    assert plain == {"events": 200, "bad": errors}
    assert slow["bad"] > plain["bad"]


def test_event_counts_and_dropped_lines(logs_dir: Path) -> None:
    """Log lines of one event in a window; the writers' own drop reports summed."""
    lines = [log_line(None, None, "cache miss", i * 1000.0) for i in range(30)]
    lines += [dropped_line(5000, 12), dropped_line(50_000, 3)]
    write(logs_dir, "a", lines)
    with logtrace.open(logs_dir) as reader:
        misses = reader.query(
            "event_counts", event="cache miss", since=at(10_000), until=None, service=None,
            level=None,
        )[0]  # fmt: skip
        dropped = reader.query("dropped_lines", since=None, until=None, service=None)[0]
    assert misses["lines"] == 20
    assert dropped == {"dropped": 15, "reports": 2}
