"""recent_traces_no_attr.sql (``logtrace ls``): the traces of a window, chosen in two steps
from span rows or in one pass over JSONL, give the rows of one pass over ``traces`` (as
recent_traces.sql does); whole_spans.sql stands in for spans.sql when there is nothing to
join, with the same rows."""

from __future__ import annotations

import random
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import T0, span_lines, write_jsonl
from test_compact import file_name, trace_id_at

import logtrace
from logtrace.format import fields as f
from logtrace.read.compact import compact
from logtrace.read.reader import Reader

# The window of the tests: the second hour of the history.
SINCE = T0 + timedelta(hours=1)
UNTIL = T0 + timedelta(hours=2)
MINUTE = 60_000
# recent_traces_no_attr.sql as it was, one pass over `traces`: what the two steps must equal.
ONE_PASS = """
SELECT *
FROM traces
WHERE ($since IS NULL OR end_ts >= $since)
    AND ($until IS NULL OR start_ts < $until)
    AND ($service IS NULL OR list_contains(services, $service))
    AND ($status IS NULL OR status = $status)
    AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
    AND ($name IS NULL OR list_contains(span_names, $name))
ORDER BY start_ts DESC, trace_id
LIMIT $limit
"""
NO_FILTER = dict.fromkeys(["since", "until", "service", "name", "status", "min_duration_ms"])
CASES: list[dict[str, Any]] = [
    {"since": SINCE},
    {"since": SINCE, "limit": 3},
    {"since": SINCE, "until": UNTIL - timedelta(minutes=55)},
    {"until": SINCE},
    {},
    {"since": SINCE, "status": "error"},
    {"since": SINCE, "status": "unfinished"},
    {"since": SINCE, "service": "other"},
    {"since": SINCE, "name": "child"},
    {"since": SINCE, "min_duration_ms": 30 * MINUTE},
    {"since": SINCE + timedelta(minutes=70)},
]


def edge_traces(root: Path, *, unfinished: bool = True) -> dict[str, str]:
    """Two hourly files of one process, with traces at the edges of the window; their ids."""
    rng = random.Random(5)
    day = root / T0.strftime(f.DAY_FORMAT)
    files: list[list[dict[str, Any]]] = [[], []]
    ids: dict[str, str] = {}

    def trace(
        key: str, start_min: float, spans: list[tuple[str, float, float | None]], **kw: Any
    ) -> None:
        """A trace made at start_min; spans: (name, start, duration) in minutes, root first."""
        trace_id = ids[key] = ids.get(key) or trace_id_at(T0 + timedelta(minutes=start_min), rng)
        parent = None
        for n, (name, start, duration) in enumerate(spans):
            span_id = f"{rng.getrandbits(64) | 1:016x}"
            lines = span_lines(
                trace_id,
                span_id,
                parent,
                name,
                start * MINUTE,
                None if duration is None else duration * MINUTE,
                **(kw if n == len(spans) - 1 else {}),
            )
            for line in lines:
                at = line[f.TS]
                files[0 if at < (T0 + timedelta(hours=1)).isoformat() else 1].append(line)
            parent = parent or span_id

    # Made 55 minutes before the window (longer than LONG_TRACE), its root ends in it.
    trace("long_ago", 5, [("root", 5, 70), ("child", 6, 1)])
    trace("ended_before", 10, [("root", 10, 1)])
    trace("ends_at_the_edge", 59, [("root", 59, 1)])
    trace("ends_just_before", 58, [("root", 58, 1.99)])
    trace("tie_a", 62, [("root", 62, 1)])
    ids["tie_b"] = ids["tie_a"][:12] + f"{rng.getrandbits(80):020x}"
    trace("tie_b", 62, [("root", 62, 2)])
    trace("failed", 64, [("root", 64, 3), ("child", 65, 1)], status="error", error=("E", "x"))
    trace("elsewhere", 66, [("root", 66, 40)], service="other")
    for n in range(4):
        trace(f"later_{n}", 70 + n, [("root", 70 + n, 0.5)])
    if unfinished:
        trace("open_after", 61, [("root", 61, None)])
        trace("open_before", 30, [("root", 30, None)])
        # Its root never ends (it starts before the window); a child ends in the window.
        trace("open_root_late_child", 20, [("root", 20, None), ("child", 63, 1)])
    for n, lines in enumerate(files):
        lines.sort(key=lambda line: line[f.TS])
        write_jsonl(day / file_name("svc", 100, T0 + timedelta(hours=n)), lines)
    return ids


