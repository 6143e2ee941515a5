"""Where the time of one trace goes: its critical path and each span's self time.

The critical path is computed as Jaeger UI computes it (``TracePage/CriticalPath/``), per root
(a span without parent, or whose parent is not in the files):

1. Children that start at or after their parent's end, or end at or before its start, are left
   off (with everything under them); the rest are clamped to their parent's interval, depth
   first, parent first (so a grandchild is clamped to its clamped parent).
2. Walk back from the root's end. At a span with a bound (the start of the child we came back
   from), its *last-finishing child* is the child with the latest end strictly before the bound
   (without a bound: the latest end of all). With one, the span owns [child end, bound or span
   end] and the walk goes into that child, without a bound. Without one, the span owns
   [span start, bound or span end] and the walk returns to its parent with the bound = this
   span's start. Zero-length sections are skipped.

So gaps between children are charged to the parent, and a sibling that overlaps the
last-finishing child is not on the path. Both walks are iterative (a chain 10,000 deep is
fine) and linear after sorting each span's children once.

Self time (Jaeger's ``compute-span-self-time``): a span's duration minus the union of its
children's intervals clamped to it.

Times are milliseconds from the trace's earliest start. A span still unfinished is taken to run
to the last moment the trace shows (the latest end or start of any span).

This module is pure Python (no DuckDB); it works on rows of the ``spans`` view (or of
``queries/trace_tree.sql``): dicts with ``span_id``, ``parent_id``, ``name``, ``start_ts``,
``duration_ms`` (and optionally ``end_ts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "CriticalPath",
    "Interval",
    "NameShare",
    "Section",
    "critical_path",
    "critical_path_of",
    "intervals",
    "self_times",
    "self_times_of",
    "summarize",
]


@dataclass(frozen=True)
class Interval:
    """One span's place in time: ms from the trace's earliest start."""

    span_id: str
    parent_id: str | None
    name: str
    start_ms: float
    end_ms: float


@dataclass(frozen=True)
class Section:
    """A stretch of the critical path: span ``span_id`` owns [start_ms, end_ms)."""

    span_id: str
    name: str
    start_ms: float
    end_ms: float

    @property
    def duration_ms(self) -> float:
        """How long the section is."""
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class CriticalPath:
    """The critical path of one trace.

    ``sections`` are in time order (earliest first), over all roots; ``on_path_ms`` maps each
    span id on the path to the ms of the path it owns; ``self_ms`` maps every span id to its
    self time; ``total_ms`` is the length of the path (the sum of the sections).
    ``to_dict()`` gives the same as plain JSON-ready dicts and lists.
    """

    trace_id: str
    sections: list[Section] = field(default_factory=list)
    on_path_ms: dict[str, float] = field(default_factory=dict)
    self_ms: dict[str, float] = field(default_factory=dict)

    @property
    def total_ms(self) -> float:
        """The length of the path: the sum of its sections."""
        return sum(s.duration_ms for s in self.sections)

    def to_dict(self) -> dict[str, Any]:
        """``{"trace_id", "total_ms", "sections": [{span_id, name, start_ms, end_ms,
        duration_ms}], "on_path_ms": {span_id: ms}, "self_ms": {span_id: ms}}``."""
        return {
            "trace_id": self.trace_id,
            "total_ms": self.total_ms,
            "sections": [{**asdict(s), "duration_ms": s.duration_ms} for s in self.sections],
            "on_path_ms": dict(self.on_path_ms),
            "self_ms": dict(self.self_ms),
        }


def intervals(rows: Iterable[Mapping[str, Any]]) -> list[Interval]:
    """Rows of the ``spans`` view as intervals in ms from the earliest start.

    The end is start + ``duration_ms`` (the monotonic clock of the end line); an unfinished span
    (no duration) ends at the latest moment any span of the trace shows.
    """
    rows = [r for r in rows if r.get("start_ts") is not None]
    if not rows:
        return []
    begin: datetime = min(r["start_ts"] for r in rows)
    starts = [(r["start_ts"] - begin).total_seconds() * 1000 for r in rows]
    ends: list[float | None] = [
        None if r.get("duration_ms") is None else s + float(r["duration_ms"])
        for r, s in zip(rows, starts, strict=True)
    ]
    last = max([e for e in ends if e is not None] + starts)
    return [
        Interval(
            str(r["span_id"]),
            None if r.get("parent_id") is None else str(r["parent_id"]),
            str(r.get("name") or "?"),
            s,
            last if e is None else max(s, e),
        )
        for r, s, e in zip(rows, starts, ends, strict=True)
    ]


def _children(spans: Sequence[Interval]) -> tuple[list[Interval], dict[str, list[Interval]]]:
    """The tops (no parent, or a parent not among ``spans``) and each span's children."""
    ids = {s.span_id for s in spans}
    children: dict[str, list[Interval]] = {}
    tops = []
    for s in spans:
        if s.parent_id is None or s.parent_id not in ids or s.parent_id == s.span_id:
            tops.append(s)
        else:
            children.setdefault(s.parent_id, []).append(s)
    return sorted(tops, key=lambda s: (s.start_ms, s.span_id)), children


def _sanitized(top: Interval, children: Mapping[str, list[Interval]]) -> dict[str, Interval]:
    """The subtree of ``top`` with children clamped to their parent, the outside ones dropped."""
    kept = {top.span_id: top}
    stack = [top]
    while stack:
        parent = stack.pop()
        for child in children.get(parent.span_id, ()):
            if child.span_id in kept:  # bad data: a loop
                continue
            if child.start_ms >= parent.end_ms or child.end_ms <= parent.start_ms:
                continue
            clamped = Interval(
                child.span_id,
                parent.span_id,
                child.name,
                max(child.start_ms, parent.start_ms),
                min(child.end_ms, parent.end_ms),
            )
            kept[child.span_id] = clamped
            stack.append(clamped)
    return kept


