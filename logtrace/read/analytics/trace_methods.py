"""The questions of trace trees, as Reader methods: the critical path and self times of one
trace, critical-path shares over many, two traces side by side, advice (one trace or a
window's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from logtrace.read.analytics.advise import Finding, Thresholds, advise, summarize_findings
from logtrace.read.analytics.compare import PathChange, compare_trees
from logtrace.read.analytics.critical_path import (
    CriticalPath,
    NameShare,
    critical_path,
    critical_path_of,
    intervals,
    summarize,
)
from logtrace.read.analytics.reads import Reads, Row, When
from logtrace.read.arguments import checked, count, instance, instances, text, time

__all__ = ["TraceMethods"]


class TraceMethods:
    """Critical path, self times, two traces compared and advice over a Reader's files."""

    def critical_path(self: Reads, trace_id: str) -> CriticalPath:
        """The critical path of one trace, and the self time of each of its spans.

        Returns a :class:`~logtrace.read.analytics.critical_path.CriticalPath`: ``sections``
        (span_id, name, start_ms, end_ms: ms from the trace's earliest start, in time order),
        ``on_path_ms`` and ``self_ms`` per span id, ``total_ms``; ``to_dict()`` for JSON.

        Raises:
            ReadError: malformed id; TraceNotFound: no such trace.
        """
        trace = self.trace(trace_id)
        return critical_path(trace.spans, trace.trace_id)

    def self_times(self: Reads, trace_id: str) -> dict[str, float]:
        """Per span id of one trace, its self time in ms (duration minus its children's)."""
        return TraceMethods.critical_path(self, trace_id).self_ms

    @checked(name=text, since=time, until=time, limit=count(optional=True))
    def critical_path_summary(
        self: Reads,
        *,
        name: str | None = None,
        since: When = None,
        until: When = None,
        limit: int = 1000,
    ) -> list[NameShare]:
        """Per span name, its share of the critical path and of self time over many traces.

        Args:
            name: only traces with a span of this name (e.g. the root's, "coordinate tasks").
            since, until: traces that started in this window.
            limit: at most this many traces, the newest.
        """
        rows = self.query(
            "window_spans",
            since=since,
            until=until,
            name=name,
            limit=limit,
        )
        return summarize(_per_trace_paths(rows))

    def compare_traces(self: Reads, first: str, second: str) -> list[PathChange]:
        """Two traces side by side: per ancestral path of span names, counts and time."""
        return compare_trees(self.trace(first).spans, self.trace(second).spans)

    @checked(
        since=time,
        until=time,
        name=text,
        limit=count(optional=True),
        thresholds=instance(Thresholds, optional=True),
    )
    def advise(
        self: Reads,
        trace_id: str | None = None,
        *,
        since: When = None,
        until: When = None,
        name: str | None = None,
        limit: int = 200,
        thresholds: Thresholds | None = None,
    ) -> list[Finding]:
        """Patterns that point at a fix, in one trace or in the traces of a window (newest
        ``limit``, with a span ``name`` if given), biggest saving first; see
        :mod:`logtrace.read.analytics.advise` for the patterns and their thresholds."""
        if trace_id is not None:
            trace = self.trace(trace_id)
            return advise(trace.spans, trace.trace_id, thresholds)
        rows = self.query(
            "window_spans",
            since=since,
            until=until,
            name=name,
            limit=limit,
        )
        found: list[Finding] = []
        for tid, spans in _group(rows).items():
            found.extend(advise(spans, tid, thresholds))
        found.sort(key=lambda f: (-f.saving_ms, f.trace_id, f.span_id))
        return found

    @checked(findings=instances(Finding))
    def advice_summary(self: Reads, findings: Sequence[Finding]) -> list[dict[str, Any]]:
        """Findings grouped by pattern and span name (traces, summed saving, an example)."""
        return summarize_findings(findings)


def _group(rows: list[Row]) -> dict[str, list[Row]]:
    traces: dict[str, list[Row]] = {}
    for row in rows:
        traces.setdefault(str(row["trace_id"]), []).append(row)
    return traces


def _per_trace_paths(rows: list[Row]) -> list[tuple[CriticalPath, list[Any]]]:
    result = []
    for tid, spans in _group(rows).items():
        spans_ms = intervals(spans)
        result.append((critical_path_of(spans_ms, tid), spans_ms))
    return result
