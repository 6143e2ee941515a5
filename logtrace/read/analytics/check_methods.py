"""Alert checks and SLOs, as Reader methods: one metric over a window against warning and
critical ranges (:data:`METRICS`), and SLOs' burn-rate rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from logtrace.format import fields as f
from logtrace.format.shown import short_repr
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
from logtrace.read.analytics.reads import Reads, When
from logtrace.read.arguments import checked, instances, range_text, text
from logtrace.read.files import ReadError
from logtrace.read.filters import now_utc, when

__all__ = ["METRICS", "CheckMethods"]

# What `check` can measure (see _measure: the query, the perfdata label and unit of each).
METRICS = ("p50", "p95", "p99", "error_rate", "unfinished", "dropped", "event_rate")


class CheckMethods:
    """Alert checks and SLO burn rates over a Reader's files."""

    @checked(warn=range_text, crit=range_text, name=text, service=text, event=text, kind=text)
    def check(
        self: Reads,
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
            raise ReadError(f"kind {short_repr(kind)}: give one of {', '.join(f.KINDS)}")
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
        self: Reads, slos: Sequence[Slo] | str | Path, *, now: When = None
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


@dataclass(frozen=True)
class _Spans:
    """The spans a check measures: of this name, service and kind (None: any)."""

    name: str | None
    service: str | None
    kind: str | None


def _measure(
    reader: Reads,
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
    raise ReadError(f"unknown check {short_repr(metric)} (known: {', '.join(METRICS)})")


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
