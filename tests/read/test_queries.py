"""Every file of queries/, run on traces written by the real write side."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import Written

import logtrace
from logtrace.read.reader import (
    COMPACTION_FILES,
    READER_FILES,
    VIEW_FILES,
    VIEWS,
    Reader,
    queries_dir,
    query_names,
    query_text,
)
from logtrace.read.tree import tree_order

FILTERS = {
    "since": None,
    "until": None,
    "service": None,
    "name": None,
    "status": None,
    "min_duration_ms": None,
    "attr_key": None,
    "attr_value": None,
}
NO_ATTR = {k: v for k, v in FILTERS.items() if not k.startswith("attr_")}
ALL_FILES = sorted(p.stem for p in queries_dir().glob("*.sql"))


@pytest.fixture(scope="module")
def reader(written: Written) -> Iterator[Reader]:
    """The written traces, opened."""
    with logtrace.open(written.directory) as opened:
        yield opened


def params_for(name: str, written: Written) -> dict[str, Any]:
    """Parameters for one query file, on the written traces."""
    failed = written.trace_ids()[1]
    return {
        "recent_traces": {**FILTERS, "limit": 10},
        "slowest_traces": {"since": None, "limit": 2},
        "error_traces": {"since": None, "limit": 10},
        "span_percentiles": FILTERS,
        "unfinished_spans": {"now": datetime(2100, 1, 1), "limit": 10},
        "trace_tree": {"trace_id": failed},
        "trace_spans": {"trace_id": failed},
        "trace_logs": {"trace_id": failed},
        "trace_ids": {"prefix": failed[:16]},
        "trace_lines": {"text": failed},
        "skipped_lines": {},
        "compact_keep": {"slow_ms": None},
        "recent_traces_no_attr": {**NO_ATTR, "limit": 10},
        "span_percentiles_no_attr": NO_ATTR,
        "trace_compacted": {"prefix": failed[:16]},
        "trace_span_rows": {"prefix": failed[:16]},
        "trace_compacted_span_lines": {"prefix": failed[:16]},
        "export_lines": {"trace_ids": [failed], "untraced": False},
        # The analytics' own (tests/read/analytics/test_analytics_queries.py checks them).
        "span_timeseries": {
            "every_ms": 60_000,
            "since": None,
            "until": None,
            "service": None,
            "name": None,
        },
        "span_samples": {
            "since": None,
            "until": None,
            "service": None,
            "name": None,
            "attr_key": "task_id",
            "attr_value": "1",
        },
        "window_spans": {"since": None, "until": None, "name": None, "limit": 10},
        "slo_counts": {
            "since": datetime(2000, 1, 1),
            "until": datetime(2100, 1, 1),
            "name": None,
            "service": None,
            "latency_ms": None,
        },
        "event_counts": {
            "event": "x",
            "since": None,
            "until": None,
            "service": None,
            "level": None,
        },
        "dropped_lines": {"since": None, "until": None, "service": None},
        "cat_lines": {"since": None, "until": None, "trace": failed, "service": None},
        "trace_search": {**FILTERS, "text": None, "prefix": failed[:16], "limit": 10},
        "span_histogram": {"name": "step", "since": None, "until": None, "service": None},
    }[name]


def test_every_file_is_covered() -> None:
    """The files of queries/ are the views plus the questions this module runs."""
    questions = {
        "cat_lines",
        "recent_traces",
        "slowest_traces",
        "error_traces",
        "span_percentiles",
        "unfinished_spans",
        "trace_tree",
        "trace_spans",
        "trace_logs",
        "trace_ids",
        "trace_lines",
        "skipped_lines",
        "compact_keep",
        "trace_compacted",
        "trace_span_rows",
        "trace_compacted_span_lines",
        "recent_traces_no_attr",
        "span_percentiles_no_attr",
        "export_lines",
        "span_timeseries",
        "span_samples",
        "window_spans",
        "slo_counts",
        "event_counts",
        "dropped_lines",
        "trace_search",
        "span_histogram",
    }
    # compacted.sql and compact_lines.sql run in test_compact.py, on compacted files;
    # split_spans.sql and whole_spans.sql in test_recent_traces.py.
    assert set(ALL_FILES) == set(VIEW_FILES) | questions | set(COMPACTION_FILES) | set(READER_FILES)


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_file_has_a_header_naming_what_it_returns_and_its_parameters(name: str) -> None:
    """Each file opens with a comment: its name, what it returns, its $parameters."""
    text = query_text(name)
    header = "\n".join(line for line in text.splitlines() if line.startswith("--"))
    assert text.startswith(f"-- {name}: ")
    assert "Parameters" in header
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    for param in set(re.findall(r"\$([a-z_]+)", code)):
        assert f"${param}" in header, f"${param} of {name} is not documented"


@pytest.mark.parametrize("name", ["jsonl_lines", "jsonl_span_lines", *VIEWS])
def test_every_view_file_runs(reader: Reader, name: str) -> None:
    """Each view file runs again as it is (CREATE OR REPLACE) and its view has rows."""
    reader.execute(query_text(name))
    rows = reader.execute(f"SELECT count(*) AS n FROM {name}")
    assert rows[0]["n"] > 0


def test_stand_in_views_have_the_shape_of_the_real_ones(reader: Reader) -> None:
    """no_compacted.sql and copied_span_lines.sql give the columns of the views they replace."""
    with logtrace.open(reader.path) as other:
        other.execute(query_text("copied_span_lines"))
        copied = other.execute("DESCRIBE jsonl_span_lines")
        assert copied == reader.execute("DESCRIBE jsonl_span_lines")
        assert other.execute("SELECT count(*) AS n FROM jsonl_span_lines") == reader.execute(
            "SELECT count(*) AS n FROM jsonl_span_lines"
        )
    names = [row["column_name"] for row in reader.execute("DESCRIBE compacted")]
    assert names[-3:] == ["readable", "json", "filename"]


@pytest.mark.parametrize("name", query_names())
def test_every_question_runs(reader: Reader, written: Written, name: str) -> None:
    """Each question runs with its parameters on real files and answers something sensible."""
    rows = reader.query(name, **params_for(name, written))
    failed = written.trace_ids()[1]
    if name == "recent_traces":
        assert [r["trace_id"] for r in rows] == written.trace_ids()[::-1]
    elif name == "slowest_traces":
        assert len(rows) == 2 and rows[0]["duration_ms"] >= rows[1]["duration_ms"]
    elif name == "error_traces":
        assert [r["trace_id"] for r in rows] == [failed]
        assert rows[0]["first_error_type"] == "ValueError"
        assert rows[0]["first_error_message"] == "bad input 1"
    elif name == "span_percentiles":
        by_name = {r["name"]: r for r in rows}
        assert by_name["job"]["count"] == 3 and by_name["step"]["count"] == 6
        assert by_name["step"]["errors"] == 1 and by_name["doomed"]["unfinished"] == 1
        assert by_name["job"]["p50_ms"] <= by_name["job"]["p95_ms"] <= by_name["job"]["p99_ms"]
    elif name == "unfinished_spans":
        assert [r["name"] for r in rows] == ["doomed"] and rows[0]["age_ms"] > 0
    elif name == "trace_tree":
        assert [r["depth"] for r in rows] == [0, 1, 2, 2, 1]
        assert rows[0]["top_reason"] == "root"
    elif name == "trace_spans":
        # The Python build of the tree gives trace_tree.sql's rows exactly.
        assert tree_order(rows) == reader.query("trace_tree", **params_for(name, written))
    elif name == "trace_logs":
        assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)
        assert {r["trace_id"] for r in rows} == {failed}
    elif name == "trace_ids":
        assert rows == [{"trace_id": failed}]
    elif name == "trace_lines":
        assert rows and all(failed in str(r["json"]) for r in rows)
    elif name == "skipped_lines":
        assert rows == []
    elif name.endswith("_no_attr"):
        full = name.removesuffix("_no_attr")
        assert rows == reader.query(full, **params_for(full, written))
    elif name == "compact_keep":
        assert [r["trace_id"] for r in rows] == [failed]
    elif name == "trace_compacted":
        assert rows == []  # nothing compacted here: test_compact.py runs it on Parquet
    elif name == "export_lines":
        assert rows and {r["trace_id"] for r in rows} == {failed}
        assert all(failed in r["line"] for r in rows)
    elif name == "trace_search":
        assert [r["trace_id"] for r in rows] == [failed]
    elif name == "span_histogram":
        assert sum(r["count"] for r in rows) == 6 and sum(r["errors"] for r in rows) == 1


def test_recent_traces_filters(reader: Reader, written: Written) -> None:
    """recent_traces.sql filters by service, span name, status, duration, attribute, time."""
    ok, failed, crashed = written.trace_ids()

    def ids(**given: Any) -> list[str]:
        rows = reader.query("recent_traces", **{**FILTERS, "limit": 10, **given})
        return [r["trace_id"] for r in rows]

    assert ids(service="crasher") == [crashed]
    assert ids(name="doomed") == [crashed]
    assert ids(status="error") == [failed]
    assert ids(attr_key="task_id", attr_value="0") == [ok]
    assert ids(attr_key="rows", attr_value="20") == [crashed]
    assert ids(min_duration_ms=1e9) == []
    assert ids(since=datetime(2100, 1, 1)) == []
    assert ids(until=datetime(2000, 1, 1)) == []
    assert ids(since=datetime.utcnow() - timedelta(days=1)) == [crashed, failed, ok]


def test_span_percentiles_filters(reader: Reader) -> None:
    """span_percentiles.sql filters spans by service, name, status and attribute."""

    def names(**given: Any) -> dict[str, int]:
        rows = reader.query("span_percentiles", **{**FILTERS, **given})
        return {r["name"]: r["count"] for r in rows}

    assert names(service="worker") == {"step": 6, "work": 3}
    assert names(status="error") == {"step": 1, "work": 1}
    assert names(name="job", attr_key="task_id", attr_value="2") == {"job": 1}
    assert names(attr_key="n", attr_value="1") == {"step": 3}
