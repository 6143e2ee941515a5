"""What a line over ``max_line`` keeps."""

from __future__ import annotations

from logtrace.format.lines import cut_fields


def test_cut_keeps_logtraces_fields_and_notes_the_size() -> None:
    """User fields are dropped, logtrace's kept (texts cut to 1024), the size noted."""
    line = {"ts": "t", "event": "e" * 5000, "span": "start", "name": "n", "blob": "x" * 10}
    assert cut_fields(line, 300_000) == {
        "ts": "t", "event": "e" * 1024, "span": "start", "name": "n",
        "line_truncated": 300_000}  # fmt: skip
