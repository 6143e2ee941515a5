"""Alert checks as monitoring plugins write them, and SLO burn-rate rules.

Monitoring Plugins (Nagios, Icinga, Naemon, Sensu, Zabbix's plugin runner) conventions:

- exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments, unreadable data);
- one status line ``LOGTRACE OK - text | 'label'=value[UOM];[warn];[crit];[min];[max] ...``;
- thresholds in the range syntax: ``10`` alerts outside 0..10, ``10:`` below 10, ``~:10`` above
  10, ``10:20`` outside 10..20, ``@10:20`` inside 10..20.

SLO burn rates as the SRE workbook's multiwindow, multi-burn-rate alerts: the burn rate of a
window is its error rate over the error budget (1 - objective); a rule fires when both its long
and its short window burn faster than the rule's rate, and the long window holds at least
``min_events`` events (a quiet hour with one failure must not page). Rules come from a TOML
file (:func:`load_slos`); without rules, the workbook's three: page at 14.4 over 1 h and
5 min, page at 6 over 6 h and 30 min, ticket at 1 over 3 d and 6 h.

Pure Python, no DuckDB: the Reader measures the values (:meth:`Reader.check`).
"""

from __future__ import annotations

import enum
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logtrace.format.shown import short_repr
from logtrace.read.filters import WIDTH_HELP, parse_width_ms

__all__ = [
    "BurnRule",
    "CheckResult",
    "Perf",
    "Range",
    "RuleResult",
    "Slo",
    "Status",
    "evaluate",
    "evaluate_slo",
    "load_slos",
    "parse_seconds",
    "worst",
]


class Status(enum.IntEnum):
    """A plugin's exit status."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_RANGE_HELP = "use 10, 10:, ~:10, 10:20 or @10:20"


@dataclass(frozen=True)
class Range:
    """A threshold range in the Monitoring Plugins' syntax (``start:end``, ``@`` inverts)."""

    start: float
    end: float
    inside: bool
    text: str

    @classmethod
    def parse(cls, text: str) -> Range:
        """``10``, ``10:``, ``~:10``, ``10:20``, ``@10:20``.

        Raises:
            ValueError: not a range, or start above end.
        """
        body = text.strip()
        inside = body.startswith("@")
        body = body[1:] if inside else body
        start_text, sep, end_text = body.rpartition(":")
        if not sep:
            start_text, end_text = "", body
        if start_text == "~":
            start = -math.inf
        elif start_text == "" or _NUMBER.fullmatch(start_text):
            start = float(start_text or 0)
        else:
            raise ValueError(f"bad range {short_repr(text)}: {_RANGE_HELP}")
        if end_text == "" and sep:
            end = math.inf
        elif _NUMBER.fullmatch(end_text):
            end = float(end_text)
        else:
            raise ValueError(f"bad range {short_repr(text)}: {_RANGE_HELP}")
        if start > end:
            raise ValueError(f"bad range {short_repr(text)}: start above end")
        return cls(start, end, inside, text.strip())

    def alerts(self, value: float) -> bool:
        """True when ``value`` should raise the alert of this range."""
        within = self.start <= value <= self.end
        return within if self.inside else not within


