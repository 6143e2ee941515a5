"""Span rows beside compacted files: whole spans as rows, fragments merged, a schema contract."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import T0, log_line, run_cli, span_lines, write_jsonl
from test_compact import file_name, history, snapshot, trace_id_at

import logtrace
from logtrace.format import fields as f
from logtrace.read.compact import compact
from logtrace.read.files import find_compacted, find_span_files, span_file_of
from logtrace.read.queries import COMPACTED_COLUMNS
from logtrace.read.spanrows import COLUMNS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"
HISTORY = DOCS.with_name("history.md")
TRACE = trace_id_at(T0, __import__("random").Random(3))
ROOT, LONG, OPEN, LATE = "a" * 16, "b" * 16, "c" * 16, "d" * 16


@pytest.fixture
def split(tmp_path: Path) -> Iterator[Path]:
    """One process's three hourly files: spans across them, the last file still live."""
    root = tmp_path / "logtrace"
    day = root / T0.strftime(f.DAY_FORMAT)
    hour = 3_600_000
    root_start, root_end = span_lines(TRACE, ROOT, None, "root", 0, 2.5 * hour)
    long_start, long_end = span_lines(TRACE, LONG, ROOT, "long", 10, hour, attributes={"size": 3})
    long_end["rows"] = 7  # set by span.set() before the end: an end attribute
    late_start, late_end = span_lines(TRACE, LATE, ROOT, "late", 1.5 * hour, hour)
    (open_start,) = span_lines(TRACE, OPEN, ROOT, "open", 20, None)
    files = [
        [root_start, long_start, open_start, log_line(TRACE, LONG, "working", 30)],
        [long_end, late_start],
        [late_end, root_end],
    ]
    paths = [
        write_jsonl(day / file_name("svc", 100, T0 + timedelta(hours=n)), lines)
        for n, lines in enumerate(files)
    ]
    fd = os.open(paths[-1], os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the process still writes it: never compacted
    try:
        yield root
    finally:
        os.close(fd)


def spans_by_id(directory: Path) -> dict[str, dict[str, Any]]:
    """The spans view, by span id."""
    with logtrace.open(directory, pruning=False) as reader:
        return {row["span_id"]: row for row in reader.execute("SELECT * FROM spans")}


def test_spans_split_across_batches_and_live_files_are_whole(split: Path) -> None:
    """Fragments of spans split across batches and a live file join into the spans as before."""
    before = snapshot(split)
    result = compact(split, batch_bytes=1)
    assert len(result.written) == 2 and result.live == 1
    assert snapshot(split) == before
    spans = spans_by_id(split)
    assert spans[LONG]["status"] == "ok" and spans[LONG]["duration_ms"] == 3_600_000
    assert spans[LONG]["attributes"] == {"size": 3, "rows": 7}
    assert spans[LATE]["has_start"] and spans[LATE]["has_end"]
    assert spans[OPEN]["status"] == "unfinished"
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT span_id, has_start, has_end FROM read_parquet($f) ORDER BY all",
            {"f": [str(p) for p in find_span_files(split)]},
        ).fetchall()
    # In the first batch: root, long and open started; in the second: long ended, late started.
    assert rows == [
        (ROOT, True, False),
        (LONG, False, True),
        (LONG, True, False),
        (OPEN, True, False),
        (LATE, True, False),
    ]


def test_stats_and_traces_agree_with_the_lines(split: Path) -> None:
    """Percentiles from span rows and fragments equal those from the spans view."""
    compact(split, batch_bytes=1)
    filters = dict.fromkeys(["since", "until", "service", "name", "status", "min_duration_ms"])
    with logtrace.open(split) as reader:
        fast = reader.query("span_percentiles_no_attr", **filters)
        full = reader.query("span_percentiles", **filters, attr_key=None, attr_value=None)
        trace = reader.trace(TRACE)
    assert fast == full and sum(row["count"] for row in fast) == 4
    assert [s["name"] for s in trace.spans] == ["root", "long", "open", "late"]
    assert trace.summary["span_count"] == 4 and trace.summary["unfinished_count"] == 1


def test_whole_spans_are_read_from_span_rows(tmp_path: Path) -> None:
    """After compaction the whole spans are rows of the span files, with host and kind."""
    root = tmp_path / "logtrace"
    history(root)
    before = snapshot(root)
    compact(root)
    (spans,) = find_span_files(root)
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT count(*), bool_and(has_start AND has_end), any_value(host), "
            "any_value(kind) FROM read_parquet($f)",
            {"f": str(spans)},
        ).fetchone()
    assert rows == (len(before["spans"]), True, "host", "internal")
    assert snapshot(root) == before


