"""A against B: per span name, did it get slower, fail more, appear more or less often?

Statistics as Go's benchstat reports them, with Kayenta's Hodges-Lehmann shift:

- per side: n, errors, error rate, p50 and p95 with their distribution-free intervals;
- the change of the median in %, the Mann-Whitney U p-value, the Hodges-Lehmann shift of B
  against A and its interval;
- a verdict: ``~`` when p >= alpha (not significant), else ``↑`` (B slower) or ``↓`` (B faster);
  a *regression* is ``↑`` where even the low end of the shift's interval is more than
  ``threshold_pct`` of A's median: B is slower by more than the threshold with confidence, not
  merely by a noisy median (so an A/A comparison of 300 traces a side stays quiet);
- a note when a side has fewer than ``min_samples`` spans (Kayenta wants 50);
- the structure: spans of each name per trace on each side, as Jaeger's trace diff counts them
  (``same``, ``added``, ``removed``, ``more``, ``less``).

Two single traces are compared by :func:`compare_trees`: each span keyed by its ancestral path
(the names from the root down to it), counted and timed on each side.

Pure Python, no DuckDB: the Reader collects the samples (``queries/span_samples.sql``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from logtrace.read.analytics.stats import (
    Estimate,
    hodges_lehmann,
    mann_whitney,
    quantile,
    quantile_interval,
)

__all__ = [
    "Comparison",
    "NameChange",
    "PathChange",
    "Samples",
    "SideStats",
    "StructureChange",
    "compare_samples",
    "compare_trees",
    "structure_kind",
]

ALPHA = 0.05
THRESHOLD_PCT = 5.0
MIN_SAMPLES = 50
CONFIDENCE = 0.95
# Spans per trace that differ by less than this fraction count as the same structure.
STRUCTURE_TOLERANCE = 0.10


@dataclass
class Samples:
    """One side of a comparison: per span name its durations (finished spans), its span and
    error counts, and how many traces the side holds."""

    label: str
    durations: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    traces: int = 0

    @classmethod
    def from_rows(cls, label: str, rows: Iterable[Mapping[str, Any]]) -> Samples:
        """From rows with ``trace_id``, ``name``, ``status``, ``duration_ms`` (unfinished spans
        count as spans, without a duration)."""
        side = cls(label)
        trace_ids = set()
        for row in rows:
            name = str(row.get("name") or "?")
            trace_ids.add(row.get("trace_id"))
            side.counts[name] = side.counts.get(name, 0) + 1
            if row.get("status") == "error":
                side.errors[name] = side.errors.get(name, 0) + 1
            if row.get("duration_ms") is not None:
                side.durations.setdefault(name, []).append(float(row["duration_ms"]))
        side.traces = len(trace_ids)
        return side


@dataclass(frozen=True)
class SideStats:
    """One side's figures for one span name."""

    n: int
    errors: int
    error_rate: float | None
    p50: Estimate
    p95: Estimate


@dataclass(frozen=True)
class NameChange:
    """One span name, A against B (``change_pct``: of the median; ``p``: Mann-Whitney U)."""

    name: str
    a: SideStats
    b: SideStats
    change_pct: float | None
    p: float | None
    shift_ms: Estimate
    verdict: str
    regression: bool
    error_rate_change: float | None
    note: str | None


@dataclass(frozen=True)
class StructureChange:
    """Spans of one name per trace on each side, and how that changed."""

    name: str
    a_per_trace: float
    b_per_trace: float
    change: str