@dataclass(frozen=True)
class Perf:
    """One performance-data item: ``'label'=value[UOM];warn;crit;min;max``."""

    label: str
    value: float
    uom: str = ""
    warn: str = ""
    crit: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def __str__(self) -> str:
        label = self.label.replace("'", "''")
        fields = [
            f"'{label}'={_number(self.value)}{self.uom}",
            self.warn,
            self.crit,
            "" if self.minimum is None else _number(self.minimum),
            "" if self.maximum is None else _number(self.maximum),
        ]
        return ";".join(fields).rstrip(";")


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: its status, its text and perfdata; ``line()`` is the status
    line, ``to_dict()`` the same for JSON."""

    status: Status
    text: str
    perfdata: list[Perf] = field(default_factory=list)
    service: str = "LOGTRACE"

    def line(self) -> str:
        """``LOGTRACE WARNING - p95 of fetch 231 ms | 'p95'=231ms;200;500;0;``."""
        head = f"{self.service} {self.status.name} - {self.text}"
        if not self.perfdata:
            return head
        return head + " | " + " ".join(str(p) for p in self.perfdata)

    def to_dict(self) -> dict[str, Any]:
        """``{"status", "code", "text", "line", "perfdata": [{label, value, uom, ...}]}``."""
        return {
            "status": self.status.name,
            "code": int(self.status),
            "text": self.text,
            "line": self.line(),
            "perfdata": [
                {
                    "label": p.label,
                    "value": p.value,
                    "uom": p.uom,
                    "warn": p.warn,
                    "crit": p.crit,
                    "min": p.minimum,
                    "max": p.maximum,
                }
                for p in self.perfdata
            ],
        }


def evaluate(value: float | None, warn: Range | None, crit: Range | None) -> Status:
    """CRITICAL if ``crit`` alerts, else WARNING if ``warn`` does, else OK; UNKNOWN with no
    value (nothing measured)."""
    if value is None or math.isnan(value):
        return Status.UNKNOWN
    if crit is not None and crit.alerts(value):
        return Status.CRITICAL
    if warn is not None and warn.alerts(value):
        return Status.WARNING
    return Status.OK


def worst(statuses: list[Status]) -> Status:
    """The status of several checks: CRITICAL over WARNING over UNKNOWN over OK."""
    order = [Status.OK, Status.UNKNOWN, Status.WARNING, Status.CRITICAL]
    return max(statuses, key=order.index, default=Status.OK)


# -- SLO burn rates ------------------------------------------------------------------------------


def parse_seconds(text: str) -> float:
    """``30s``, ``5m``, ``1h``, ``3d``, ``1w`` (a bare number is seconds), 1us to 10000w.

    Raises:
        ValueError: not such a duration (a window past 10000w overflowed the clock).
    """
    try:
        return parse_width_ms(str(text)) / 1000
    except ValueError:
        raise ValueError(
            f"bad duration {short_repr(text)}: use 30s, 5m, 1h, 3d or 1w ({WIDTH_HELP})"
        ) from None


@dataclass(frozen=True)
class BurnRule:
    """Fire when both windows burn the budget faster than ``burn_rate`` (``severity``:
    ``page`` makes the check CRITICAL, ``ticket`` WARNING)."""

    severity: str
    burn_rate: float
    long_s: float
    short_s: float


WORKBOOK_RULES = (
    BurnRule("page", 14.4, 3600, 300),
    BurnRule("page", 6.0, 6 * 3600, 1800),
    BurnRule("ticket", 1.0, 3 * 86400, 6 * 3600),
)


@dataclass(frozen=True)
class Slo:
    """A service level objective over spans: the share of good spans (not failed, and not
    slower than ``latency_ms`` when given) among spans of ``span`` (or all) in ``service``
    (or any)."""

    name: str
    objective: float
    span: str | None = None
    service: str | None = None
    latency_ms: float | None = None
    min_events: int = 100
    rules: tuple[BurnRule, ...] = WORKBOOK_RULES

    @property
    def budget(self) -> float:
        """The error budget: the share of bad events the objective allows."""
        return 1.0 - self.objective


@dataclass(frozen=True)
class RuleResult:
    """One rule over one SLO: both windows' events, bad events and burn rates; fired or not."""

    slo: str
    rule: BurnRule
    long_events: int
    long_bad: int
    short_events: int
    short_bad: int
    long_burn: float
    short_burn: float
    fired: bool
    reason: str


# counts(slo, seconds) -> (events, bad events) in the window of that many seconds up to now.
Counter = Callable[[Slo, float], tuple[int, int]]


def evaluate_slo(slo: Slo, counts: Counter) -> list[RuleResult]:
    """Each rule of ``slo`` over the counts of its two windows."""
    results = []
    for rule in slo.rules:
        long_events, long_bad = counts(slo, rule.long_s)
        short_events, short_bad = counts(slo, rule.short_s)
        long_burn = _burn(long_events, long_bad, slo.budget)
        short_burn = _burn(short_events, short_bad, slo.budget)
        if long_events < slo.min_events:
            fired, reason = False, f"{long_events} events < min_events {slo.min_events}"
        else:
            fired = long_burn > rule.burn_rate and short_burn > rule.burn_rate
            reason = "both windows burn too fast" if fired else "within budget"
        results.append(
            RuleResult(
                slo.name, rule, long_events, long_bad, short_events, short_bad,
                long_burn, short_burn, fired, reason,
            )
        )  # fmt: skip
    return results


def _burn(events: int, bad: int, budget: float) -> float:
    if not events:
        return 0.0
    return (bad / events) / budget if budget > 0 else math.inf


