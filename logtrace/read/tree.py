"""One trace's spans in tree order, built from parent ids in time linear in the spans.

The same order and the same ``depth`` / ``top_reason`` as ``queries/trace_tree.sql`` (depth
first, siblings by start time then span id; at the top ``root``, ``missing_parent`` or ``cycle``,
a loop of parent ids cut at its earliest span), with no bound on depth: foreign data can hold a
parent chain 100,000 long, and every step here is a dictionary lookup or a list append, never a
path copied per level or a recursive call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

Row = dict[str, Any]
_NEVER = datetime.max
_MICROSECOND = timedelta(microseconds=1)


def _key(span: Row) -> tuple[bool, datetime, str]:
    start = span.get("start_ts")
    return (start is None, start or _NEVER, str(span.get("span_id") or ""))


def tree_order(spans: Iterable[Row]) -> list[Row]:
    """The spans as rows of ``trace_tree.sql``: tree order, with ``depth``, ``top_reason`` and
    ``offset_ms`` (start relative to the earliest start) added to each row."""
    rows = sorted(spans, key=_key)
    by_id: dict[str, Row] = {}
    for span in rows:
        by_id.setdefault(span["span_id"], span)
    children: dict[str, list[Row]] = {}
    tops: list[tuple[Row, str]] = []
    for span in rows:
        if by_id[span["span_id"]] is not span:
            continue  # the same id twice: the spans view never gives that, foreign SQL might
        parent = span.get("parent_id")
        if parent is None:
            tops.append((span, "root"))
        elif parent not in by_id:
            tops.append((span, "missing_parent"))
        else:
            children.setdefault(parent, []).append(span)
    placed: set[str] = set()
    blocks = [(_key(top), _walk(top, reason, children, placed)) for top, reason in tops]
    for span in rows:  # what no top reaches hangs on a loop of parent ids
        if span["span_id"] not in placed and by_id[span["span_id"]] is span:
            cut = _loop_start(span, by_id, placed)
            blocks.append((_key(cut), _walk(cut, "cycle", children, placed)))
    blocks.sort(key=lambda block: block[0])
    ordered = [row for _, block in blocks for row in block]
    starts = [row["start_ts"] for row in ordered if row.get("start_ts") is not None]
    first = min(starts) if starts else None
    for row in ordered:
        start = row.get("start_ts")
        row["offset_ms"] = (
            None if start is None or first is None else ((start - first) // _MICROSECOND) / 1000.0
        )
    return ordered


def _walk(top: Row, reason: str, children: dict[str, list[Row]], placed: set[str]) -> list[Row]:
    """Depth first from ``top``, with an explicit stack; spans already placed are skipped."""
    out: list[Row] = []
    stack: list[tuple[Row, int]] = [(top, 0)]
    while stack:
        span, depth = stack.pop()
        span_id = span["span_id"]
        if span_id in placed:
            continue
        placed.add(span_id)
        out.append({"depth": depth, "top_reason": reason if depth == 0 else None, **span})
        stack.extend((child, depth + 1) for child in reversed(children.get(span_id, ())))
    return out


def _loop_start(span: Row, by_id: dict[str, Row], placed: set[str]) -> Row:
    """The earliest span of the loop that ``span``'s chain of parents runs into."""
    seen: set[str] = set()
    current = span
    while current["span_id"] not in seen:
        seen.add(current["span_id"])
        parent = by_id.get(current.get("parent_id") or "")
        if parent is None or parent["span_id"] in placed:
            return current  # not a loop after all (cannot happen with the tops above)
        current = parent
    loop = [current]
    member = by_id[current["parent_id"]]
    while member is not current:
        loop.append(member)
        member = by_id[member["parent_id"]]
    return min(loop, key=_key)
