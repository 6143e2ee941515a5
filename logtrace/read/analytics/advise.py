"""Suggestions from traces: patterns in a trace's spans that point at a fix.

Each finding names the pattern, the span it is about, its evidence (span ids, counts) and the
time that could be saved. The patterns, each with its thresholds in :class:`Thresholds` (every
one a flag of ``logtrace advise``):

- ``n_plus_one``: at least ``repeats`` siblings of one name under one parent, one after
  another, never overlapping (a query per item: batch them). Saving: their sum minus the
  longest (about what one batched call takes).
- ``serial``: the children of one parent, of at least two names and ``serial`` or more, run
  one after another without overlap and fill at least ``serial_share`` of the parent (could
  they run concurrently?). Saving: their sum minus the longest.
- ``self_time``: a span with children whose own time (not in any child) is at least
  ``self_share`` of its duration: the time is in its own code (or a wait on something not
  traced), not in what it calls. Saving: the self time (what there is to win by looking).
- ``retry_storm``: at least ``retries`` siblings of one name under one parent of which all
  but at most one failed. Saving: the time of the failed attempts.
- ``fanout_skew``: at least ``fanout`` siblings of one name running concurrently where the
  slowest takes at least ``skew`` times their median (one worker holds up the fan-out).
  Saving: slowest minus median.

Findings whose saving is under ``min_ms`` are left out. Pure Python over rows of the
``spans`` view.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from logtrace.read.analytics.critical_path import Interval, intervals, self_times_of
from logtrace.read.analytics.stats import quantile

__all__ = ["PATTERNS", "Finding", "Thresholds", "advise", "summarize_findings"]

PATTERNS = ("n_plus_one", "serial", "self_time", "retry_storm", "fanout_skew")
_EVIDENCE = 10  # span ids kept as evidence per finding


@dataclass(frozen=True)
class Thresholds:
    """When a pattern counts (see the module's docstring); each is a flag of the CLI."""

    repeats: int = 5
    serial: int = 2
    serial_share: float = 0.5
    self_share: float = 0.8
    retries: int = 3
    fanout: int = 3
    skew: float = 2.0
    min_ms: float = 1.0


@dataclass(frozen=True)
class Finding:
    """One pattern found in one trace: about span ``span_id`` (the parent of the group, or the
    span itself) and spans named ``name``; ``evidence`` holds up to 10 span ids."""

    pattern: str
    trace_id: str
    span_id: str
    name: str
    count: int
    saving_ms: float
    message: str
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return asdict(self)


def _sequential(group: Sequence[Interval]) -> bool:
    """True when no two of ``group`` (sorted by start) overlap."""
    return all(b.start_ms >= a.end_ms for a, b in itertools.pairwise(group))


def _ms(spans: Iterable[Interval]) -> float:
    return sum(s.end_ms - s.start_ms for s in spans)


def advise(
    rows: Iterable[Mapping[str, Any]], trace_id: str = "", thresholds: Thresholds | None = None
) -> list[Finding]:
    """The findings of one trace's spans (rows of the ``spans`` view), biggest saving first."""
    t = thresholds or Thresholds()
    rows = list(rows)
    failed = {str(r["span_id"]) for r in rows if r.get("status") == "error"}
    spans = intervals(rows)
    by_id = {s.span_id: s for s in spans}
    children: dict[str, list[Interval]] = {}
    for s in spans:
        if s.parent_id is not None and s.parent_id in by_id and s.parent_id != s.span_id:
            children.setdefault(s.parent_id, []).append(s)
    found: list[Finding] = []
    for parent_id, kids in children.items():
        kids.sort(key=lambda s: (s.start_ms, s.span_id))
        parent = by_id[parent_id]
        found.extend(_serial(parent, kids, trace_id, t))
        by_name: dict[str, list[Interval]] = {}
        for kid in kids:
            by_name.setdefault(kid.name, []).append(kid)
        for name, group in by_name.items():
            found.extend(_groups(parent, name, group, failed, trace_id, t))
    own = self_times_of(spans, children)
    for span_id, kids in children.items():
        span = by_id[span_id]
        duration = span.end_ms - span.start_ms
        if duration > 0 and own[span_id] >= t.self_share * duration:
            found.append(
                Finding(
                    "self_time", trace_id, span_id, span.name, len(kids), own[span_id],
                    f"{own[span_id] / duration:.0%} of {span.name} is outside its "
                    f"{len(kids)} child spans: its own work, or a wait on something untraced",
                    [span_id],
                )
            )  # fmt: skip
    found = [f for f in found if f.saving_ms >= t.min_ms]
    found.sort(key=lambda f: (-f.saving_ms, f.pattern, f.span_id))
    return found


def _serial(
    parent: Interval, kids: Sequence[Interval], trace_id: str, t: Thresholds
) -> list[Finding]:
    duration = parent.end_ms - parent.start_ms
    names = {k.name for k in kids}
    if len(kids) < max(2, t.serial) or len(names) < 2 or duration <= 0 or not _sequential(kids):
        return []
    total = _ms(kids)
    if total < t.serial_share * duration:
        return []
    longest = max(k.end_ms - k.start_ms for k in kids)
    return [
        Finding(
            "serial", trace_id, parent.span_id, parent.name, len(kids), total - longest,
            f"the {len(kids)} children of {parent.name} ({', '.join(sorted(names))}) run one "
            "after another; run concurrently, they could take only the longest",
            [k.span_id for k in kids[:_EVIDENCE]],
        )
    ]  # fmt: skip


def _groups(
    parent: Interval,
    name: str,
    group: Sequence[Interval],
    failed: set[str],
    trace_id: str,
    t: Thresholds,
) -> list[Finding]:
    """The same-name patterns of one group of siblings: N+1, retry storm, fan-out skew."""
    found = []
    count = len(group)
    evidence = [s.span_id for s in group[:_EVIDENCE]]
    durations = [s.end_ms - s.start_ms for s in group]
    sequential = _sequential(group)
    if count >= t.repeats and sequential:
        found.append(
            Finding(
                "n_plus_one", trace_id, parent.span_id, name, count,
                sum(durations) - max(durations),
                f"{count} {name} one after another under {parent.name}: batch them",
                evidence,
            )
        )  # fmt: skip
    failures = [s for s in group if s.span_id in failed]
    if count >= t.retries and len(failures) >= count - 1:
        found.append(
            Finding(
                "retry_storm", trace_id, parent.span_id, name, count, _ms(failures),
                f"{len(failures)} of {count} {name} under {parent.name} failed: a retry "
                "storm (back off, or fix the cause)",
                [s.span_id for s in failures[:_EVIDENCE]],
            )
        )  # fmt: skip
    if count >= t.fanout and not sequential:
        median = quantile(durations, 0.5) or 0.0
        slowest = max(group, key=lambda s: s.end_ms - s.start_ms)
        longest = slowest.end_ms - slowest.start_ms
        if median > 0 and longest >= t.skew * median:
            found.append(
                Finding(
                    "fanout_skew", trace_id, parent.span_id, name, count, longest - median,
                    f"one of {count} concurrent {name} under {parent.name} takes "
                    f"{longest / median:.1f} times their median: it holds up the fan-out",
                    [slowest.span_id],
                )
            )  # fmt: skip
    return found


def summarize_findings(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings over many traces grouped by (pattern, name): ``pattern``, ``name``,
    ``traces``, ``findings``, ``saving_ms`` (summed), ``example_trace``, ``example_span``;
    the biggest saving first."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        group = groups.setdefault(
            (f.pattern, f.name),
            {
                "pattern": f.pattern,
                "name": f.name,
                "traces": set(),
                "findings": 0,
                "saving_ms": 0.0,
                "example_trace": f.trace_id,
                "example_span": f.span_id,
                "message": f.message,
            },
        )
        group["traces"].add(f.trace_id)
        group["findings"] += 1
        group["saving_ms"] += f.saving_ms
    rows = [{**g, "traces": len(g["traces"])} for g in groups.values()]
    rows.sort(key=lambda g: (-g["saving_ms"], g["pattern"], g["name"]))
    return rows
