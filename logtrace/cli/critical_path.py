"""``logtrace critical-path``: where the time of one trace, or of many, goes.

A few lines over ``Reader.critical_path`` and ``Reader.critical_path_summary``
(:mod:`logtrace.read.analytics.critical_path`); the handler's docstring is its help.
"""

from __future__ import annotations

import argparse

from logtrace.cli.main import make_console, open_reader, print_json, register
from logtrace.cli.numbers import at_least
from logtrace.cli.visible import visible
from logtrace.read.filters import now_utc, when_option


def _critical_path_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", nargs="?", help="one trace (8+ hex digits); else many")
    parser.add_argument("--name", help="only traces with a span of this name")
    parser.add_argument("--since", metavar="WHEN", help="traces from this long ago (1h, 1d)")
    parser.add_argument("--until", metavar="WHEN", help="traces before then")
    parser.add_argument(
        "-n",
        "--limit",
        type=at_least(1),
        default=1000,
        help="at most this many traces (default 1000)",
    )


def critical_path(args: argparse.Namespace) -> int:
    """Where the time goes: the critical path of one trace, or its share per span name.

    With a trace id: the sections of its critical path (Jaeger's: walking back from the root's
    end, the last child to finish before the current point is on the path, gaps are the
    parent's), then per span its time on the path and its self time. Without: over the traces
    of a window (--since, --name), per span name its share of all the critical paths and of
    all self time. Example: logtrace critical-path --name "coordinate tasks" --since 1d
    """
    from logtrace.cli.render import duration, table

    with open_reader(args) as reader:
        if args.trace_id is not None:
            path = reader.critical_path(args.trace_id)
            trace = reader.trace(path.trace_id)
            if args.json:
                print_json(path.to_dict())
                return 0
            names = {s["span_id"]: s["name"] for s in trace.spans}
            console = make_console()
            console.print(
                f"trace {visible(path.trace_id)}: critical path {duration(path.total_ms)} in "
                f"{len(path.sections)} sections over {len(path.on_path_ms)} spans"
            )
            body = [
                [f"{s.start_ms:.3f}", f"{s.end_ms:.3f}", s.name, s.span_id, duration(s.duration_ms)]
                for s in path.sections
            ]
            for line in table(["from ms", "to ms", "span", "span id", "on path"], body):
                console.print(line)
            ranked = sorted(path.on_path_ms.items(), key=lambda kv: -kv[1])
            rows = [
                [names.get(k, "?"), k, duration(v), f"{v / (path.total_ms or 1):.1%}",
                 duration(path.self_ms.get(k))]
                for k, v in ranked
            ]  # fmt: skip
            console.print("")
            for line in table(["span", "span id", "on path", "share", "self"], rows):
                console.print(line)
            return 0
        now = now_utc()
        shares = reader.critical_path_summary(
            name=args.name,
            since=when_option("since", args.since, now),
            until=when_option("until", args.until, now),
            limit=args.limit,
        )
    if args.json:
        print_json([s.to_dict() for s in shares])
        return 0
    body = [
        [s.name, s.spans, s.traces, duration(s.critical_ms), f"{s.critical_share:.1%}",
         duration(s.self_ms), f"{s.self_share:.1%}"]
        for s in shares
    ]  # fmt: skip
    columns = ["name", "spans", "traces", "on path", "path share", "self", "self share"]
    console = make_console()
    for line in table(columns, body):
        console.print(line)
    return 0


register("critical-path", critical_path, _critical_path_arguments)