def test_span_attributes_of_every_shape_are_those_of_the_lines(tmp_path: Path) -> None:
    """Attributes on the start line, the end line, both, none; with kind, attributes_dropped
    and line_truncated among them; an end line alone: the span rows give what the lines give."""
    root = tmp_path / "logtrace"
    shapes: list[dict[str, Any]] = []
    for n, (on_start, on_end) in enumerate(
        [
            ({"size": 3}, {}),
            ({}, {"rows": 7}),
            ({"size": 3, "rows": 1}, {"rows": 7}),
            ({}, {}),
            ({"kind": "server", "route": "/x"}, {"kind": "server"}),
            ({"attributes_dropped": 2, "a": [1, {"b": None}]}, {}),
            ({"line_truncated": 900, "text": 'say "kind"'}, {}),
        ]
    ):
        start, end = span_lines(TRACE, f"{n + 1:016x}", None, f"s{n}", n * 10, 5)
        shapes.extend([{**start, **on_start}, {**end, **on_end}])
    (alone,) = span_lines(TRACE, "e" * 16, None, "alone", 200, 5)[1:]
    shapes.append({**alone, "kind": "client", "peer": "db", "nested": {"kind": 1}})
    write_jsonl(root / T0.strftime(f.DAY_FORMAT) / file_name("svc", 100, T0), shapes)
    before = spans_by_id(root)
    compact(root)
    assert find_span_files(root)
    assert spans_by_id(root) == before


def test_a_span_file_without_its_compacted_file_never_counts(tmp_path: Path) -> None:
    """A span file whose compacted file is gone is ignored, and removed by the next compaction."""
    root = tmp_path / "logtrace"
    history(root)
    compact(root)
    (compacted,) = find_compacted(root)
    spans = span_file_of(compacted)
    data = spans.read_bytes()
    other = spans.with_name(spans.name.replace(spans.name.split("_")[-1], "0123abcd.parquet"))
    other.write_bytes(data)  # as if a compaction died between its two renames
    with logtrace.open(root) as reader:
        count = reader.execute("SELECT count(*) AS n FROM spans")[0]["n"]
    assert count == len(snapshot(root)["spans"])
    compact(root)
    assert not other.exists() and spans.exists()


def test_compacted_files_without_span_files_read_as_before(tmp_path: Path) -> None:
    """History compacted before span files existed: its span lines are joined as they were."""
    root = tmp_path / "logtrace"
    history(root)
    before = snapshot(root)
    compact(root, batch_bytes=1)
    for path in sorted(find_span_files(root))[::2]:
        path.unlink()
    assert snapshot(root) == before


def test_a_span_file_cut_short_or_empty_is_named_and_its_lines_still_count(tmp_path: Path) -> None:
    """A span file cut short (a copy interrupted, a full disk) or emptied: the spans are read
    from its compacted file's lines instead, the file is named among the unreadable ones, and
    every command answers (it used to fail them all with DuckDB's "No magic bytes found")."""
    root = tmp_path / "logtrace"
    history(root)
    before = snapshot(root)
    compact(root, batch_bytes=1)
    cut, emptied = sorted(find_span_files(root))[:2]
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    emptied.write_bytes(b"")
    assert snapshot(root) == before
    with logtrace.open(root) as reader:
        assert {cut, emptied} <= set(reader.unreadable_files)
        trace_id = reader.execute("SELECT trace_id FROM traces LIMIT 1")[0]["trace_id"]
    for argv in (["ls"], ["ls", "--since", "3000d"], ["stats"], ["show", trace_id]):
        done = run_cli(*argv, "--dir", str(root))
        assert done.returncode == 0, (argv, done.stderr)


