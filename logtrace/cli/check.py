"""``logtrace check``: an alert check as a monitoring plugin (Nagios, Icinga, Sensu) runs it.

A few lines over :meth:`Reader.check` and :meth:`Reader.check_slos`; exit status and output
follow the Monitoring Plugins' guidelines (see :mod:`logtrace.read.analytics.check`).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, NoReturn

from logtrace.cli.main import interrupted, open_reader, print_json, register, usage_message
from logtrace.cli.visible import visible
from logtrace.read.files import ReadError

if TYPE_CHECKING:  # imported where used: other commands need not load the analytics
    from logtrace.read.analytics.check import CheckResult


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    from logtrace.read.analytics.check import CheckResult, Status
    from logtrace.read.analytics.methods import METRICS

    parser.add_argument("metric", nargs="?", choices=METRICS, help="what to measure")
    parser.add_argument("-w", "--warning", metavar="RANGE", help="WARNING outside this range")
    parser.add_argument("-c", "--critical", metavar="RANGE", help="CRITICAL outside this range")
    parser.add_argument("--name", help="only spans of this name")
    parser.add_argument("--service", help="only spans (or lines) of this service")
    parser.add_argument("--kind", help="only spans of this kind (server, client, ..., internal)")
    parser.add_argument("--event", help="event_rate: the log event to count")
    parser.add_argument(
        "--since", default="1h", metavar="WHEN", help="the window's start (default 1h ago)"
    )
    parser.add_argument("--now", metavar="WHEN", help="the window's end, a UTC time (default: now)")
    parser.add_argument(
        "--slo", metavar="FILE", help="SLO burn-rate rules from this TOML file instead"
    )

    def error(message: str) -> NoReturn:
        # Bad arguments are UNKNOWN (3) for a plugin, with a status line like any other.
        result = CheckResult(Status.UNKNOWN, f"logtrace check: {usage_message(message)}")
        print(visible(result.line()))
        raise SystemExit(int(Status.UNKNOWN))

    parser.error = error  # type: ignore[method-assign]


def check(args: argparse.Namespace) -> int:
    """Check a metric or SLO burn rates; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

    Prints one status line, `LOGTRACE OK - p95 of fetch 41.2 ms | 'p95'=41.2ms;200;500;0`,
    for cron, CI or any monitoring that runs plugins. Metrics over the window (--since, default
    1h): p50, p95, p99 (ms, of --name: its spans of every service and kind unless --service
    or --kind narrow them), error_rate (%), unfinished (spans), dropped (lines the
    writers dropped), event_rate (lines of --event per minute). Ranges as the plugins take
    them: 200 (alert above 200 or below 0), 10: (below 10), ~:200 (above 200), 10:20 (outside),
    @10:20 (inside). --slo FILE evaluates the multiwindow burn-rate rules of each [[slo]]
    instead: a page rule firing is CRITICAL, a ticket rule WARNING.
    Example: logtrace check p95 --name fetch -w 200 -c 500 --since 15m
    """
    from logtrace.read.analytics.check import CheckResult, Status

    try:
        result = _run(args)
    except ReadError as error:
        result = CheckResult(Status.UNKNOWN, str(error))
    except Exception as error:  # never a CRITICAL (2) for a failure to measure: UNKNOWN
        if interrupted(error):
            raise KeyboardInterrupt from None  # Ctrl-C during a query: exit 130, no status
        first = (str(error).strip().splitlines() or [""])[0]
        result = CheckResult(Status.UNKNOWN, f"logtrace check: {type(error).__name__}: {first}")
    if args.json:
        print_json(result.to_dict())
    else:
        print(visible(result.line()))
    sys.stdout.flush()
    return int(result.status)


def _run(args: argparse.Namespace) -> CheckResult:
    if (args.metric is None) == (args.slo is None):
        raise ReadError("check: give a METRIC or --slo FILE (one of them)")
    with open_reader(args) as reader:
        if args.slo is not None:
            result: CheckResult = reader.check_slos(args.slo, now=args.now)[0]
            return result
        measured: CheckResult = reader.check(
            args.metric,
            warn=args.warning,
            crit=args.critical,
            name=args.name,
            service=args.service,
            kind=args.kind,
            event=args.event,
            since=args.since,
            now=args.now,
        )
        return measured


register("check", check, _check_arguments)