def answers(reader: Reader, name: str) -> list[list[dict[str, Any]]]:
    """The rows of ``name`` for every case."""
    return [reader.query(name, **{**NO_FILTER, "limit": 100, **case}) for case in CASES]


def one_pass(reader: Reader) -> list[list[dict[str, Any]]]:
    """The rows of one pass over ``traces`` for every case."""
    return [reader.execute(ONE_PASS, {**NO_FILTER, "limit": 100, **case}) for case in CASES]


@pytest.fixture(params=["raw", "one batch", "batches"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The edge traces as JSONL, compacted in one batch, or in a batch per file (fragments)."""
    root = tmp_path / "logtrace"
    ids = edge_traces(root)
    if request.param != "raw":
        compact(root, batch_bytes=1 if request.param == "batches" else 1 << 30)
    return root, ids


def test_two_steps_answer_as_one_pass(history: tuple[Path, dict[str, str]]) -> None:
    """Every filter and window edge: the two steps give the rows of one pass, pruned or not."""
    root, ids = history
    with logtrace.open(root, pruning=False) as full:
        expected = one_pass(full)
        assert answers(full, "recent_traces_no_attr") == expected
        attr = {"attr_key": None, "attr_value": None, "kind": None}
        rows = [
            full.query("recent_traces", **{**NO_FILTER, "limit": 100, **attr, **c}) for c in CASES
        ]
        assert rows == expected
    with logtrace.open(root, since=SINCE) as pruned:
        assert answers(pruned, "recent_traces_no_attr")[:2] == expected[:2]
    in_window = {
        ids[k] for k in ids if k not in ("ended_before", "ends_just_before", "open_before")
    }
    assert {row["trace_id"] for row in expected[0]} == in_window
    newest = [row["trace_id"] for row in expected[1]]
    assert newest == [ids["later_3"], ids["later_2"], ids["later_1"]]
    ties = [
        row["trace_id"] for row in expected[0] if row["trace_id"] in (ids["tie_a"], ids["tie_b"])
    ]
    assert ties == sorted(ties)


def test_whole_spans_stand_in_only_with_nothing_to_join(tmp_path: Path) -> None:
    """Compacted with span files and no fragment: spans is whole_spans.sql, with the same rows
    and columns as spans.sql; once a batch holds a fragment (a span that never ended), the
    reader, refreshed, joins again with spans.sql."""
    root = tmp_path / "logtrace"
    edge_traces(root, unfinished=False)
    raw = tmp_path / "raw"
    shutil.copytree(root, raw)
    compact(root)
    with logtrace.open(root) as reader, logtrace.open(raw) as lines:
        assert reader.query("split_spans") == [{"split": False}]
        assert answers(reader, "recent_traces_no_attr") == answers(lines, "recent_traces_no_attr")
        assert "loose_span_lines" not in view_sql(reader, "spans")
        # The same spans as from their lines (but for the file names: these are elsewhere).
        every_span = "SELECT * EXCLUDE (filename) FROM spans ORDER BY span_id"
        assert reader.execute(every_span) == lines.execute(every_span)
        assert reader.execute("DESCRIBE spans") == lines.execute("DESCRIBE spans")
        # A batch with a span that never ends: a fragment, which spans.sql joins.
        opened = T0 + timedelta(hours=3)
        trace_id = trace_id_at(opened, random.Random(9))
        start = span_lines(trace_id, "e" * 16, None, "open", 3 * 60 * MINUTE, None)
        write_jsonl(root / T0.strftime(f.DAY_FORMAT) / file_name("svc", 101, opened), start)
        compact(root)
        reader.refresh()
        assert reader.query("split_spans") == [{"split": True}]
        found = reader.query("recent_traces_no_attr", **{**NO_FILTER, "limit": 1})
        assert [(row["trace_id"], row["status"]) for row in found] == [(trace_id, "unfinished")]
        assert "loose_span_lines" in view_sql(reader, "spans")


def view_sql(reader: Reader, view: str) -> str:
    """The SQL DuckDB keeps for one of the reader's views."""
    rows = reader.execute("SELECT sql FROM duckdb_views() WHERE view_name = $v", {"v": view})
    return str(rows[0]["sql"])
