"""Folding repeated siblings of a generated 10k-span trace."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from logtrace.read.analytics.collapse import collapse

T0 = datetime(2026, 1, 1)


def row(
    span_id: str, depth: int, name: str, start: float, ms: float, status: str = "ok"
) -> dict[str, Any]:
    return {
        "span_id": span_id,
        "depth": depth,
        "name": name,
        "start_ts": T0 + timedelta(milliseconds=start),
        "duration_ms": ms,
        "status": status,
    }


def big_trace() -> list[dict[str, Any]]:
    """root > 100 batches > (99 fetches, 1 store): 10,101 rows in display order; every 10th
    fetch fails, fetch j takes j % 10 + 1 ms."""
    rows = [row("root", 0, "root", 0, 100_000)]
    for b in range(100):
        rows.append(row(f"b{b}", 1, "batch", b * 1000, 900))
        for j in range(99):
            status = "error" if j % 10 == 0 else "ok"
            rows.append(row(f"f{b}.{j}", 2, "fetch", b * 1000 + j * 9, j % 10 + 1, status))
        rows.append(row(f"s{b}", 2, "store", b * 1000 + 895, 5))
    return rows


def test_ten_thousand_spans_fold_to_two_rows() -> None:
    """The 100 batches (and the 10,000 spans under them) become one row with their figures."""
    rows = big_trace()
    assert len(rows) == 10_101
    out = collapse(rows)
    assert [(r["name"], r.get("collapsed")) for r in out] == [("root", None), ("batch", 100)]
    batch = out[1]
    assert batch["hidden"] == 10_100 and batch["failed"] == 0
    assert batch["p50_ms"] == 900 and batch["max_ms"] == 900
    assert batch["duration_ms"] == 99_900  # from the first batch's start to the last's end


def test_expand_opens_a_group_and_folds_inside_it() -> None:
    """--expand batch: each batch shown, its 99 fetches one row, its single store as is."""
    out = collapse(big_trace(), expand={"batch"})
    assert len(out) == 1 + 100 * 3
    fetch = out[2]
    assert (fetch["name"], fetch["collapsed"], fetch["failed"]) == ("fetch", 99, 10)
    assert fetch["p50_ms"] == 5 and fetch["max_ms"] == 10
    assert out[3]["name"] == "store" and "collapsed" not in out[3]


def test_few_repeats_stay_open() -> None:
    """Four siblings of one name (under min_repeat 5) are not folded; five are."""
    four = [row("r", 0, "r", 0, 10)] + [row(f"k{i}", 1, "k", i, 1) for i in range(4)]
    assert len(collapse(four)) == 5
    assert len(collapse(four, min_repeat=4)) == 2


def test_interleaved_siblings_fold_at_the_first_ones_place() -> None:
    """fetch, parse, fetch, parse ...: one fetch row and one parse row, in first-seen order."""
    rows = [row("r", 0, "r", 0, 100)]
    for i in range(6):
        rows.append(row(f"f{i}", 1, "fetch", i * 10, 4))
        rows.append(row(f"p{i}", 1, "parse", i * 10 + 5, 4))
    out = collapse(rows)
    assert [(r["name"], r.get("collapsed")) for r in out] == [
        ("r", None),
        ("fetch", 6),
        ("parse", 6),
    ]
