"""The analytics as methods of :class:`logtrace.read.reader.Reader` (a mixin it inherits).

``reader.critical_path(trace_id)``, ``reader.self_times(trace_id)``,
``reader.critical_path_summary(...)``, ``reader.compare(a, b)``, ``reader.compare_traces(t1,
t2)``, ``reader.check(...)``, ``reader.check_slos(...)``, ``reader.advise(...)``,
``reader.timeseries(every=...)``. Each reads with the SQL of ``queries/`` and hands the rows to
the pure modules of this package. Every result is a dataclass with ``to_dict()`` or plain
dicts, ready for JSON.

Times given as ``since``/``until``/``now`` may be a ``datetime`` (naive: UTC; aware: converted
to UTC), a ``timedelta`` (that long before now) or text as the CLI takes it (``1h``, ``2d``,
``2026-11-24T13:00``): see :func:`logtrace.read.filters.when`. A wrong argument (None for a
number, a limit of -1 or 1e30, text for a Side) is a ReadError naming it and what it takes
(see :mod:`logtrace.read.arguments`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from logtrace.format import fields as f
from logtrace.read.analytics.advise import Finding, Thresholds, advise, summarize_findings
from logtrace.read.analytics.check import (
    CheckResult,
    Perf,
    Range,
    RuleResult,
    Slo,
    Status,
    evaluate,
    evaluate_slo,
    load_slos,
    worst,
)
from logtrace.read.analytics.compare import (
    Comparison,
    PathChange,
    Samples,
    compare_samples,
    compare_trees,
)
from logtrace.read.analytics.critical_path import (
    CriticalPath,
    NameShare,
    critical_path,
    intervals,
    summarize,
)
from logtrace.read.arguments import (
    checked,
    count,
    instance,
    instances,
    number,
    range_text,
    text,
    threshold_pct,
    time,
    width_ms,
    wrong,
)
from logtrace.read.files import ReadError
from logtrace.read.filters import now_utc, when

__all__ = ["METRICS", "Analytics", "Side", "When"]

When = datetime | timedelta | str | None
Row = dict[str, Any]
# What `check` can measure: name -> (query, column, unit of perfdata).
METRICS = ("p50", "p95", "p99", "error_rate", "unfinished", "dropped", "event_rate")
_EPOCH = datetime(1970, 1, 1)


class _Reads(Protocol):
    """What the mixin needs of the Reader."""

    path: str

    def query(self, name: str, /, **params: Any) -> list[Row]: ...

    def trace(self, trace_id: str) -> Any: ...


@dataclass(frozen=True)
class Side:
    """One side of a comparison: spans that started in [since, until), of ``service`` and
    span ``name`` (None: any), of traces with attribute ``attr`` = (key, value), read from
    ``directory`` (None: the reader's own files)."""

    label: str
    since: When = None
    until: When = None
    service: str | None = None
    name: str | None = None
    attr: tuple[str, str] | None = None
    directory: str | Path | None = None

    def __post_init__(self) -> None:
        for field in ("service", "name"):
            text(field, getattr(self, field))
        attr = self.attr
        if attr is not None and not (
            isinstance(attr, tuple) and len(attr) == 2 and all(isinstance(x, str) for x in attr)
        ):
            raise wrong("attr", attr, "a (key, value) pair of text, such as ('region', 'eu')")


class Analytics:
    """Critical path, comparison, checks, advice and time series over a Reader's files."""

    def critical_path(self: _Reads, trace_id: str) -> CriticalPath:
        """The critical path of one trace, and the self time of each of its spans.

        Returns a :class:`~logtrace.read.analytics.critical_path.CriticalPath`: ``sections``
        (span_id, name, start_ms, end_ms: ms from the trace's earliest start, in time order),
        ``on_path_ms`` and ``self_ms`` per span id, ``total_ms``; ``to_dict()`` for JSON.

        Raises:
            ReadError: malformed id; TraceNotFound: no such trace.
        """
        trace = self.trace(trace_id)
        return critical_path(trace.spans, trace.trace_id)

    def self_times(self: _Reads, trace_id: str) -> dict[str, float]:
        """Per span id of one trace, its self time in ms (duration minus its children's)."""
        return Analytics.critical_path(self, trace_id).self_ms

    @checked(name=text, since=time, until=time, limit=count(optional=True))
    def critical_path_summary(
        self: _Reads,
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

    @checked(
        a=instance(Side),
        b=instance(Side),
        alpha=number(0, 1, ends=False),
        threshold_pct=threshold_pct,
        min_samples=count(),
        confidence=number(0, 1, ends=False),
    )
    def compare(
        self: _Reads,
        a: Side,
        b: Side,
        *,
        alpha: float = 0.05,
        threshold_pct: float = 5.0,
        min_samples: int = 50,
        confidence: float = 0.95,
    ) -> Comparison:
        """A against B per span name: p50/p95 with intervals, change, Mann-Whitney U p-value,
        Hodges-Lehmann shift, verdict, error rates and structure (see
        :mod:`logtrace.read.analytics.compare`).

        Args:
            alpha: the significance level, between 0 and 1.
            threshold_pct: a regression is slower by more than this % of A's median with
                confidence: from 0 to 10000.
            min_samples: fewer spans than this on a side are noted as few.
            confidence: of the intervals, between 0 and 1.
        """
        return compare_samples(
            _samples(self, a),
            _samples(self, b),
            alpha=alpha,
            threshold_pct=threshold_pct,
            min_samples=min_samples,
            confidence=confidence,
        )

    def compare_traces(self: _Reads, first: str, second: str) -> list[PathChange]:
        """Two traces side by side: per ancestral path of span names, counts and time."""
        return compare_trees(self.trace(first).spans, self.trace(second).spans)

    @checked(warn=range_text, crit=range_text, name=text, service=text, event=text, kind=text)
    def check(
        self: _Reads,
        metric: str,
        *,
        warn: str | None = None,
        crit: str | None = None,
        name: str | None = None,
        service: str | None = None,
        event: str | None = None,
        since: When = "1h",
        now: When = None,
        kind: str | None = None,
    ) -> CheckResult:
        """One check over a window, as a monitoring plugin reports it.

        Args:
            metric: ``p50``, ``p95``, ``p99`` (ms, of spans named ``name`` or all),
                ``error_rate`` (%, of those spans), ``unfinished`` (spans started in the
                window and not ended), ``dropped`` (lines the writers dropped),
                ``event_rate`` (log lines of ``event`` per minute).
            warn, crit: ranges in the plugins' syntax (``200``, ``~:200``, ``@10:20``).
            name, service, kind: the spans measured (p50 to p99, error_rate): every span of
                ``name``, of all services and kinds unless ``service`` or ``kind`` is given.
            since: the window's start (default: an hour before ``now``).
            now: the window's end (default: now).

        Raises:
            ReadError: an unknown metric, a bad range, event_rate without an event.
        """
        # Converted here, not by @checked: since is relative to the window's end, not to now.
        end = when(now, name="now") or now_utc()
        start = when(since, end, name="since")
        try:
            ranges = [None if r is None else Range.parse(r) for r in (warn, crit)]
        except ValueError as error:
            raise ReadError(str(error)) from None
        if kind is not None and kind not in f.KINDS:
            raise ReadError(f"kind {kind!r}: give one of {', '.join(f.KINDS)}")
        spans = _Spans(name, service, kind)
        value, label, uom, text = _measure(self, metric, spans, event, start, end)
        status = evaluate(value, ranges[0], ranges[1])
        if value is None:
            return CheckResult(Status.UNKNOWN, f"{text}: nothing measured")
        shown = f"{value:.4g}{' ' + uom if uom else ''}"
        perf = Perf(label, value, uom, warn or "", crit or "", 0)
        return CheckResult(status, f"{text} {shown}", [perf])

    @checked(slos=instances(Slo, str, Path))
    def check_slos(
        self: _Reads, slos: Sequence[Slo] | str | Path, *, now: When = None
    ) -> tuple[CheckResult, list[RuleResult]]:
        """Burn-rate rules of SLOs (or of a TOML file of them) over the windows up to ``now``:
        CRITICAL when a page rule fires, WARNING when a ticket rule does.

        Raises:
            ReadError: the file cannot be read or holds a bad rule.
        """
        if isinstance(slos, (str, Path)):
            try:
                slos = load_slos(slos)
            except ValueError as error:
                raise ReadError(str(error)) from None
        end = when(now, name="now") or now_utc()

        def counts(slo: Slo, seconds: float) -> tuple[int, int]:
            row = self.query(
                "slo_counts",
                since=end - timedelta(seconds=seconds),
                until=end,
                name=slo.span,
                service=slo.service,
                latency_ms=slo.latency_ms,
            )[0]
            return int(row["events"]), int(row["bad"])

        results = [r for slo in slos for r in evaluate_slo(slo, counts)]
        return _slo_result(results), results

    @checked(
        since=time,
        until=time,
        name=text,
        limit=count(optional=True),
        thresholds=instance(Thresholds, optional=True),
    )
    def advise(
        self: _Reads,
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
    def advice_summary(self: _Reads, findings: Sequence[Finding]) -> list[dict[str, Any]]:
        """Findings grouped by pattern and span name (traces, summed saving, an example)."""
        return summarize_findings(findings)

    @checked(every=width_ms, since=time, until=time, name=text, service=text)
    def timeseries(
        self: _Reads,
        every: float | timedelta | str = "5m",
        *,
        since: When = None,
        until: When = None,
        name: str | None = None,
        service: str | None = None,
    ) -> list[dict[str, Any]]:
        """Spans per time bucket, oldest first, empty buckets included: the data of a plot.

        Each row: ``bucket`` (ISO 8601 UTC text, ``2026-12-01T00:05:00Z``), ``bucket_ms`` (ms
        since the epoch), ``count``, ``errors``, ``unfinished``, ``error_rate`` (None when
        empty), ``p50_ms``, ``p95_ms``, ``p99_ms``, ``max_ms`` (None when empty).

        Args:
            every: the bucket width: ms, a timedelta, or text (``30s``, ``5m``, ``1h``), from
                1 µs to 10000 weeks.
            since, until: spans that started in this window; given, they bound the buckets.
            name, service: only spans of this name, of this service.
        """
        rows = self.query(
            "span_timeseries",
            every_ms=every,
            since=since,
            until=until,
            name=name,
            service=service,
        )
        for row in rows:
            bucket: datetime = row["bucket"]
            row["bucket_ms"] = round((bucket - _EPOCH).total_seconds() * 1000)
            row["bucket"] = bucket.strftime("%Y-%m-%dT%H:%M:%S.%f").removesuffix(".000000") + "Z"
        return rows


def _group(rows: list[Row]) -> dict[str, list[Row]]:
    traces: dict[str, list[Row]] = {}
    for row in rows:
        traces.setdefault(str(row["trace_id"]), []).append(row)
    return traces


def _per_trace_paths(rows: list[Row]) -> list[tuple[CriticalPath, list[Any]]]:
    from logtrace.read.analytics.critical_path import critical_path_of

    result = []
    for tid, spans in _group(rows).items():
        spans_ms = intervals(spans)
        result.append((critical_path_of(spans_ms, tid), spans_ms))
    return result


def _samples(reader: _Reads, side: Side) -> Samples:
    params = {
        "since": when(side.since, name="since"),
        "until": when(side.until, name="until"),
        "service": side.service,
        "name": side.name,
        "attr_key": None if side.attr is None else side.attr[0],
        "attr_value": None if side.attr is None else side.attr[1],
    }
    if side.directory is None:
        return Samples.from_rows(side.label, reader.query("span_samples", **params))
    from logtrace.read.reader import open as open_logs

    with open_logs(side.directory) as other:
        return Samples.from_rows(side.label, other.query("span_samples", **params))


@dataclass(frozen=True)
class _Spans:
    """The spans a check measures: of this name, service and kind (None: any)."""

    name: str | None
    service: str | None
    kind: str | None


def _measure(
    reader: _Reads,
    metric: str,
    spans: _Spans,
    event: str | None,
    start: datetime | None,
    end: datetime,
) -> tuple[float | None, str, str, str]:
    """(value, perfdata label, unit, text) of one metric over [start, end)."""
    name, service = spans.name, spans.service
    what = f" of {name}" if name else ""
    if metric in ("p50", "p95", "p99", "error_rate"):
        # One row per name: the percentiles over every service and kind chosen.
        rows = reader.query(
            "span_percentiles_no_attr",
            since=start, until=end, service=service, name=name, kind=spans.kind, status=None,
            min_duration_ms=None, by_name=True,
        )  # fmt: skip
        count = sum(r["count"] for r in rows)
        if metric == "error_rate":
            errors = sum(r["errors"] for r in rows)
            value = None if not count else errors / count * 100
            return value, "error_rate", "%", f"error rate{what}"
        value = rows[0][f"{metric}_ms"] if len(rows) == 1 else None
        if name is None and len(rows) > 1:
            raise ReadError(f"check {metric}: give --name, the span whose durations to check")
        return value, metric, "ms", f"{metric}{what}"
    if metric == "unfinished":
        rows = reader.query("unfinished_spans", now=end, limit=1_000_000)
        value = float(sum(1 for r in rows if start is None or r["start_ts"] >= start))
        return value, "unfinished", "", "unfinished spans"
    if metric == "dropped":
        row = reader.query("dropped_lines", since=start, until=end, service=service)[0]
        return float(row["dropped"]), "dropped", "c", "dropped lines"
    if metric == "event_rate":
        if not event:
            raise ReadError("check event_rate: give --event, the log event to count")
        row = reader.query(
            "event_counts", event=event, since=start, until=end, service=service, level=None
        )[0]
        minutes = ((end - start).total_seconds() / 60) if start is not None else math.nan
        value = None if not minutes or math.isnan(minutes) else row["lines"] / minutes
        return value, "event_rate", "", f"{event!r} lines per minute"
    raise ReadError(f"unknown check {metric!r} (known: {', '.join(METRICS)})")


def _slo_result(results: list[RuleResult]) -> CheckResult:
    statuses = [
        (Status.CRITICAL if r.rule.severity == "page" else Status.WARNING)
        for r in results
        if r.fired
    ]
    status = worst(statuses)
    fired = [r for r in results if r.fired]
    if fired:
        text = "; ".join(
            f"{r.slo} burns {r.long_burn:.3g}x over {_span(r.rule.long_s)} and "
            f"{r.short_burn:.3g}x over {_span(r.rule.short_s)} ({r.rule.severity})"
            for r in fired
        )
    else:
        text = f"{len({r.slo for r in results})} SLOs within their burn rates"
    perf = [
        Perf(
            f"{r.slo} burn {_span(r.rule.long_s)}", round(r.long_burn, 4), "", str(r.rule.burn_rate)
        )
        for r in results
    ]
    unique = list({p.label: p for p in perf}.values())
    return CheckResult(status, text, unique)


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