@dataclass(frozen=True)
class Comparison:
    """Everything compare found; ``to_dict()`` for JSON."""

    a_label: str
    b_label: str
    a_traces: int
    b_traces: int
    names: list[NameChange]
    structure: list[StructureChange]
    alpha: float
    threshold_pct: float

    @property
    def regressions(self) -> list[NameChange]:
        """The names significantly slower by more than the threshold."""
        return [n for n in self.names if n.regression]

    def nothing_compared(self) -> str | None:
        """``no traces in B (version=1.5.0): nothing was compared``, or None when both sides
        have traces. A side without any is a mistyped attribute, value, service, folder or
        window: ``logtrace compare`` exits 2 on it (a gate in CI must not pass) and the web
        view answers 400."""
        empty = [
            f"{side} ({label})"
            for side, label, traces in (
                ("A", self.a_label, self.a_traces),
                ("B", self.b_label, self.b_traces),
            )
            if not traces
        ]
        return f"no traces in {' or '.join(empty)}: nothing was compared" if empty else None

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain dicts and lists (``regressions``: their names)."""
        result = asdict(self)
        result["regressions"] = [n.name for n in self.regressions]
        return result


def _side(values: list[float], count: int, errors: int, confidence: float) -> SideStats:
    def estimate(q: float) -> Estimate:
        low, high = quantile_interval(values, q, confidence)
        return Estimate(quantile(values, q), low, high)

    rate = errors / count if count else None
    return SideStats(len(values), errors, rate, estimate(0.5), estimate(0.95))


def _verdict(p: float | None, change: float | None, alpha: float) -> str:
    if p is None or change is None:
        return "?"
    if p >= alpha:
        return "~"
    return "↑" if change > 0 else "↓"


def compare_samples(
    a: Samples,
    b: Samples,
    *,
    alpha: float = ALPHA,
    threshold_pct: float = THRESHOLD_PCT,
    min_samples: int = MIN_SAMPLES,
    confidence: float = CONFIDENCE,
    tolerance: float = STRUCTURE_TOLERANCE,
) -> Comparison:
    """Compare two sides name by name (see the module's docstring for what each figure is).

    Args:
        alpha: the significance level of the U test.
        threshold_pct: a significant slowdown whose shift interval lies wholly above this % of
            A's median is a regression.
        min_samples: fewer spans than this on a side adds a note ("few samples").
        confidence: of the intervals of p50, p95 and the shift.
        tolerance: spans per trace within this fraction of each other are the "same".
    """
    names = sorted(set(a.counts) | set(b.counts), key=lambda n: (-a.counts.get(n, 0), n))
    rows = []
    for name in names:
        da, db = a.durations.get(name, []), b.durations.get(name, [])
        sa = _side(da, a.counts.get(name, 0), a.errors.get(name, 0), confidence)
        sb = _side(db, b.counts.get(name, 0), b.errors.get(name, 0), confidence)
        p = change = None
        shift = Estimate(None, None, None)
        if da and db:
            p = mann_whitney(da, db).p
            shift = hodges_lehmann(da, db, confidence)
            if sa.p50.value and sb.p50.value is not None:
                change = (sb.p50.value - sa.p50.value) / sa.p50.value * 100
        verdict = _verdict(p, change, alpha)
        note = None
        if min(len(da), len(db)) < min_samples:
            note = f"few samples (n<{min_samples})" if da and db else "only on one side"
        rate_change = None
        if sa.error_rate is not None and sb.error_rate is not None:
            rate_change = sb.error_rate - sa.error_rate
        regression = (
            verdict == "↑"
            and shift.low is not None
            and bool(sa.p50.value)
            and shift.low / float(sa.p50.value or 1) * 100 > threshold_pct
        )
        rows.append(
            NameChange(name, sa, sb, change, p, shift, verdict, regression, rate_change, note)
        )
    structure = [
        _structure(
            name, a.counts.get(name, 0), a.traces, b.counts.get(name, 0), b.traces, tolerance
        )
        for name in names
    ]
    return Comparison(a.label, b.label, a.traces, b.traces, rows, structure, alpha, threshold_pct)


def structure_kind(a: float, b: float, tolerance: float = 0.0) -> str:
    """``same``, ``added`` (only in B), ``removed`` (only in A), ``more`` or ``less``."""
    if a == 0 and b == 0:
        return "same"
    if a == 0:
        return "added"
    if b == 0:
        return "removed"
    if abs(b - a) <= tolerance * max(a, b):
        return "same"
    return "more" if b > a else "less"


def _structure(
    name: str, count_a: int, traces_a: int, count_b: int, traces_b: int, tolerance: float
) -> StructureChange:
    per_a = count_a / traces_a if traces_a else 0.0
    per_b = count_b / traces_b if traces_b else 0.0
    return StructureChange(name, per_a, per_b, structure_kind(per_a, per_b, tolerance))


@dataclass(frozen=True)
class PathChange:
    """One ancestral path (root name / ... / span name) in two traces: counts and total ms."""

    path: str
    a_count: int
    b_count: int
    a_ms: float
    b_ms: float
    change: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return asdict(self)


def _paths(spans: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, float]]:
    """Per ancestral path of names, (spans, summed duration ms); loops in bad data are cut."""
    rows = list(spans)
    by_id = {str(r["span_id"]): r for r in rows}
    cache: dict[str, str] = {}

    def path_of(span_id: str) -> str:
        chain: list[str] = []
        seen: set[str] = set()
        current: str | None = span_id
        while current is not None and current in by_id and current not in seen:
            if current in cache:
                chain.append(cache[current])
                break
            seen.add(current)
            chain.append(str(by_id[current].get("name") or "?"))
            parent = by_id[current].get("parent_id")
            current = None if parent is None else str(parent)
        text = " / ".join(reversed(chain))
        cache[span_id] = text
        return text

    result: dict[str, tuple[int, float]] = {}
    for row in rows:
        key = path_of(str(row["span_id"]))
        count, total = result.get(key, (0, 0.0))
        result[key] = (count + 1, total + float(row.get("duration_ms") or 0.0))
    return result


def compare_trees(
    a: Iterable[Mapping[str, Any]], b: Iterable[Mapping[str, Any]]
) -> list[PathChange]:
    """Two traces' spans side by side, keyed by ancestral path, changes first, then by path."""
    pa, pb = _paths(a), _paths(b)
    rows = []
    for key in sorted(set(pa) | set(pb)):
        (ca, ma), (cb, mb) = pa.get(key, (0, 0.0)), pb.get(key, (0, 0.0))
        rows.append(PathChange(key, ca, cb, ma, mb, structure_kind(ca, cb)))
    rows.sort(key=lambda r: (r.change == "same", r.path))
    return rows
