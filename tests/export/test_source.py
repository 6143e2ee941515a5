"""What to export, through the Reader (logtrace/export/source.py), over hand-made files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import log_line, logs_dir, span_lines, write_jsonl

import logtrace
from logtrace import export
from logtrace.export import source
from logtrace.read.reader import Reader

DAY = "2026-11-24"
TRACES = [f"01a2339e{n:04x}0000aaaaaaaaaaaaaaaa" for n in range(6)]
# A zstd frame's magic number and then no frame: the listing takes it, only DuckDB finds out.
NOT_ZSTD = b"\x28\xb5\x2f\xfd" + b"garbage" * 100

__all__ = ["logs_dir"]


def _history(directory: Path) -> Path:
    """Six traces of two spans and a log line each, in two files (the second, compressed, is
    returned); two log lines outside."""
    for number, (suffix, traces) in enumerate(((".jsonl", TRACES[:3]), (".jsonl.zst", TRACES[3:]))):
        lines: list[Any] = [log_line(None, None, f"idle {number}", number * 100)]
        for n, trace in enumerate(traces):
            at = number * 100 + n * 10
            top, child = f"{n + 1:016x}", f"{n + 101:016x}"
            lines += span_lines(trace, top, None, "request", at, 5)
            lines += span_lines(trace, child, top, "step", at + 1, 2)
            lines.append(log_line(trace, child, f"step of {trace}", at + 2))
        lines.sort(key=lambda line: line["ts"])
        path = write_jsonl(
            directory / DAY / f"svc_h_{number}_20261124T13000{number}.000Z{suffix}", lines
        )
    return path


# Questions asked of the Reader between batches; each returns something to compare.
QUESTIONS: dict[str, Callable[[Reader], Any]] = {
    "execute": lambda reader: reader.execute("SELECT count(*) AS n FROM spans"),
    "query": lambda reader: reader.query("slowest_traces", limit=3),
    "trace": lambda reader: [reader.trace(trace).spans for trace in TRACES[::2]],
    # Lines of the same microsecond in one file come in no set order: compared as a multiset.
    "cat": lambda reader: sorted(reader.cat()),
}


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_every_batch_arrives_while_the_reader_answers_other_questions(
    logs_dir: Path, monkeypatch: pytest.MonkeyPatch, question: str
) -> None:
    """Questions asked of the same Reader between batches: every trace and log line is
    exported (the lines were fetched on the Reader's one connection, and the next question
    ended them: the export stopped early, silently)."""
    _history(logs_dir)
    monkeypatch.setattr(source, "FETCH", 2)
    ask = QUESTIONS[question]
    with logtrace.open(logs_dir) as reader:
        every = list(export.batches(reader))
        answer = ask(reader)
        given = []
        for batch in export.batches(reader):
            given.append(batch)
            assert ask(reader) == answer
    spans = {(s.trace_id, s.span_id) for b in every for s in b.spans}
    assert len(spans) == 2 * len(TRACES) and sum(len(b.logs) for b in every) == 8
    assert given == every


def _traces(found: list[Any]) -> set[str]:
    return {s.trace_id for batch in found for s in batch.spans}


@pytest.mark.parametrize("change", ["removed", "no longer decodes"])
@pytest.mark.parametrize("when", ["before choosing", "before reading"])
def test_a_file_changed_after_listing_is_left_out_and_the_export_retried(
    logs_dir: Path, change: str, when: str
) -> None:
    """A file removed, or overwritten with bytes that do not decode, after the Reader listed
    it, before the traces are chosen (filters) or their lines read: the export leaves it out
    and runs again, as every question of the Reader does (the lines' query was not retried:
    a ReadError with DuckDB's IO error, and nothing exported)."""
    other = _history(logs_dir)

    def spoil() -> None:
        if change == "removed":
            other.unlink()
        else:
            other.write_bytes(NOT_ZSTD)

    with logtrace.open(logs_dir) as reader:
        if when == "before choosing":
            spoil()
        found = export.batches(reader, filters={"service": "svc"})
        if when == "before reading":
            spoil()
        assert _traces(list(found)) == set(TRACES[:3])
        assert reader.unreadable_files == ([] if change == "removed" else [other])


def test_another_programs_parquet_under_our_name_is_left_out_of_the_export(
    logs_dir: Path,
) -> None:
    """A Parquet file of another program under a compacted file's name (no ts column): the
    export gives every trace it gives without it and names the file (it raised ReadError with
    DuckDB's Binder Error, and exported nothing)."""
    _history(logs_dir)
    with logtrace.open(logs_dir) as reader:
        wanted = _traces(list(export.batches(reader)))
    foreign = logs_dir / DAY / "compacted_20261124T130000_20261124T130002_849f89f3214c.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{foreign}' (FORMAT parquet)")
    with logtrace.open(logs_dir) as reader:
        assert _traces(list(export.batches(reader))) == wanted
        assert reader.unreadable_files == [foreign]