def test_other_programs_parquet_files_under_our_names_are_named_and_left_out(
    tmp_path: Path,
) -> None:
    """A Parquet file of another program's under a compacted file's name (sorting before and
    after ours) and under a span file's: every question answers as without them, they are named
    among the unreadable files, and the spans come from the compacted file's own lines (these
    used to fail every command with a Binder error or a schema mismatch)."""
    root = tmp_path / "logtrace"
    history(root)
    compact(root)
    before = snapshot(root)
    (ours,) = find_compacted(root)
    day = ours.parent
    early = day / "compacted_20000101T000000_20000101T000001_aaaaaaaaaaaa.parquet"
    late = day / "compacted_29991231T000000_29991231T000001_bbbbbbbbbbbb.parquet"
    span_file = span_file_of(ours)
    span_file.unlink()
    with duckdb.connect() as con:
        for path in (early, late, span_file):
            con.execute(f"COPY (SELECT 1 AS id, 'x' AS label) TO '{path}' (FORMAT parquet)")
    assert snapshot(root) == before
    with logtrace.open(root) as reader:
        trace_id = reader.execute("SELECT trace_id FROM traces LIMIT 1")[0]["trace_id"]
        assert reader.trace(trace_id).spans
        assert set(reader.unreadable_files) == {early, late, span_file}
    for argv in (["ls"], ["stats"], ["show", trace_id], ["sql", "SELECT count(*) FROM spans"]):
        done = run_cli(*argv, "--dir", str(root), "-v")
        assert done.returncode == 0, (argv, done.stderr)
        assert f"{late}: could not be decoded or is not logtrace's, left out" in done.stderr
    assert early.exists() and late.exists() and span_file.exists()


# -- the contract ----------------------------------------------------------------------------------


def documented_columns() -> list[tuple[str, str]]:
    """The columns of the span-file table in docs/scaling.md: (name, DuckDB type)."""
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("<!-- SPAN-COLUMNS -->")[1].split("<!-- /SPAN-COLUMNS -->")[0]
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \|", table, re.M)
    return [(name, kind) for name, kind in rows]


def test_span_files_have_the_documented_columns(tmp_path: Path) -> None:
    """Every span file has exactly the documented columns, types and format version, in order."""
    root = tmp_path / "logtrace"
    history(root)
    compact(root)
    (spans,) = find_span_files(root)
    with duckdb.connect() as con:
        described = con.execute(
            "DESCRIBE SELECT * FROM read_parquet($f)", {"f": str(spans)}
        ).fetchall()
        version = con.execute(
            "SELECT decode(value) FROM parquet_kv_metadata($f) WHERE decode(key) = $k",
            {"f": str(spans), "k": f.SPANS_FORMAT},
        ).fetchone()
    actual = [(row[0], "JSON" if row[0] == "attributes" else row[1]) for row in described]
    assert actual == list(COLUMNS) == documented_columns()
    assert version == (str(f.SPANS_FORMAT_VERSION),)
    assert f"version {f.SPANS_FORMAT_VERSION}" in DOCS.read_text(encoding="utf-8")


def test_compacted_files_have_the_documented_columns(tmp_path: Path) -> None:
    """Every compacted file has exactly the columns, types and metadata docs/history.md lists."""
    text = HISTORY.read_text(encoding="utf-8")
    table = text.split("<!-- COMPACTED-COLUMNS -->")[1].split("<!-- /COMPACTED-COLUMNS -->")[0]
    documented = re.findall(r"^\| `(\w+)` \| (\w+) \|", table, re.M)
    root = tmp_path / "logtrace"
    history(root)
    compact(root)
    (compacted,) = find_compacted(root)
    with duckdb.connect() as con:
        described = con.execute(
            "DESCRIBE SELECT * FROM read_parquet($f)", {"f": str(compacted)}
        ).fetchall()
        keys = con.execute(
            "SELECT decode(key), decode(value) FROM parquet_kv_metadata($f)", {"f": str(compacted)}
        ).fetchall()
    assert [(row[0], row[1]) for row in described] == documented
    assert [name for name, _ in documented] == list(COMPACTED_COLUMNS)
    assert {k for k, _ in keys} == {f.COMPACTED_SOURCES, f.COMPACTED_FORMAT}
    assert f"`{f.COMPACTED_SOURCES}`" in text and f"`{f.COMPACTED_FORMAT}`, `1`" in text


def test_a_line_that_is_not_json_is_a_row_of_nulls_but_its_source(tmp_path: Path) -> None:
    """As docs/history.md says: readable false, every column but source NULL (attributes too,
    not an object of null fields), the line counted and not read back."""
    day = tmp_path / "logtrace" / T0.strftime(f.DAY_FORMAT)
    path = write_jsonl(day / file_name("svc", 100, T0), span_lines(TRACE, ROOT, None, "r", 0, 1))
    with path.open("ab") as out:
        out.write(b"not json at all\n")
    compact(tmp_path / "logtrace")
    (compacted,) = find_compacted(tmp_path / "logtrace")
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT * EXCLUDE (source), source FROM read_parquet($f) WHERE NOT readable",
            {"f": str(compacted)},
        ).fetchall()
    (row,) = rows
    assert row[:-2] == (None,) * (len(row) - 2) and row[-2:] == (False, path.name)
