"""One trace by id from span rows: the same Trace as through the views, or the views' way."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_compact import hist, history
from test_spanrows import TRACE, split

import logtrace
from logtrace.read.compact import compact
from logtrace.read.lookup import from_copies, from_span_rows
from logtrace.read.trace import AmbiguousTrace


def test_span_rows_give_the_trace_the_views_give(hist: tuple[Path, list[str]]) -> None:
    """After compaction, a lookup from span rows equals the views' (summary, tree, logs)."""
    root, ids = hist
    with logtrace.open(root, pruning=False) as reader:
        before = {trace_id: reader.trace(trace_id) for trace_id in ids}
    compact(root)
    with logtrace.open(root, pruning=False) as reader:
        files = reader.all_files
        for trace_id in ids:
            fast = from_span_rows(reader, trace_id, files)
            assert fast is not None and fast.spans and fast.logs
            assert fast == from_copies(reader, trace_id, files) == before[trace_id]
            assert from_span_rows(reader, trace_id[:16], files) == fast
            assert reader.trace(trace_id) == fast


def test_span_rows_lookup_says_ambiguous_as_the_views(tmp_path: Path) -> None:
    """An id prefix shared by several traces is ambiguous from span rows as from the views."""
    root = tmp_path / "logtrace"
    ids = history(root, hours=1, per_hour=120)  # 30 s apart: 8 hex digits are 65 s
    compact(root)
    prefix = ids[0][:8]
    assert sum(i.startswith(prefix) for i in ids) > 1
    with logtrace.open(root, pruning=False) as reader:
        files = reader.all_files
        with pytest.raises(AmbiguousTrace) as fast:
            from_span_rows(reader, prefix, files)
        with pytest.raises(AmbiguousTrace) as views:
            from_copies(reader, prefix, files)
    assert str(fast.value) == str(views.value)


def test_live_files_are_read_through_the_views(hist: tuple[Path, list[str]]) -> None:
    """JSONL files in range: no answer from span rows alone."""
    root, ids = hist
    with logtrace.open(root, pruning=False) as reader:
        assert from_span_rows(reader, ids[0], reader.all_files) is None


def test_fragments_are_read_through_the_views(split: Path) -> None:
    """A span split across batches: no answer from span rows alone; the lookup merges it."""
    compact(split, batch_bytes=1)
    with logtrace.open(split, pruning=False) as reader:
        compacted = [p for p in reader.all_files if p.suffix == ".parquet"]
        assert len(compacted) == 2 and len(reader.all_files) == 3
        assert from_span_rows(reader, TRACE, compacted) is None  # fragments of "long"
        assert reader.trace(TRACE) == from_copies(reader, TRACE, reader.all_files)
