"""What to export, through the Reader (logtrace/export/source.py), over hand-made files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import log_line, logs_dir, span_lines, write_jsonl

import logtrace
from logtrace import export
from logtrace.export import source
from logtrace.read.reader import Reader

DAY = "2026-11-24"
TRACES = [f"01a2339e{n:04x}0000aaaaaaaaaaaaaaaa" for n in range(6)]

__all__ = ["logs_dir"]


def _history(directory: Path) -> None:
    """Six traces of two spans and a log line each, in two files; two log lines outside."""
    for number, (suffix, traces) in enumerate(((".jsonl", TRACES[:3]), (".jsonl.zst", TRACES[3:]))):
        lines: list[Any] = [log_line(None, None, f"idle {number}", number * 100)]
        for n, trace in enumerate(traces):
            at = number * 100 + n * 10
            top, child = f"{n + 1:016x}", f"{n + 101:016x}"
            lines += span_lines(trace, top, None, "request", at, 5)
            lines += span_lines(trace, child, top, "step", at + 1, 2)
            lines.append(log_line(trace, child, f"step of {trace}", at + 2))
        lines.sort(key=lambda line: line["ts"])
        write_jsonl(directory / DAY / f"svc_h_{number}_20261124T13000{number}.000Z{suffix}", lines)


# Questions asked of the Reader between batches; each returns something to compare.
QUESTIONS: dict[str, Callable[[Reader], Any]] = {
    "execute": lambda reader: reader.execute("SELECT count(*) AS n FROM spans"),
    "query": lambda reader: reader.query("slowest_traces", limit=3),
    "trace": lambda reader: [reader.trace(trace).spans for trace in TRACES[::2]],
    "cat": lambda reader: list(reader.cat()),
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
