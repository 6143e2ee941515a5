"""Huge traces made readable: repeated siblings folded into one row.

A trace of 10,000 spans is mostly repetition: a loop of queries under one parent, a fan-out of
identical tasks. :func:`collapse` takes a trace's rows in display order (those of
``queries/trace_tree.sql``: depth first, each with its ``depth``) and folds every group of at
least ``min_repeat`` siblings of one name (under one parent) into a single row, "N x name", with
the group's p50, p95 and max duration and how many failed; the rows under them are folded with
them. ``expand`` names groups to keep open (their own children may still fold).

Linear: one pass finds each row's parent and the end of its subtree, one pass groups siblings,
one pass writes the result.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from typing import Any

from logtrace.read.analytics.stats import quantile

__all__ = ["MIN_REPEAT", "collapse", "group_row"]

# Siblings of one name under one parent folded by default from this many on.
MIN_REPEAT = 5

Row = Mapping[str, Any]


def _structure(rows: Sequence[Row]) -> tuple[list[int], list[int]]:
    """Per row, the index of its parent row (-1 at the top) and the end of its subtree."""
    parents = [-1] * len(rows)
    ends = [len(rows)] * len(rows)
    stack: list[int] = []
    for i, row in enumerate(rows):
        depth = int(row.get("depth") or 0)
        while len(stack) > depth:
            ends[stack.pop()] = i
        parents[i] = stack[-1] if stack else -1
        stack.append(i)
    return parents, ends


def collapse(
    rows: Sequence[Row], *, min_repeat: int = MIN_REPEAT, expand: Collection[str] = ()
) -> list[dict[str, Any]]:
    """The rows with repeated siblings folded (see the module's docstring).

    A folded row is the first sibling's row with ``name`` kept, and ``collapsed`` (how many
    siblings), ``hidden`` (rows folded away, the siblings and all under them), ``failed``,
    ``p50_ms``, ``p95_ms``, ``max_ms``, ``span_ids`` (of the siblings), ``start_ts`` (the
    earliest start) and ``duration_ms`` (from it to the latest end) added. Other rows are
    returned as they are (as dicts).
    """
    parents, ends = _structure(rows)
    groups: dict[tuple[int, str], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault((parents[i], str(row.get("name"))), []).append(i)
    folded: dict[int, list[int]] = {}  # first member -> the group
    member: set[int] = set()
    for (_, name), indexes in groups.items():
        if len(indexes) >= max(2, min_repeat) and name not in expand:
            folded[indexes[0]] = indexes
            member.update(indexes)
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(rows):
        if i in member:
            if i in folded:
                indexes = folded[i]
                hidden = sum(ends[j] - j for j in indexes)
                out.append(group_row([rows[j] for j in indexes], hidden))
            i = ends[i]
            continue
        out.append(dict(rows[i]))
        i += 1
    return out


def group_row(members: Sequence[Row], hidden: int | None = None) -> dict[str, Any]:
    """One row standing for ``members`` (siblings of one name): see :func:`collapse`."""
    first = members[0]
    durations = [float(m["duration_ms"]) for m in members if m.get("duration_ms") is not None]
    starts = [m["start_ts"] for m in members if m.get("start_ts") is not None]
    ends = [
        m["start_ts"] + timedelta(milliseconds=float(m["duration_ms"]))
        for m in members
        if m.get("start_ts") is not None and m.get("duration_ms") is not None
    ]
    row = dict(first)
    row.update(
        collapsed=len(members),
        hidden=len(members) if hidden is None else hidden,
        failed=sum(1 for m in members if m.get("status") == "error"),
        unfinished=sum(1 for m in members if m.get("status") == "unfinished"),
        p50_ms=quantile(durations, 0.5),
        p95_ms=quantile(durations, 0.95),
        max_ms=max(durations, default=None),
        span_ids=[m.get("span_id") for m in members],
        status="ok",
        error_type=None,
        error_message=None,
        attributes={},
    )
    if starts:
        row["start_ts"] = min(starts)
        if ends:
            row["duration_ms"] = (max(ends) - row["start_ts"]).total_seconds() * 1000
    return row
