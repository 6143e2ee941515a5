"""``logtrace advise``: patterns in traces that point at a fix.

A few lines over ``Reader.advise`` and ``Reader.advice_summary``
(:mod:`logtrace.read.analytics.advise`); the handler's docstring is its help.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from logtrace.cli.main import make_console, open_reader, print_json, register
from logtrace.cli.numbers import at_least, fraction, non_negative, positive
from logtrace.cli.visible import visible
from logtrace.read.filters import now_utc, when_option

if TYPE_CHECKING:  # imported where used: `logtrace --help` need not load the analytics
    from logtrace.read.analytics.advise import Finding


def _advise_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", nargs="?", help="one trace (8+ hex digits); else many")
    parser.add_argument("--since", metavar="WHEN", help="traces from this long ago (1h, 1d)")
    parser.add_argument("--until", metavar="WHEN", help="traces before then")
    parser.add_argument("--name", help="only traces with a span of this name")
    parser.add_argument(
        "-n",
        "--limit",
        type=at_least(1),
        default=200,
        help="at most this many traces (default 200)",
    )
    from logtrace.read.analytics.advise import Thresholds

    defaults = Thresholds()
    for option, field, kind, text in (
        ("--repeats", "repeats", at_least(1), "N+1: sequential siblings of one name"),
        ("--serial", "serial", at_least(1), "serial: siblings one after another"),
        ("--serial-share", "serial_share", fraction, "serial: share of the parent they fill"),
        ("--self-share", "self_share", fraction, "self time: share of the span's duration"),
        ("--retries", "retries", at_least(1), "retry storm: attempts, all but one failed"),
        ("--fanout", "fanout", at_least(1), "fan-out: concurrent siblings of one name"),
        ("--skew", "skew", positive, "fan-out: slowest over median"),
        ("--min-ms", "min_ms", non_negative, "leave out findings saving less (ms)"),
    ):
        default = getattr(defaults, field)
        parser.add_argument(
            option, dest=field, type=kind, default=default, help=f"{text} (default {default:g})"
        )


def advise(args: argparse.Namespace) -> int:
    """Suggestions from traces: patterns that point at a fix, with evidence and time to save.

    N+1 (many sequential siblings of one name), serial siblings that could run concurrently,
    a span whose self time dominates it, retry storms, one worker holding up a fan-out. With a
    trace id: its findings; else over the traces of a window, grouped by pattern and span name.
    Every threshold is an option. Example: logtrace advise --since 1d
    """
    from logtrace.cli.render import duration, table
    from logtrace.read.analytics.advise import Thresholds

    thresholds = Thresholds(**{k: getattr(args, k) for k in Thresholds.__dataclass_fields__})
    now = now_utc()
    with open_reader(args) as reader:
        findings = reader.advise(
            args.trace_id,
            since=when_option("since", args.since, now),
            until=when_option("until", args.until, now),
            name=args.name,
            limit=args.limit,
            thresholds=thresholds,
        )
        grouped = reader.advice_summary(findings) if args.trace_id is None else None
    console = make_console()
    if grouped is not None:
        if args.json:
            print_json(grouped)
            return 0
        body = [
            [g["pattern"], g["name"], g["traces"], g["findings"], duration(g["saving_ms"]),
             g["example_trace"], g["message"]]
            for g in grouped
        ]  # fmt: skip
        columns = ["pattern", "name", "traces", "found", "saving", "example trace", "e.g."]
        for line in table(columns, body, limit=100):
            console.print(line)
        return 0
    if args.json:
        print_json([f.to_dict() for f in findings])
        return 0
    if not findings:
        console.print("no findings")
    for f in findings:
        console.print(_finding_text(f, duration))
    return 0


def _finding_text(f: Finding, duration: Any) -> str:
    more = ", ".join(f.evidence)
    return visible(
        f"{f.pattern:<12} saves ~{duration(f.saving_ms):<9} span {f.span_id}: {f.message}  [{more}]"
    )


register("advise", advise, _advise_arguments)