def load_slos(path: str | Path) -> list[Slo]:
    """The SLOs of a TOML file: ``[[slo]]`` tables with ``name``, ``objective`` (0.999),
    optional ``span``, ``service``, ``latency`` ("300ms" or ms), ``min_events``, and
    ``[[slo.rule]]`` tables (``severity``, ``burn_rate``, ``long``, ``short``) replacing the
    workbook's three.

    Raises:
        ValueError: unreadable file, bad TOML, or a bad value (the message says which).
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {path}: not UTF-8 text (TOML is UTF-8)") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: {error}") from None
    tables = data.get("slo")
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{path}: no [[slo]] table")
    return [_slo(table, f"{path}: slo {i + 1}") for i, table in enumerate(tables)]


# What an [[slo]] table and its [[slo.rule]] tables may hold: anything else is a typo.
SLO_KEYS = ("name", "span", "service", "objective", "latency", "min_events", "rule")
RULE_KEYS = ("severity", "burn_rate", "long", "short")
SEVERITIES = ("page", "ticket")


def _known(table: Any, allowed: tuple[str, ...], where: str) -> None:
    """Refuse a table that is not one, or has a key not in ``allowed`` (a typo never passes)."""
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: not a table")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(
            f"{where}: unknown key {', '.join(map(repr, unknown))} (allowed: {', '.join(allowed)})"
        )


def _rule(rule: Any, where: str) -> BurnRule:
    _known(rule, RULE_KEYS, where)
    severity = rule.get("severity", "page")
    if severity not in SEVERITIES:
        raise ValueError(
            f"{where}: severity {short_repr(severity)}: give {' or '.join(map(repr, SEVERITIES))}"
        )
    return BurnRule(
        severity,
        _positive(rule["burn_rate"], "burn_rate", where),
        parse_seconds(rule["long"]),
        parse_seconds(rule["short"]),
    )


def _positive(value: Any, key: str, where: str) -> float:
    """``value`` as a number above 0: a TOML ``nan`` or ``inf`` burn rate never fires (nothing is
    above it) and ``0`` or a negative one always does, so neither passes for a rule."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: {key} {short_repr(value)}: give a number above 0")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{where}: {key} {value!r}: give a number above 0 (finite)")
    return float(value)


def _whole(value: Any, key: str, where: str) -> int:
    """``value`` as a whole number of at least 0 (not 2.5, true, "50" or 1e400)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: {key} {short_repr(value)}: give a whole number of at least 0")
    return value


def _text_key(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f'{where}: {key} {short_repr(value)}: give a text ("...")')
    return value


def _slo(table: Mapping[str, Any], where: str) -> Slo:
    _known(table, SLO_KEYS, where)
    rule_tables = table.get("rule", [])
    if not isinstance(rule_tables, list):
        raise ValueError(f"{where}: rule must be [[slo.rule]] tables")
    try:
        objective = float(table["objective"])
        if not 0 < objective < 1:
            raise ValueError
        rules = tuple(_rule(rule, f"{where} rule {i + 1}") for i, rule in enumerate(rule_tables))
        latency = table.get("latency")
        latency_ms = None
        if isinstance(latency, (int, float)) and not isinstance(latency, bool):
            latency_ms = _positive(latency, "latency", where)
        elif latency is not None:
            latency_ms = _latency_ms(str(latency))
        return Slo(
            name=str(table.get("name") or table.get("span") or "slo"),
            objective=objective,
            span=_text_key(table, "span", where),
            service=_text_key(table, "service", where),
            latency_ms=latency_ms,
            min_events=_whole(table.get("min_events", 100), "min_events", where),
            rules=rules or WORKBOOK_RULES,
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ValueError) and str(error).startswith(where):
            raise  # a rule's own message, which says where and what
        detail = f"missing {error}" if isinstance(error, KeyError) else "bad value"
        if isinstance(error, ValueError) and str(error):
            detail = str(error)
        raise ValueError(
            f"{where}: {detail} (objective in (0, 1), rules need burn_rate, long, short)"
        ) from None


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]*)?)\s*(ms|s)?", text.strip())
    if match is None:
        raise ValueError(f"bad latency {short_repr(text)}: use 300ms or 1.5s")
    return float(match[1]) * (1000.0 if match[2] == "s" else 1.0)
