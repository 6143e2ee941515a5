"""Chrome/Perfetto trace JSON, checked against the rules of the Trace Event Format.

No offline validator exists, so the rules are written here from the format's specification
(the "Trace Event Format" document, and Perfetto's notes on its JSON importer):
- a JSON object with ``traceEvents``, a list of events with ``name``, ``ph``, ``pid``, ``tid``;
- ``ts`` and ``dur`` in microseconds; complete events (``X``) need ``dur`` >= 0;
- duration events of one thread (pid, tid) must nest: two either don't overlap or one holds
  the other;
- metadata (``M``) ``process_name``/``thread_name`` with ``args.name``;
- instant events (``i``) with scope ``s`` in g/p/t;
- flow events: an ``s`` and an ``f`` with the same ``cat`` and ``id``; each binds to the slice
  that encloses it on its own thread (``bp: "e"`` for the end of the flow), so such a slice
  must exist.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from _export_helpers import written

import logtrace
from logtrace import export
from logtrace.export.chrome import chrome_trace
from logtrace.export.model import Log, Resource, Span

PHASES = {"X", "B", "E", "i", "I", "M", "s", "t", "f", "b", "e", "n", "C"}

__all__ = ["written"]


def check_chrome(document: Any) -> None:
    """Raise AssertionError where ``document`` breaks a rule of the format."""
    assert isinstance(document, dict) and isinstance(document["traceEvents"], list)
    slices: dict[tuple[int, int], list[tuple[int, int]]] = {}
    named_processes, named_threads = set(), set()
    flows: dict[tuple[str, Any], dict[str, Any]] = {}
    for event in document["traceEvents"]:
        assert event["ph"] in PHASES, event
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int), event
        assert isinstance(event["name"], str)
        if event["ph"] == "M":
            assert event["name"] in ("process_name", "thread_name", "process_sort_index",
                                     "thread_sort_index") and "name" in event["args"]  # fmt: skip
            target = named_processes if event["name"] == "process_name" else named_threads
            target.add(event["pid"] if event["name"] == "process_name" else
                       (event["pid"], event["tid"]))  # fmt: skip
            continue
        assert isinstance(event["ts"], (int, float)) and event["ts"] >= 0, event
        if event["ph"] == "X":
            assert isinstance(event["dur"], (int, float)) and event["dur"] >= 0, event
            start = round(event["ts"] * 1000)
            slices.setdefault((event["pid"], event["tid"]), []).append(
                (start, start + round(event["dur"] * 1000))
            )
        elif event["ph"] == "i":
            assert event.get("s", "t") in ("g", "p", "t")
        elif event["ph"] in ("s", "f"):
            key = (event["cat"], event["id"])
            assert (key, event["ph"]) not in flows, f"flow {key} {event['ph']} twice"
            flows[(key, event["ph"])] = event  # type: ignore[index]
    for thread, spans in slices.items():
        assert thread in named_threads and thread[0] in named_processes, thread
        spans.sort(key=lambda s: (s[0], -s[1]))
        stack: list[tuple[int, int]] = []
        for start, end in spans:
            while stack and stack[-1][1] <= start:
                stack.pop()
            assert not stack or end <= stack[-1][1], f"{thread}: {start, end} overlaps {stack[-1]}"
            stack.append((start, end))
    for (key, phase), event in flows.items():
        other = "f" if phase == "s" else "s"
        assert (key, other) in flows, f"flow {key} has no {other}"
        at = round(event["ts"] * 1000)
        around = slices.get((event["pid"], event["tid"]), [])
        assert any(s <= at <= e for s, e in around), f"flow {key} {phase}: no enclosing slice"
        if phase == "f":
            assert event.get("bp") == "e"


def _document(directory: Path) -> Any:
    out = io.BytesIO()
    with logtrace.open(directory) as reader:
        export.write(reader, out, "chrome")
    return orjson.loads(out.getvalue())


def test_written_traces_follow_the_format_rules(written: Path) -> None:
    """Real traces (threads, a worker process) give a document that keeps every rule."""
    document = _document(written)
    check_chrome(document)
    complete = [e for e in document["traceEvents"] if e["ph"] == "X"]
    assert len(complete) == 10
    names = {e["args"]["name"] for e in document["traceEvents"] if e["name"] == "process_name"}
    assert len(names) == 3 and any(n.startswith("worker (pid") for n in names)


def test_concurrent_spans_that_do_not_nest_get_their_own_track(written: Path) -> None:
    """The two overlapping thread spans of a trace sit on different tracks of one process."""
    document = _document(written)
    sides = [e for e in document["traceEvents"] if e["name"].startswith("side ")]
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for event in sides:
        by_trace.setdefault(event["args"]["trace_id"], []).append(event)
    overlapping = 0
    for pair in by_trace.values():
        assert len(pair) == 2 and pair[0]["pid"] == pair[1]["pid"]
        (a, b) = sorted(pair, key=lambda e: e["ts"])
        a_end, b_end = a["ts"] + a["dur"], b["ts"] + b["dur"]
        if b["ts"] < a_end < b_end:  # overlap without nesting (the writer arranges it)
            overlapping += 1
            assert a["tid"] != b["tid"]
    assert overlapping >= 1


def test_child_in_another_process_gets_a_flow_arrow(written: Path) -> None:
    """The worker's span is the end of a flow that starts in its parent, in the coordinator."""
    document = _document(written)
    events = document["traceEvents"]
    starts = [e for e in events if e["ph"] == "s"]
    ends = [e for e in events if e["ph"] == "f"]
    assert len(starts) == len(ends) == 2
    work = {e["pid"] for e in events if e["ph"] == "X" and e["name"] == "work"}
    assert {e["pid"] for e in ends} == work and not work & {e["pid"] for e in starts}


