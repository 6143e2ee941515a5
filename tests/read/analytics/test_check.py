"""Plugin ranges, status lines and perfdata; burn-rate rules on histories with known budgets."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest

from logtrace.read.analytics.check import (
    CheckResult,
    Perf,
    Range,
    Slo,
    Status,
    evaluate,
    evaluate_slo,
    load_slos,
    worst,
)

# The perfdata grammar of the Monitoring Plugins development guidelines.
PERF = re.compile(
    r"'(?P<label>(?:[^']|'')+)'=(?P<value>-?[0-9.]+)(?P<uom>[a-zA-Z%]*)"
    r"(?:;(?P<warn>[^; ]*))?(?:;(?P<crit>[^; ]*))?(?:;(?P<min>[^; ]*))?(?:;(?P<max>[^; ]*))?"
)


@pytest.mark.parametrize(
    ("text", "quiet", "loud"),
    [
        ("10", [0, 5, 10], [-1, 10.5]),
        ("10:", [10, 1e9], [9.99, -5]),
        ("~:10", [-1e9, 10], [10.01]),
        ("10:20", [10, 15, 20], [9, 21]),
        ("@10:20", [9, 21], [10, 15, 20]),
        ("0.5", [0.25], [0.75]),
    ],
)
def test_ranges_alert_as_the_plugins_guidelines_say(
    text: str, quiet: list[float], loud: list[float]
) -> None:
    """Each form of the range syntax alerts outside (or with @, inside) its range."""
    r = Range.parse(text)
    assert not any(r.alerts(v) for v in quiet)
    assert all(r.alerts(v) for v in loud)


@pytest.mark.parametrize("text", ["", "abc", "20:10", "1:2:3", "@", "nan", "~"])
def test_bad_ranges_are_one_clear_error(text: str) -> None:
    """Malformed ranges raise ValueError naming the forms that work."""
    with pytest.raises(ValueError, match="range"):
        Range.parse(text)


def parse_plugin_output(line: str) -> tuple[str, str, list[dict[str, str]]]:
    """(status word, text, perfdata items) as a Nagios-style runner splits a status line."""
    head, _, perf = line.partition("|")
    match = re.fullmatch(r"(\S+) (OK|WARNING|CRITICAL|UNKNOWN) - (.*)", head.strip())
    assert match is not None, line
    matches = list(PERF.finditer(perf))
    assert " ".join(m[0] for m in matches) == perf.strip(), perf  # nothing left unparsed
    return match[2], match[3], [m.groupdict() for m in matches]


def test_status_lines_and_perfdata_parse_as_a_runner_reads_them() -> None:
    """Status word, text and every perfdata field come back out of the line."""
    result = CheckResult(
        Status.WARNING,
        "p95 of fetch 231 ms",
        [Perf("p95 fetch", 231.5, "ms", "200", "500", 0), Perf("it's", 3, "c")],
    )
    word, text, perf = parse_plugin_output(result.line())
    assert (word, text) == ("WARNING", "p95 of fetch 231 ms")
    assert perf[0] == {
        "label": "p95 fetch",
        "value": "231.5",
        "uom": "ms",
        "warn": "200",
        "crit": "500",
        "min": "0",
        "max": None,
    }
    assert perf[1]["label"] == "it''s" and perf[1]["uom"] == "c"
    assert result.to_dict()["code"] == 1


def test_evaluate_and_worst() -> None:
    """crit beats warn; no value is UNKNOWN; the worst of several is CRITICAL first."""
    warn, crit = Range.parse("~:100"), Range.parse("~:200")
    assert evaluate(50, warn, crit) is Status.OK
    assert evaluate(150, warn, crit) is Status.WARNING
    assert evaluate(250, warn, crit) is Status.CRITICAL
    assert evaluate(None, warn, crit) is Status.UNKNOWN
    assert worst([Status.OK, Status.UNKNOWN, Status.WARNING]) is Status.WARNING
    assert worst([Status.CRITICAL, Status.UNKNOWN]) is Status.CRITICAL


def history(
    hours: float, per_minute: int, error_rate: float, seed: int = 0
) -> list[tuple[float, bool]]:
    """(seconds before now, failed) events at a steady rate and error rate."""
    rng = random.Random(seed)
    count = int(hours * 60 * per_minute)
    return [(i * 60 / per_minute, rng.random() < error_rate) for i in range(count)]


def counter(events: list[tuple[float, bool]]):  # type: ignore[no-untyped-def]
    def counts(slo: Slo, seconds: float) -> tuple[int, int]:
        inside = [bad for age, bad in events if age < seconds]
        return len(inside), sum(inside)

    return counts


SLO = Slo("api", objective=0.999, min_events=100)


def fired(events: list[tuple[float, bool]], slo: Slo = SLO) -> list[str]:
    return [
        f"{r.rule.severity}@{r.rule.burn_rate}"
        for r in evaluate_slo(slo, counter(events))
        if r.fired
    ]


def test_a_steady_burn_within_budget_is_quiet() -> None:
    """Three days at half the budget (0.05% errors, budget 0.1%): no rule fires."""
    assert fired(history(72, 20, 0.0005)) == []


def test_a_burn_of_twenty_pages_on_the_fast_rule() -> None:
    """An outage of the last 90 minutes at 2% errors (burn 20): the 14.4 rule pages."""
    recent = history(1.5, 60, 0.02, seed=1)
    older = [(age + 5400, bad) for age, bad in history(70, 60, 0.0, seed=2)]
    result = fired(recent + older)
    assert result == ["page@14.4"]  # 6 h: 0.5% errors, burn 5; 3 d: burn 0.4


def test_a_burn_that_has_stopped_does_not_page() -> None:
    """Errors an hour ago, none in the last five minutes: the short window keeps it quiet."""
    events = [(age, bad and age > 600) for age, bad in history(2, 60, 0.03, seed=3)]
    assert "page@14.4" not in fired(events)


def test_a_slow_burn_opens_a_ticket() -> None:
    """Three days at 1.5 times the budget: a ticket, no page."""
    assert fired(history(72, 10, 0.0015, seed=4)) == ["ticket@1.0"]


def test_the_minimum_volume_guard_keeps_a_quiet_hour_quiet() -> None:
    """One failure among 20 events in an hour is a burn of 50, but under min_events: quiet."""
    events = [(i * 180.0, i == 0) for i in range(20)]
    results = evaluate_slo(SLO, counter(events))
    assert not any(r.fired for r in results)
    assert results[0].long_burn == pytest.approx(50) and "min_events" in results[0].reason


def test_rules_come_from_toml(tmp_path: Path) -> None:
    """[[slo]] tables with rules of their own; without rules, the workbook's three."""
    path = tmp_path / "slo.toml"
    path.write_text(
        """
[[slo]]
name = "tasks"
span = "coordinate tasks"
objective = 0.99
latency = "300ms"
min_events = 10

[[slo.rule]]
severity = "page"
burn_rate = 10
long = "1h"
short = "5m"

[[slo]]
objective = 0.999
service = "worker"
"""
    )
    first, second = load_slos(path)
    assert first.span == "coordinate tasks" and first.latency_ms == 300
    assert [(r.burn_rate, r.long_s, r.short_s) for r in first.rules] == [(10, 3600, 300)]
    assert [r.burn_rate for r in second.rules] == [14.4, 6.0, 1.0]
    assert math.isclose(second.budget, 0.001)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[slo]]\nobjective = 2\n", "objective"),
        ("[[slo]]\nname = 'x'\n", "missing 'objective'"),
        ("nothing = 1\n", "no \\[\\[slo\\]\\]"),
        ("[[slo\n", "slo.toml"),
        (
            "[[slo]]\nobjective = 0.9\n[[slo.rule]]\nburn_rate = 2\nlong = 'x'\nshort = '5m'\n",
            "duration",
        ),
    ],
)
def test_bad_rule_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    """A bad file is a ValueError that says what is wrong."""
    path = tmp_path / "slo.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_slos(path)
