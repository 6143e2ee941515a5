"""The questions of windows of spans, as Reader methods: one window against another (a
:class:`Side` each: a time range, a service, an attribute, other files) and spans per time
bucket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from logtrace.read.analytics.compare import Comparison, Samples, compare_samples
from logtrace.read.analytics.reads import Reads, When
from logtrace.read.arguments import (
    checked,
    count,
    instance,
    probability,
    text,
    threshold_pct,
    time,
    width_ms,
    wrong,
)
from logtrace.read.filters import when

__all__ = ["Side", "WindowMethods"]

_EPOCH = datetime(1970, 1, 1)


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


class WindowMethods:
    """Comparisons of windows and time series over a Reader's files."""

    @checked(
        a=instance(Side),
        b=instance(Side),
        alpha=probability,
        threshold_pct=threshold_pct,
        min_samples=count(),
        confidence=probability,
    )
    def compare(
        self: Reads,
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

    @checked(every=width_ms, since=time, until=time, name=text, service=text)
    def timeseries(
        self: Reads,
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
            # isoformat, not strftime: %Y does not pad a year before 1000 (``1-01-01``).
            text = bucket.replace(tzinfo=None).isoformat(timespec="microseconds")
            row["bucket"] = text.removesuffix(".000000") + "Z"
        return rows


def _samples(reader: Reads, side: Side) -> Samples:
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
