"""Chrome trace event JSON, for Perfetto (ui.perfetto.dev) and ``chrome://tracing``.

``{"traceEvents": [...]}`` with times in microseconds from the earliest span. A process of the
files is a process of the trace (``process_name``: service, pid, host). Spans are complete
events (``ph: "X"``) on tracks (threads) of their process, placed so that the events of one
track always nest, as the format demands: a span goes on its parent's track when its parent is
the innermost span open there and holds it, else on the first track with nothing open, else on
a new one (concurrent spans that overlap without nesting get tracks of their own). So a span is
drawn inside its ancestors only, never inside an unrelated span that happens to hold it (which
Perfetto would show as its parent), and placing one is a heap operation, not a look at every
track. Thread tracks, not async events, because flow arrows bind to thread slices: a span
whose parent is in another process gets an arrow from the parent (``ph: "s"``) to its start
(``ph: "f"``, ``bp: "e"``). Span events and log lines are instant events (``ph: "i"``) on
their span's track.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

from .model import Log, Resource, Span

_NS_PER_US = 1000
# A span's key: span ids are unique within their trace only.
_Key = tuple[str, str]


class _Track:
    __slots__ = ("open", "tid")

    def __init__(self, tid: int) -> None:
        self.tid = tid
        # (end time in ns, (trace id, span id)) of the spans open on this track, each inside
        # the one before
        self.open: list[tuple[int, _Key]] = []

    def holds(self, start_ns: int, end_ns: int, parent: _Key) -> bool:
        """Whether a child of ``parent`` goes here: the innermost span still open at its
        start is its parent, and holds it; or nothing is open."""
        while self.open and self.open[-1][0] <= start_ns:
            self.open.pop()
        if not self.open:
            return True
        innermost_end, innermost = self.open[-1]
        return innermost == parent and innermost_end >= end_ns


class _Tracks:
    """The tracks of one process; spans placed in order of their start."""

    __slots__ = ("busy", "free", "lanes")

    def __init__(self) -> None:
        self.lanes: list[_Track] = []
        # (end of the outermost open span, tid) of tracks with something open; entries of
        # tracks that emptied since are stale and skipped.
        self.busy: list[tuple[int, int]] = []
        self.free: list[int] = []  # tids of tracks whose spans have all ended

    def place(self, span: Span, parent_tid: int | None) -> int:
        """The tid of the track for ``span``: its parent's, if the parent is the innermost
        span open there and holds it (or nothing is open there); else the first track with
        nothing open; else a new one."""
        start_ns = span.start_ns
        while self.busy and self.busy[0][0] <= start_ns:
            ends, tid = heapq.heappop(self.busy)
            lane = self.lanes[tid - 1]
            if lane.open and lane.open[0][0] == ends:
                lane.open.clear()
                heapq.heappush(self.free, tid)
        if parent_tid is not None and span.parent_id:
            lane = self.lanes[parent_tid - 1]
            if lane.holds(start_ns, span.end_ns, (span.trace_id, span.parent_id)):
                return self._open(lane, span)
        while self.free:
            lane = self.lanes[heapq.heappop(self.free) - 1]
            if not lane.open:  # else taken since by a child of a span it held
                return self._open(lane, span)
        lane = _Track(len(self.lanes) + 1)
        self.lanes.append(lane)
        return self._open(lane, span)

    def _open(self, lane: _Track, span: Span) -> int:
        if not lane.open:
            heapq.heappush(self.busy, (span.end_ns, lane.tid))
        lane.open.append((span.end_ns, (span.trace_id, span.span_id)))
        return lane.tid


def chrome_trace(spans: Iterable[Span], logs: Iterable[Log] = ()) -> dict[str, Any]:
    """The Chrome trace event JSON (a dict) of ``spans`` and ``logs``."""
    spans = sorted(spans, key=lambda s: (s.start_ns, -s.end_ns, s.span_id))
    logs = list(logs)
    starts = [s.start_ns for s in spans] + [log.time_ns for log in logs]
    origin = min(starts) if starts else 0

    def us(ns: int) -> float:
        return round((ns - origin) / _NS_PER_US, 3)

    pids = _pids({s.resource for s in spans} | {log.resource for log in logs})
    events: list[dict[str, Any]] = []
    for resource, pid in pids.items():
        label = f"{resource.service} (pid {resource.pid}, {resource.host})"
        events.append(_meta("process_name", pid, 0, label))
    tracks: dict[int, _Tracks] = {}
    placed: dict[_Key, tuple[int, int, Span]] = {}  # (trace id, span id) -> (pid, tid, span)
    for span in spans:
        pid = pids[span.resource]
        parent = placed.get((span.trace_id, span.parent_id or ""))
        parent_tid = parent[1] if parent and parent[2].resource == span.resource else None
        tid = tracks.setdefault(pid, _Tracks()).place(span, parent_tid)
        placed[span.trace_id, span.span_id] = (pid, tid, span)
        events.append(_complete(span, pid, tid, us))
        for event in span.events:
            events.append(_instant(event.name, us(event.time_ns), pid, tid, event.attributes))
    for pid, process in tracks.items():
        for lane in process.lanes:
            name = "spans" if lane.tid == 1 else f"spans ({lane.tid})"
            events.append(_meta("thread_name", pid, lane.tid, name))
    events.extend(_flows(spans, placed, us))
    for log in logs:
        where = placed.get((log.trace_id or "", log.span_id or ""))
        pid, tid = (where[0], where[1]) if where else (pids[log.resource], 1)
        args = {"level": log.level, "logger": log.logger, **log.attributes}
        events.append(_instant(log.message, us(log.time_ns), pid, tid, args))
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"origin_ns": origin}}


def _pids(resources: set[Resource]) -> dict[Resource, int]:
    """A Chrome pid per process: its own pid, or the next free number when two share one."""
    out: dict[Resource, int] = {}
    taken: set[int] = set()
    for resource in sorted(resources):
        pid = resource.pid if resource.pid > 0 else 1
        while pid in taken:
            pid += 1
        taken.add(pid)
        out[resource] = pid
    return out


def _complete(span: Span, pid: int, tid: int, us: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"trace_id": span.trace_id, "span_id": span.span_id}
    if span.parent_id:
        args["parent_id"] = span.parent_id
    if span.kind != "internal":
        args["kind"] = span.kind
    args["status"] = span.status
    if span.error_type or span.error_message:
        args["error"] = f"{span.error_type or 'error'}: {span.error_message or ''}".rstrip(": ")
    args.update(span.attributes)
    start = us(span.start_ns)
    return {
        "name": span.name,
        "cat": span.resource.service,
        "ph": "X",
        "ts": start,
        "dur": round(us(span.end_ns) - start, 3),
        "pid": pid,
        "tid": tid,
        "args": args,
    }


def _instant(name: str, ts: float, pid: int, tid: int, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "cat": "log",
        "ph": "i",
        "s": "t",
        "ts": ts,
        "pid": pid,
        "tid": tid,
        "args": args,
    }


def _meta(kind: str, pid: int, tid: int, name: str) -> dict[str, Any]:
    return {"name": kind, "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}


def _flows(
    spans: list[Span], placed: dict[_Key, tuple[int, int, Span]], us: Any
) -> list[dict[str, Any]]:
    """Arrows from a parent span to each child that runs in another process."""
    out: list[dict[str, Any]] = []
    for number, span in enumerate(spans, start=1):
        parent = placed.get((span.trace_id, span.parent_id or ""))
        if parent is None or parent[2].resource == span.resource:
            continue
        pid, tid, parent_span = parent
        # The arrow leaves the parent inside its slice (flows bind to the enclosing slice).
        leave = min(max(span.start_ns, parent_span.start_ns), parent_span.end_ns)
        child = placed[span.trace_id, span.span_id]
        common = {"name": "child span", "cat": "flow", "id": number}
        out.append({**common, "ph": "s", "ts": us(leave), "pid": pid, "tid": tid})
        out.append(
            {
                **common,
                "ph": "f",
                "bp": "e",
                "ts": us(span.start_ns),
                "pid": child[0],
                "tid": child[1],
            }
        )
    return out
