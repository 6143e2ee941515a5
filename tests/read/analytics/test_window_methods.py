"""The questions of windows as Reader methods, on real files: a window against another (a Side
each), spans per time bucket."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from _analytics_fixtures import T0, at, requests, write

import logtrace
from logtrace.read.analytics.window_methods import Side
from logtrace.read.files import ReadError


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


def test_timeseries_buckets_are_iso_8601_in_any_year(logs_dir: Path) -> None:
    """A window in year 1 (the calendar's first) labels its buckets with four-digit years."""
    write(logs_dir, "a", requests(3, seed=1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.timeseries("12h", since="0001-01-01", until="0001-01-02")
    assert [r["bucket"] for r in rows] == ["0001-01-01T00:00:00Z", "0001-01-01T12:00:00Z"]


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


def test_side_checks_its_fields() -> None:
    """A Side with an attr that is no (key, value) pair, or a name that is no text, is refused
    when made (attr="k=v" was read as key "k", value "=")."""
    for fields in ({"attr": "k=v"}, {"attr": ("k",)}, {"name": 3}, {"service": ["a"]}):
        with pytest.raises(ReadError, match=r"^(attr|name|service) .*: give"):
            Side("a", **fields)  # type: ignore[arg-type]
    assert Side("a", attr=("k", "v")).attr == ("k", "v")


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
