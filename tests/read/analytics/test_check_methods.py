"""Alert checks and SLOs as Reader methods, on real files: each metric, its errors, burn rates
on generated histories."""

from __future__ import annotations

from pathlib import Path

import pytest
from _analytics_fixtures import (
    T0,
    at,
    dropped_line,
    log_line,
    requests,
    trace_id,
    trace_lines,
    write,
)

import logtrace
from logtrace.read.analytics.check import Slo, Status
from logtrace.read.files import ReadError


def test_checks_measure_each_metric(logs_dir: Path) -> None:
    """p95, error rate, unfinished spans, dropped lines and an event's rate, with statuses."""
    lines = requests(60, seed=1, error_rate=0.1)
    lines += trace_lines(trace_id(99), [("0000000000000009", None, "stuck", 30_000, None, "ok")])
    lines += [log_line(None, None, "cache miss", i * 1000.0) for i in range(30)]
    lines += [dropped_line(5000, 12)]
    write(logs_dir, "a", lines)
    now = at(60_000)
    with logtrace.open(logs_dir) as reader:
        p95 = reader.check("p95", name="fetch", warn="~:10", crit="~:1000", since=T0, now=now)
        rate = reader.check("error_rate", name="fetch", crit="~:5", since=T0, now=now)
        stuck = reader.check("unfinished", warn="0", since=T0, now=now)
        dropped = reader.check("dropped", crit="0", since=T0, now=now)
        events = reader.check("event_rate", event="cache miss", warn="~:10", since=T0, now=now)
        nothing = reader.check("p95", name="nothing", since=T0, now=now)
    assert p95.status is Status.WARNING and p95.perfdata[0].uom == "ms"
    assert rate.status is Status.CRITICAL
    assert stuck.status is Status.WARNING and stuck.perfdata[0].value == 1
    assert dropped.status is Status.CRITICAL and dropped.perfdata[0].value == 12
    assert events.status is Status.WARNING and events.perfdata[0].value == 30
    assert nothing.status is Status.UNKNOWN


def test_check_of_an_unknown_metric_or_bad_range_is_an_error(logs_dir: Path) -> None:
    """A metric that does not exist, or a malformed range, is a ReadError (UNKNOWN in the CLI)."""
    with logtrace.open(logs_dir) as reader:
        with pytest.raises(ReadError, match="unknown check"):
            reader.check("p42")
        with pytest.raises(ReadError, match="range"):
            reader.check("p95", warn="1:2:3")


def history(directory: Path, hours: int, bad_every: int, *, recent_bad_every: int = 0) -> None:
    """One span a minute for ``hours`` up to T0 + hours; every ``bad_every``-th fails (0:
    none); in the last hour every ``recent_bad_every``-th instead, when given."""
    lines = []
    total = hours * 60
    for i in range(total):
        every = recent_bad_every if recent_bad_every and i >= total - 60 else bad_every
        status = "error" if every and i % every == 0 else "ok"
        spec = [(f"{i + 1:016x}", None, "api", i * 60_000.0, 5.0, status)]
        lines += trace_lines(trace_id(i), spec)
    write(directory, "h", lines)


@pytest.mark.parametrize(
    ("bad_every", "recent", "expected"),
    [
        (2000, 0, Status.OK),  # 0.05% errors: half the budget of 99.9%
        (0, 4, Status.CRITICAL),  # the last hour at 25% errors: burn 250
        (500, 0, Status.WARNING),  # 0.2% over three days: burn 2, a ticket
    ],
)
def test_slo_burn_rates_on_generated_histories(
    logs_dir: Path, bad_every: int, recent: int, expected: Status
) -> None:
    """Known budgets: quiet within budget, a page on a fast burn, a ticket on a slow one."""
    history(logs_dir, 72, bad_every, recent_bad_every=recent)
    slo = Slo("api", objective=0.999, span="api", min_events=50)
    with logtrace.open(logs_dir) as reader:
        result, rules = reader.check_slos([slo], now=at(72 * 3_600_000))
    assert result.status is expected, result.line()
    assert len(rules) == 3
