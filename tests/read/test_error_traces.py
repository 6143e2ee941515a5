"""queries/error_traces.sql: every column of a trace's first error comes from one span."""

from __future__ import annotations

from pathlib import Path

from conftest import logs_dir, span_lines, write_jsonl

import logtrace

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_first_error_columns_come_from_the_same_span(logs_dir: Path) -> None:
    """When the first failed span has no error_type (set_status("error", ...)), the type is
    empty, not borrowed from a later failed span of the trace."""
    lines = [
        *span_lines(TRACE, "a" * 16, None, "root", 0, 50, status="error"),
        *span_lines(TRACE, "b" * 16, "a" * 16, "first", 1, 5, status="error"),
        *span_lines(
            TRACE,
            "c" * 16,
            "a" * 16,
            "second",
            10,
            5,
            status="error",
            error=("ValueError", "bad"),
        ),
    ]
    # The first failed span ended with a message but no type.
    lines[1]["error_message"] = "gave up"
    lines[3]["error_message"] = "timed out"
    write_jsonl(logs_dir / "2026-11-24" / "svc_h_100_20261124T130000.000Z.jsonl", lines)
    with logtrace.open(logs_dir) as reader:
        (row,) = reader.query("error_traces", since=None, limit=10)
    assert (row["first_error_span"], row["first_error_type"], row["first_error_message"]) == (
        "root",
        None,
        "gave up",
    )