def test_the_checks_catch_spans_that_do_not_nest() -> None:
    """Two overlapping, non-nesting complete events on one thread break the rules."""
    document = {"traceEvents": [
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "t"}},
        {"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "p"}},
        {"name": "a", "ph": "X", "ts": 0, "dur": 10, "pid": 1, "tid": 1},
        {"name": "b", "ph": "X", "ts": 5, "dur": 10, "pid": 1, "tid": 1},
    ]}  # fmt: skip
    with pytest.raises(AssertionError, match="overlaps"):
        check_chrome(document)


def test_many_overlapping_spans_keep_the_rules() -> None:
    """Staggered spans of one process (each overlapping the next) never share a track badly."""
    resource = Resource("svc", "h", 7)
    spans = [Span(f"{1:032x}", f"{n + 1:016x}", None, f"s{n}", resource, n * 10, n * 10 + 25)
             for n in range(20)]  # fmt: skip
    document = chrome_trace(spans)
    check_chrome(document)
    assert len({e["tid"] for e in document["traceEvents"] if e["ph"] == "X"}) >= 3


def test_a_span_is_drawn_inside_its_ancestors_only() -> None:
    """Perfetto draws a slice inside another of its track as its child: a root span that
    happens to fall within another root span (two requests at once) gets its own track, and
    each span sits inside its ancestors only (the first track where it fit nested it inside
    any open span, related or not)."""
    rng = random.Random(7)
    resource = Resource("svc", "h", 7)
    spans: list[Span] = []
    for n in range(300):
        parent = rng.choice(spans) if spans and rng.random() < 0.7 else None
        low, high = (parent.start_ns, parent.end_ns) if parent else (0, 10_000)
        start = rng.randint(low, high - 1)
        end = rng.randint(start + 1, high)
        parent_id = parent.span_id if parent else None
        spans.append(Span(f"{1:032x}", f"{n + 1:016x}", parent_id, f"s{n}", resource, start, end))
    document = chrome_trace(spans)
    check_chrome(document)
    by_id = {s.span_id: s for s in spans}

    def ancestors(span_id: str) -> set[str]:
        out, parent = set(), by_id[span_id].parent_id
        while parent:
            out.add(parent)
            parent = by_id[parent].parent_id
        return out

    complete = [e for e in document["traceEvents"] if e["ph"] == "X"]
    for event in complete:
        s_id, start, end = event["args"]["span_id"], event["ts"], event["ts"] + event["dur"]
        holders = {
            other["args"]["span_id"]
            for other in complete
            if other is not event and other["tid"] == event["tid"]
            and other["ts"] <= start and other["ts"] + other["dur"] >= end
        }  # fmt: skip
        related = {h for h in holders if s_id in ancestors(h)}  # the same times as a child
        assert holders - related <= ancestors(s_id), (event["name"], holders - related)
    roots = [e for e in complete if "parent_id" not in e["args"]]
    assert len({e["tid"] for e in roots}) > 1  # overlapping roots: tracks of their own


def test_span_ids_shared_by_two_traces_keep_their_own_parents() -> None:
    """Span ids are unique within a trace only (an import keeps two traces' spans of one id):
    a child sits inside its own trace's parent, not inside the other trace's span of that id,
    and a log line goes on its own span's track."""
    resource, shared = Resource("svc", "h", 7), "00000000000000aa"
    spans = [Span("b" * 32, shared, None, "B root", resource, 0, 10),
             Span("a" * 32, shared, None, "A root", resource, 5, 100),
             Span("b" * 32, "00000000000000bb", shared, "B child", resource, 6, 9)]  # fmt: skip
    logs = [Log(7, "info", "in A", resource, "app", trace_id="a" * 32, span_id=shared)]
    document = chrome_trace(spans, logs)
    check_chrome(document)
    tid = {e["name"]: e["tid"] for e in document["traceEvents"] if e["ph"] in ("X", "i")}
    assert tid["B child"] == tid["B root"] != tid["A root"] == tid["in A"]
