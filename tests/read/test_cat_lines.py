"""``cat_lines`` (logtrace/read/cat.py): files that change or fail under it, over real files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from conftest import logs_dir, span_lines, write_jsonl
from test_compact import history

import logtrace
from logtrace.read import cat
from logtrace.read.compact import compact
from logtrace.read.files import ReadError
from logtrace.read.reader import Reader

TRACE = "01a2339e00000000aaaaaaaaaaaaaaaa"
DAY = "2026-11-24"
# A zstd frame's magic number and then no frame: the listing takes it, only DuckDB finds out.
NOT_ZSTD = b"\x28\xb5\x2f\xfd" + b"garbage" * 100


def _kept(directory: Path) -> list[str]:
    """A file of one span (two lines), the one that stays readable."""
    write_jsonl(
        directory / DAY / "svc_h_1_20261124T130000.000Z.jsonl",
        span_lines(TRACE, "a" * 16, None, "kept", 0, 1),
    )
    return ["kept", "kept"]


def _names(lines: list[str]) -> list[str]:
    return [orjson.loads(line)["name"] for line in lines]


@pytest.mark.parametrize("change", ["removed", "no longer decodes"])
def test_a_file_changed_after_listing_is_left_out_before_the_first_line(
    logs_dir: Path, change: str
) -> None:
    """A file removed, or overwritten with bytes that do not decode, between listing and
    reading: cat leaves it out and runs again, as the Reader's questions do (a raw DuckDB
    IOException came out)."""
    kept = _kept(logs_dir)
    other = write_jsonl(
        logs_dir / DAY / "svc_h_2_20261124T130000.005Z.jsonl.zst",
        span_lines(TRACE, "b" * 16, None, "other", 5, 1),
    )
    with logtrace.open(logs_dir) as reader:
        lines = reader.cat()
        if change == "removed":
            other.unlink()
        else:
            other.write_bytes(NOT_ZSTD)
        assert _names(list(lines)) == kept
        assert reader.unreadable_files == ([] if change == "removed" else [other])


def test_another_programs_parquet_under_our_name_is_left_out_of_cat(logs_dir: Path) -> None:
    """A Parquet file of another program under a compacted file's name (no ts column): cat
    gives the other files' lines and names it (it raised ReadError with DuckDB's Binder
    Error, and gave nothing)."""
    kept = _kept(logs_dir)
    foreign = logs_dir / DAY / "compacted_20261124T130000_20261124T130002_849f89f3214c.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{foreign}' (FORMAT parquet)")
    with logtrace.open(logs_dir) as reader:
        assert _names(list(reader.cat())) == kept
        assert reader.unreadable_files == [foreign]


def test_a_reader_closed_while_cat_is_read_says_so(logs_dir: Path) -> None:
    """close() while cat()'s lines are still being read: the next batch, and every question
    after, is a ReadError saying the Reader is closed (it was DuckDB's "No open result set"
    and "Connection already closed!")."""
    _kept(logs_dir)
    reader = logtrace.open(logs_dir)
    lines = reader.cat()
    next(lines)
    reader.close()
    assert reader.closed
    for question in (lambda: list(lines), lambda: reader.execute("SELECT 1")):
        with pytest.raises(ReadError, match=r"^this Reader is closed \(close\(\) was called"):
            question()


# Questions asked of the Reader while its lines are read; each returns something to compare.
QUESTIONS: dict[str, Callable[[Reader, list[str]], Any]] = {
    "execute": lambda reader, ids: reader.execute("SELECT count(*) AS n FROM spans"),
    "query": lambda reader, ids: reader.query("slowest_traces", limit=3),
    "trace": lambda reader, ids: [reader.trace(trace_id).spans for trace_id in ids],
    "sql": lambda reader, ids: reader.sql("SELECT count(*) FROM lines").fetchall(),
    "cat": lambda reader, ids: sum(1 for _ in reader.cat(trace=ids[0])),
}


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_every_line_arrives_while_the_reader_answers_other_questions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, question: str
) -> None:
    """Questions asked of the same Reader between lines (compacted and JSONL files, a lookup
    of a trace of each): cat still gives every line, and the questions their answers (the
    next question ended the batches of the Reader's one connection: 10,000 of 50,002 lines,
    silently)."""
    compacted, live = tmp_path / "compacted", tmp_path / "live"
    ids = history(compacted, hours=2)[::5] + history(live, hours=2, seed=2)[::5]
    compact(compacted)
    monkeypatch.setattr(cat, "_BATCH", 3)
    ask = QUESTIONS[question]
    with logtrace.open([compacted, live], pruning=False) as reader:
        every = list(reader.cat())
        answer = ask(reader, ids)
        given = []
        for line in reader.cat():
            given.append(line)
            if len(given) % 20 == 1:
                assert ask(reader, ids) == answer
    assert len(every) > 100 and given == every
