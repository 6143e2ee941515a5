"""The analytics as Reader methods, on real files: shapes a user (and the web view) relies on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from _analytics_fixtures import (
    T0,
    at,
    dropped_line,
    log_line,
    requests,
    trace_id,
    trace_lines,
    write,
)

import logtrace
from logtrace.read.analytics.advise import Thresholds
from logtrace.read.analytics.check import Slo, Status
from logtrace.read.analytics.methods import Side
from logtrace.read.files import ReadError

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


def test_timeseries_rows_are_plain_json(logs_dir: Path) -> None:
    """Buckets as ISO text and epoch ms, with counts and percentiles: ready for a plot."""
    write(logs_dir, "a", requests(120, seed=1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.timeseries("1m", name="fetch")
        same = reader.timeseries(timedelta(minutes=1), name="fetch")
    assert rows == same
    assert [r["bucket"] for r in rows] == ["2026-11-24T13:00:00Z", "2026-11-24T13:01:00Z"]
    assert rows[1]["bucket_ms"] - rows[0]["bucket_ms"] == 60_000
    assert [r["count"] for r in rows] == [60, 60]
    orjson.dumps(rows)


def test_timeseries_rejects_a_bad_width(logs_dir: Path) -> None:
    """A width that is no duration, zero, None, a bool or past 10000 weeks is one error naming
    `every` and the range (None raised float()'s TypeError, 1e30 a DuckDB Conversion Error)."""
    with logtrace.open(logs_dir) as reader:
        for bad in ("soon", 0, -1, None, True, 1e30, "99999999999999999d", float("nan"), [1]):
            with pytest.raises(ReadError, match=r"^every .*: give a bucket width from 1us to"):
                reader.timeseries(bad)  # type: ignore[arg-type]
        assert reader.timeseries("1us") == reader.timeseries(0.001) == []


def test_timeseries_of_too_many_buckets_says_so(logs_dir: Path) -> None:
    """A 1us bucket over two minutes of spans is 120 million buckets: it ran for minutes; now
    one error gives the count and what to do, and a width that fits still answers."""
    write(logs_dir, "a", requests(120, seed=1))
    with logtrace.open(logs_dir) as reader:
        with pytest.raises(ReadError, match=r"makes \d+ buckets .* more than 100000: give a wider"):
            reader.timeseries("1us", name="fetch")
        assert (
            len(
                reader.timeseries(
                    "10ms", name="fetch", since="2026-11-24T13:00", until="2026-11-24T13:00:01"
                )
            )
            == 100
        )


def _side(**fields: Any) -> Side:
    return Side("a", since="2h", **fields)


@pytest.mark.parametrize(
    ("call", "argument", "wanted"),
    [
        (lambda r: r.critical_path_summary(limit=-1), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(limit=1e30), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(limit=10**30), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(limit="5"), "limit", "a whole number from 0"),
        (lambda r: r.critical_path_summary(since=42), "since", "a datetime"),
        (lambda r: r.critical_path_summary(name=7), "name", "text"),
        (lambda r: r.advise(limit=True), "limit", "a whole number from 0"),
        (lambda r: r.advise(thresholds=1), "thresholds", "a Thresholds"),
        (lambda r: r.advise(since=timedelta.max), "since", "a datetime"),
        (lambda r: r.advice_summary(None), "findings", "a list of Finding"),
        (lambda r: r.compare(None, _side()), "a", "a Side"),
        (lambda r: r.compare(_side(), "b"), "b", "a Side"),
        (lambda r: r.compare(_side(), _side(), alpha=None), "alpha", "between 0 and 1"),
        (lambda r: r.compare(_side(), _side(), alpha=2), "alpha", "between 0 and 1"),
        (lambda r: r.compare(_side(), _side(), min_samples=None), "min_samples", "whole"),
        (lambda r: r.compare(_side(), _side(), confidence=1), "confidence", "between 0 and 1"),
        (lambda r: r.compare(_side(), _side(), threshold_pct=-5), "threshold_pct", "0 to 10000"),
        (lambda r: r.compare(_side(), _side(), threshold_pct=1e30), "threshold_pct", "0 to 10000"),
        (lambda r: r.compare(Side("a", since=42), _side()), "since", "a datetime"),
        (lambda r: r.compare(_side(directory=42), _side()), "path", "a folder"),
        (lambda r: r.check("p95", name="x", warn=[200]), "warn", "a range such as"),
        (lambda r: r.check("p95", name="x", now=42), "now", "a datetime"),
        (lambda r: r.check("event_rate", event=42), "event", "text"),
        (lambda r: r.check_slos(None), "slos", "a list of Slo"),
        (lambda r: r.check_slos([1]), "slos", "a list of Slo"),
        (lambda r: r.timeseries("5m", service=1), "service", "text"),
        (lambda r: list(r.cat(since=42)), "since", "a datetime"),
    ],
)
def test_a_wrong_argument_is_a_read_error_naming_it(
    logs_dir: Path, call: Any, argument: str, wanted: str
) -> None:
    """None, a bool, text for a number, a negative or huge number, a wrong object: a one-line
    ReadError naming the argument and what it takes (they leaked TypeError, AttributeError,
    OverflowError or DuckDB's Conversion Errors from deep inside)."""
    write(logs_dir, "a", requests(5, seed=1))
    with logtrace.open(logs_dir) as reader, pytest.raises(ReadError) as caught:
        call(reader)
    message = str(caught.value)
    assert message.startswith(f"{argument} ") and ": give " in message and wanted in message, (
        message
    )
    assert "\n" not in message


def test_side_checks_its_fields() -> None:
    """A Side with an attr that is no (key, value) pair, or a name that is no text, is refused
    when made (attr="k=v" was read as key "k", value "=")."""
    for fields in ({"attr": "k=v"}, {"attr": ("k",)}, {"name": 3}, {"service": ["a"]}):
        with pytest.raises(ReadError, match=r"^(attr|name|service) .*: give"):
            Side("a", **fields)  # type: ignore[arg-type]
    assert Side("a", attr=("k", "v")).attr == ("k", "v")


def test_critical_path_shares_over_a_window(logs_dir: Path) -> None:
    """Over many requests, store (the longer child) has the bigger share of the path."""
    write(logs_dir, "a", requests(50, seed=1))
    with logtrace.open(logs_dir) as reader:
        shares = reader.critical_path_summary(name="request", since=T0)
    by_name = {s.name: s for s in shares}
    assert shares[0].name == "store" and by_name["store"].traces == 50
    assert abs(sum(s.critical_share for s in shares) - 1) < 1e-9


def test_compare_windows_finds_the_planted_regression(logs_dir: Path) -> None:
    """The second hour's fetch is 20% slower: a regression in fetch only; A/A finds none."""
    hour = 3_600_000
    write(logs_dir, "a", requests(300, seed=1, every_ms=10_000))
    write(logs_dir, "b", requests(300, seed=2, every_ms=10_000, start_ms=hour, slower=1.2, tag=1))
    write(logs_dir, "c", requests(300, seed=3, every_ms=10_000, start_ms=2 * hour, tag=2))
    first = Side("first", since=T0, until=at(hour))
    with logtrace.open(logs_dir) as reader:
        result = reader.compare(first, Side("second", since=at(hour), until=at(2 * hour)))
        same = reader.compare(first, Side("third", since=at(2 * hour)))
    assert [n.name for n in result.regressions] == ["fetch"]
    assert same.regressions == []
    orjson.dumps(result.to_dict())


def test_compare_by_attribute_and_by_directory(tmp_path: Path) -> None:
    """--by version=...: traces by their root's attribute; --dirs: two sets of files."""
    old, new = tmp_path / "old", tmp_path / "new"
    write(old, "a", requests(200, seed=1, version="1.4.0"))
    write(new, "a", requests(200, seed=2, version="1.5.0", slower=1.3, tag=1))
    write(old, "b", requests(200, seed=2, version="1.5.0", slower=1.3, tag=1))
    with logtrace.open(old) as reader:
        by_version = reader.compare(
            Side("1.4.0", attr=("version", "1.4.0")), Side("1.5.0", attr=("version", "1.5.0"))
        )
        by_dir = reader.compare(Side("old", attr=("version", "1.4.0")), Side("new", directory=new))
    assert [n.name for n in by_version.regressions] == ["fetch"]
    assert by_version.a_traces == by_version.b_traces == 200
    assert [n.name for n in by_dir.regressions] == ["fetch"]


def test_compare_two_traces(logs_dir: Path) -> None:
    """Two traces of the same shape: every path the same."""
    write(logs_dir, "a", requests(2, seed=1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.compare_traces(trace_id(0), trace_id(1))
    assert {r.change for r in rows} == {"same"} and len(rows) == 3


def test_checks_measure_each_metric(logs_dir: Path) -> None:
    """p95, error rate, unfinished spans, dropped lines and an event's rate, with statuses."""
    lines = requests(60, seed=1, error_rate=0.1)
    lines += trace_lines(trace_id(99), [("0000000000000009", None, "stuck", 30_000, None, "ok")])
    lines += [log_line(None, None, "cache miss", i * 1000.0) for i in range(30)]
    lines += [dropped_line(5000, 12)]
    write(logs_dir, "a", lines)
    now = at(60_000)
    with logtrace.open(logs_dir) as reader:
        p95 = reader.check("p95", name="fetch", warn="~:10", crit="~:1000", since=T0, now=now)
        rate = reader.check("error_rate", name="fetch", crit="~:5", since=T0, now=now)
        stuck = reader.check("unfinished", warn="0", since=T0, now=now)
        dropped = reader.check("dropped", crit="0", since=T0, now=now)
        events = reader.check("event_rate", event="cache miss", warn="~:10", since=T0, now=now)
        nothing = reader.check("p95", name="nothing", since=T0, now=now)
    assert p95.status is Status.WARNING and p95.perfdata[0].uom == "ms"
    assert rate.status is Status.CRITICAL
    assert stuck.status is Status.WARNING and stuck.perfdata[0].value == 1
    assert dropped.status is Status.CRITICAL and dropped.perfdata[0].value == 12
    assert events.status is Status.WARNING and events.perfdata[0].value == 30
    assert nothing.status is Status.UNKNOWN


def test_check_of_an_unknown_metric_or_bad_range_is_an_error(logs_dir: Path) -> None:
    """A metric that does not exist, or a malformed range, is a ReadError (UNKNOWN in the CLI)."""
    with logtrace.open(logs_dir) as reader:
        with pytest.raises(ReadError, match="unknown check"):
            reader.check("p42")
        with pytest.raises(ReadError, match="range"):
            reader.check("p95", warn="1:2:3")


def history(directory: Path, hours: int, bad_every: int, *, recent_bad_every: int = 0) -> None:
    """One span a minute for ``hours`` up to T0 + hours; every ``bad_every``-th fails (0:
    none); in the last hour every ``recent_bad_every``-th instead, when given."""
    lines = []
    total = hours * 60
    for i in range(total):
        every = recent_bad_every if recent_bad_every and i >= total - 60 else bad_every
        status = "error" if every and i % every == 0 else "ok"
        spec = [(f"{i + 1:016x}", None, "api", i * 60_000.0, 5.0, status)]
        lines += trace_lines(trace_id(i), spec)
    write(directory, "h", lines)


@pytest.mark.parametrize(
    ("bad_every", "recent", "expected"),
    [
        (2000, 0, Status.OK),  # 0.05% errors: half the budget of 99.9%
        (0, 4, Status.CRITICAL),  # the last hour at 25% errors: burn 250
        (500, 0, Status.WARNING),  # 0.2% over three days: burn 2, a ticket
    ],
)
def test_slo_burn_rates_on_generated_histories(
    logs_dir: Path, bad_every: int, recent: int, expected: Status
) -> None:
    """Known budgets: quiet within budget, a page on a fast burn, a ticket on a slow one."""
    history(logs_dir, 72, bad_every, recent_bad_every=recent)
    slo = Slo("api", objective=0.999, span="api", min_events=50)
    with logtrace.open(logs_dir) as reader:
        result, rules = reader.check_slos([slo], now=at(72 * 3_600_000))
    assert result.status is expected, result.line()
    assert len(rules) == 3


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