def _path_of(top: Interval, tree: dict[str, Interval]) -> list[Section]:
    """Jaeger's walk over one sanitized tree, iteratively; sections latest first."""
    by_end: dict[str, list[Interval]] = {}
    for s in tree.values():
        if s.parent_id is not None and s is not top:
            by_end.setdefault(s.parent_id, []).append(s)
    for kids in by_end.values():
        kids.sort(key=lambda s: (-s.end_ms, s.start_ms, s.span_id))
    # Bounds met at a span only decrease, so each span's list is scanned once, front to back.
    cursor = dict.fromkeys(by_end, 0)
    sections: list[Section] = []
    span: Interval | None = top
    bound: float | None = None
    while span is not None:
        kids = by_end.get(span.span_id, [])
        i = cursor.get(span.span_id, 0)
        if bound is not None:
            while i < len(kids) and kids[i].end_ms >= bound:
                i += 1
            cursor[span.span_id] = i
        end = span.end_ms if bound is None else bound
        if i < len(kids):
            child = kids[i]
            if child.end_ms < end:
                sections.append(Section(span.span_id, span.name, child.end_ms, end))
            span, bound = child, None
        else:
            if span.start_ms < end:
                sections.append(Section(span.span_id, span.name, span.start_ms, end))
            if span is top or span.parent_id is None:
                span = None
            else:
                span, bound = tree[span.parent_id], span.start_ms
    return sections


def critical_path(rows: Iterable[Mapping[str, Any]], trace_id: str = "") -> CriticalPath:
    """The critical path and self times of one trace's spans (rows of the ``spans`` view).

    Args:
        rows: the trace's spans: ``span_id``, ``parent_id``, ``name``, ``start_ts``,
            ``duration_ms``.
        trace_id: kept on the result.
    """
    spans = intervals(rows)
    return critical_path_of(spans, trace_id)


def critical_path_of(spans: Sequence[Interval], trace_id: str = "") -> CriticalPath:
    """:func:`critical_path` over intervals already in ms."""
    tops, children = _children(spans)
    sections: list[Section] = []
    for top in tops:
        sections.extend(_path_of(top, _sanitized(top, children)))
    sections.sort(key=lambda s: (s.start_ms, s.end_ms))
    on_path: dict[str, float] = {}
    for s in sections:
        on_path[s.span_id] = on_path.get(s.span_id, 0.0) + s.duration_ms
    return CriticalPath(trace_id, sections, on_path, self_times_of(spans, children))


def self_times(rows: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per span id, its self time in ms: its duration minus the union of its children's
    intervals clamped to it."""
    spans = intervals(rows)
    return self_times_of(spans, _children(spans)[1])


def self_times_of(
    spans: Sequence[Interval], children: Mapping[str, list[Interval]] | None = None
) -> dict[str, float]:
    """:func:`self_times` over intervals already in ms."""
    if children is None:
        children = _children(spans)[1]
    result = {}
    for span in spans:
        covered = _union_within(children.get(span.span_id, ()), span.start_ms, span.end_ms)
        result[span.span_id] = max(0.0, span.end_ms - span.start_ms - covered)
    return result


def _union_within(kids: Iterable[Interval], low: float, high: float) -> float:
    """The length of the union of the intervals of ``kids`` clamped to [low, high]."""
    parts = sorted(
        (max(k.start_ms, low), min(k.end_ms, high))
        for k in kids
        if k.end_ms > low and k.start_ms < high
    )
    total = 0.0
    reach = low
    for start, end in parts:
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


@dataclass(frozen=True)
class NameShare:
    """One span name's part in many traces' critical paths and self time.

    ``critical_ms``/``self_ms`` are summed over the traces; ``critical_share`` is
    ``critical_ms`` over the summed length of all the paths, ``self_share`` ``self_ms`` over
    all self time (so each column adds up to 1); ``traces`` counts the traces where the name is
    on the path, ``spans`` its spans in all the traces.
    """

    name: str
    spans: int
    traces: int
    critical_ms: float
    critical_share: float
    self_ms: float
    self_share: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return asdict(self)


def summarize(paths: Iterable[tuple[CriticalPath, Sequence[Interval]]]) -> list[NameShare]:
    """Per span name, its share of the critical path and of self time over many traces, the
    biggest share of the path first.

    Args:
        paths: per trace, its critical path and its spans (as :func:`intervals`).
    """
    spans: dict[str, int] = {}
    traces: dict[str, int] = {}
    critical: dict[str, float] = {}
    own: dict[str, float] = {}
    for path, trace_spans in paths:
        names = {s.span_id: s.name for s in trace_spans}
        for s in trace_spans:
            spans[s.name] = spans.get(s.name, 0) + 1
            own[s.name] = own.get(s.name, 0.0) + path.self_ms.get(s.span_id, 0.0)
        seen = set()
        for span_id, ms in path.on_path_ms.items():
            name = names.get(span_id, "?")
            critical[name] = critical.get(name, 0.0) + ms
            seen.add(name)
        for name in seen:
            traces[name] = traces.get(name, 0) + 1
    total_path = sum(critical.values()) or 1.0
    total_self = sum(own.values()) or 1.0
    shares = [
        NameShare(
            name,
            spans[name],
            traces.get(name, 0),
            critical.get(name, 0.0),
            critical.get(name, 0.0) / total_path,
            own.get(name, 0.0),
            own.get(name, 0.0) / total_self,
        )
        for name in spans
    ]
    shares.sort(key=lambda s: (-s.critical_ms, -s.self_ms, s.name))
    return shares
