"""The commands ``logtrace critical-path``, ``compare`` and ``advise``; ``show``'s and
``stats``' analytics options.

Each handler is a few lines over a Reader method of :mod:`logtrace.read.analytics.methods`;
its docstring is its help. ``logtrace check`` is in :mod:`logtrace.cli.check`.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from logtrace.cli.main import make_console, open_reader, print_json, register
from logtrace.read.files import ReadError
from logtrace.read.filters import now_utc, parse_when

if TYPE_CHECKING:  # imported where used: `logtrace show` need not load the analytics
    from logtrace.read.analytics.advise import Finding
    from logtrace.read.analytics.compare import Comparison, NameChange
    from logtrace.read.analytics.methods import Side
    from logtrace.read.analytics.stats import Estimate


def _when(option: str, text: str | None, now: datetime) -> datetime | None:
    """The time an option gives (``1h`` ago, a UTC time), or None when it is not given."""
    if text is None:
        return None
    try:
        return parse_when(text, now)
    except ValueError:
        raise ReadError(
            f"--{option} {text!r}: give a duration (30s, 15m, 1h, 2d, 1w) "
            "or a UTC time (2026-11-24T13:00)"
        ) from None


# -- show --critical-path, --collapse; stats --every ----------------------------------------------


def show_arguments(parser: argparse.ArgumentParser) -> None:
    """The analytics options of ``show``."""
    parser.add_argument(
        "--critical-path",
        action="store_true",
        help="mark the spans on the critical path, with the time of the path each owns",
    )
    parser.add_argument(
        "--collapse",
        action="store_true",
        help="fold repeated siblings into one row: N x name, p50/p95/max, failures",
    )
    parser.add_argument(
        "--expand",
        action="append",
        default=[],
        metavar="NAME",
        help="with --collapse: keep groups of this span name open (repeatable)",
    )
    parser.add_argument(
        "--min-repeat",
        type=int,
        default=5,
        metavar="N",
        help="with --collapse: fold from this many siblings of one name on (default 5)",
    )


def show_trace(trace: Any, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The trace ``show`` draws (spans marked, repeated siblings folded, the folded spans'
    logs left out) and what ``--json`` adds for the options."""
    rows = [dict(span) for span in trace.spans]
    extra: dict[str, Any] = {}
    if getattr(args, "critical_path", False):
        from logtrace.read.analytics.critical_path import critical_path

        path = critical_path(trace.spans, trace.trace_id)
        for row in rows:
            row["critical_ms"] = path.on_path_ms.get(row["span_id"])
            row["self_ms"] = path.self_ms.get(row["span_id"])
        extra["critical_path"] = path.to_dict()
    if not getattr(args, "collapse", False):
        return replace(trace, spans=rows), extra
    from logtrace.read.analytics.collapse import collapse

    rows = collapse(rows, min_repeat=max(2, args.min_repeat), expand=set(args.expand))
    if "critical_path" in extra:  # a folded row owns the path time of all its siblings
        on_path = extra["critical_path"]["on_path_ms"]
        for row in rows:
            if row.get("collapsed"):
                row["critical_ms"] = sum(on_path.get(i, 0.0) for i in row["span_ids"]) or None
    extra["collapsed_spans"] = rows
    shown = {r["span_id"] for r in rows if not r.get("collapsed")}
    known = {s["span_id"] for s in trace.spans}
    logs = [log for log in trace.logs if log["span_id"] in shown or log["span_id"] not in known]
    drawn = [
        {**r, "name": f"{r['collapsed']} × {r['name']}"} if r.get("collapsed") else r for r in rows
    ]
    return replace(trace, spans=drawn, logs=logs), extra


def stats_arguments(parser: argparse.ArgumentParser) -> None:
    """The time-series option of ``stats``."""
    parser.add_argument(
        "--every",
        metavar="WIDTH",
        help="per time bucket of this width (30s, 5m, 1h): count, errors, p50/p95/p99, max",
    )


def stats_every(args: argparse.Namespace, params: dict[str, Any]) -> int:
    """``stats --every``: the time series of the spans chosen by the filters."""
    from logtrace.cli.render import duration, table

    if params.get("attr_key") is not None or params.get("status") is not None:
        raise ReadError("stats --every: --attr, --status and --errors are not supported with it")
    with open_reader(args, params["since"], params["until"]) as reader:
        rows = reader.timeseries(
            args.every,
            since=params["since"],
            until=params["until"],
            name=params["name"],
            service=params["service"],
        )
    if args.json:
        print_json(rows)
        return 0
    body = [
        [
            r["bucket"],
            r["count"],
            r["errors"],
            "-" if r["error_rate"] is None else f"{r['error_rate']:.1%}",
            duration(r["p50_ms"]),
            duration(r["p95_ms"]),
            duration(r["p99_ms"]),
            duration(r["max_ms"]),
        ]
        for r in rows
    ]
    columns = ["bucket", "count", "errors", "error rate", "p50", "p95", "p99", "max"]
    console = make_console()
    for line in table(columns, body):
        console.print(line)
    return 0


# -- critical-path -------------------------------------------------------------------------------


def _critical_path_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", nargs="?", help="one trace (8+ hex digits); else many")
    parser.add_argument("--name", help="only traces with a span of this name")
    parser.add_argument("--since", metavar="WHEN", help="traces from this long ago (1h, 1d)")
    parser.add_argument("--until", metavar="WHEN", help="traces before then")
    parser.add_argument(
        "-n", "--limit", type=int, default=1000, help="at most this many traces (default 1000)"
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
                f"trace {path.trace_id}: critical path {duration(path.total_ms)} in "
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
            since=_when("since", args.since, now),
            until=_when("until", args.until, now),
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


# -- compare ------------------------------------------------------------------------------------


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("traces", nargs="*", metavar="TRACE", help="two trace ids, side by side")
    parser.add_argument("--a-since", metavar="WHEN", help="A: spans from then (2h, a UTC time)")
    parser.add_argument("--a-until", metavar="WHEN", help="A: spans before then")
    parser.add_argument("--b-since", metavar="WHEN", help="B: spans from then")
    parser.add_argument("--b-until", metavar="WHEN", help="B: spans before then")
    parser.add_argument("--since", metavar="WHEN", help="both sides: spans from then")
    parser.add_argument("--until", metavar="WHEN", help="both sides: spans before then")
    parser.add_argument(
        "--by", metavar="KEY=A,B", help="A and B: traces with attribute KEY at value A, at B"
    )
    parser.add_argument("--services", metavar="A,B", help="A and B: spans of these services")
    parser.add_argument(
        "--dirs",
        dest="side_dirs",
        metavar="A,B",
        help="A and B: the files of these two directories",
    )
    parser.add_argument("--name", help="only spans of this name")
    parser.add_argument(
        "--threshold",
        type=float,
        default=5.0,
        metavar="PCT",
        help="a regression: slower by more than this %% with confidence (default 5)",
    )
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="significance level (default 0.05)"
    )
    parser.add_argument(
        "--min-samples",
        type=int,
        default=50,
        metavar="N",
        help="fewer spans than this on a side are flagged as few (default 50)",
    )


def _pair(option: str, text: str) -> tuple[str, str]:
    first, sep, second = text.partition(",")
    if not sep or not first or not second or "," in second:
        raise ReadError(f"--{option} {text!r}: give two values, A,B")
    return first, second


def _sides(args: argparse.Namespace) -> tuple[Side, Side]:
    from logtrace.read.analytics.methods import Side

    now = now_utc()

    def at(option: str, value: str | None, fallback: str | None) -> Any:
        return _when(option, value if value is not None else fallback, now)

    base: dict[str, Any] = {"name": args.name}
    windows = [args.a_since, args.a_until, args.b_since, args.b_until]
    a: dict[str, Any] = {**base, "since": at("a-since", args.a_since, args.since),
                         "until": at("a-until", args.a_until, args.until)}  # fmt: skip
    b: dict[str, Any] = {**base, "since": at("b-since", args.b_since, args.since),
                         "until": at("b-until", args.b_until, args.until)}  # fmt: skip
    labels = ("A", "B")
    modes = [args.by, args.services, args.side_dirs]
    if sum(m is not None for m in modes) + any(w is not None for w in windows) != 1:
        raise ReadError(
            "compare: give one of --a-since/--b-since (windows), --by KEY=A,B, --services A,B,"
            " --dirs A,B, or two trace ids"
        )
    if args.by is not None:
        key, sep, values = args.by.partition("=")
        if not sep or not key:
            raise ReadError(f"--by {args.by!r}: give KEY=A,B")
        first, second = _pair("by", values)
        a["attr"], b["attr"] = (key, first), (key, second)
        labels = (f"{key}={first}", f"{key}={second}")
    elif args.services is not None:
        a["service"], b["service"] = labels = _pair("services", args.services)
    elif args.side_dirs is not None:
        a["directory"], b["directory"] = labels = _pair("dirs", args.side_dirs)
    else:
        labels = (
            _window_label(args.a_since, args.a_until),
            _window_label(args.b_since, args.b_until),
        )
    return Side(labels[0], **a), Side(labels[1], **b)


def _window_label(since: str | None, until: str | None) -> str:
    return f"{since or 'start'}..{until or 'now'}"


def compare(args: argparse.Namespace) -> int:
    """A against B per span name; exit 1 on a significant regression (for CI).

    A and B are two time windows (--a-since 2h --a-until 1h --b-since 1h), two values of an
    attribute of the traces (--by version=1.4.0,1.5.0), two services (--services a,b) or two
    directories (--dirs old,new). Per span name: n, p50 and p95 of each side with 95%
    intervals, the change of the median, the Mann-Whitney U p-value and the Hodges-Lehmann
    shift, a verdict (~ not significant, ↑ slower, ↓ faster), error rates and the spans per
    trace (same/added/removed/more/less). A regression: ↑ with the shift's interval wholly
    above --threshold % of A's median. Two trace ids compare two traces by ancestral path.
    """
    if args.traces:
        if len(args.traces) != 2:
            raise ReadError("compare: give two trace ids, or none (then A and B by options)")
        return _compare_two_traces(args)
    a, b = _sides(args)
    with open_reader(args) as reader:
        result = reader.compare(
            a, b, alpha=args.alpha, threshold_pct=args.threshold, min_samples=args.min_samples
        )
    if args.json:
        print_json(result.to_dict())
    else:
        _print_comparison(result)
    return 1 if result.regressions else 0


def _compare_two_traces(args: argparse.Namespace) -> int:
    from logtrace.cli.render import duration, table

    with open_reader(args) as reader:
        rows = reader.compare_traces(args.traces[0], args.traces[1])
    if args.json:
        print_json([r.to_dict() for r in rows])
        return 0
    body = [
        [r.path, r.a_count, r.b_count, duration(r.a_ms), duration(r.b_ms), r.change] for r in rows
    ]
    console = make_console()
    for line in table(["path", "A", "B", "A time", "B time", "change"], body):
        console.print(line)
    return 0


def _interval(e: Estimate, unit: Any) -> str:
    low = "?" if e.low is None else unit(e.low)
    high = "?" if e.high is None else unit(e.high)
    return f"{'-' if e.value is None else unit(e.value)} [{low}, {high}]"


def _print_comparison(result: Comparison) -> None:
    from logtrace.cli.render import duration, table

    def shift(ms: float) -> str:
        return ("+" if ms >= 0 else "-") + duration(abs(ms))

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    console = make_console()
    console.print(
        f"A: {result.a_label} ({result.a_traces} traces)   "
        f"B: {result.b_label} ({result.b_traces} traces)   alpha {result.alpha:g}"
    )
    structure = {s.name: s.change for s in result.structure}
    body = [_comparison_row(n, structure, shift, rate, duration) for n in result.names]
    columns = [
        "name", "n A", "p50 A", "p95 A", "n B", "p50 B", "p95 B", "Δ p50", "p",
        "shift B-A", "", "errors A→B", "per trace", "note",
    ]  # fmt: skip
    for line in table(columns, body, limit=80):
        console.print(line)
    for n in result.regressions:
        console.print(
            f"regression: {n.name} {n.change_pct:+.1f}% (shift {_interval(n.shift_ms, shift)}, "
            f"p={n.p:.3g}) beyond the threshold of {result.threshold_pct:g}%",
            style="bold red",
        )


def _comparison_row(
    n: NameChange, structure: dict[str, str], shift: Any, rate: Any, ms: Any
) -> list[Any]:
    return [
        n.name,
        n.a.n,
        _interval(n.a.p50, ms),
        _interval(n.a.p95, ms),
        n.b.n,
        _interval(n.b.p50, ms),
        _interval(n.b.p95, ms),
        "-" if n.change_pct is None else f"{n.change_pct:+.1f}%",
        "-" if n.p is None else f"{n.p:.3g}",
        _interval(n.shift_ms, shift),
        n.verdict + (" regression" if n.regression else ""),
        f"{rate(n.a.error_rate)}→{rate(n.b.error_rate)}",
        structure.get(n.name, ""),
        n.note or "",
    ]


# -- advise -------------------------------------------------------------------------------------


def _advise_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", nargs="?", help="one trace (8+ hex digits); else many")
    parser.add_argument("--since", metavar="WHEN", help="traces from this long ago (1h, 1d)")
    parser.add_argument("--until", metavar="WHEN", help="traces before then")
    parser.add_argument("--name", help="only traces with a span of this name")
    parser.add_argument(
        "-n", "--limit", type=int, default=200, help="at most this many traces (default 200)"
    )
    from logtrace.read.analytics.advise import Thresholds

    defaults = Thresholds()
    for option, field, kind, text in (
        ("--repeats", "repeats", int, "N+1: sequential siblings of one name"),
        ("--serial", "serial", int, "serial: siblings one after another"),
        ("--serial-share", "serial_share", float, "serial: share of the parent they fill"),
        ("--self-share", "self_share", float, "self time: share of the span's duration"),
        ("--retries", "retries", int, "retry storm: attempts, all but one failed"),
        ("--fanout", "fanout", int, "fan-out: concurrent siblings of one name"),
        ("--skew", "skew", float, "fan-out: slowest over median"),
        ("--min-ms", "min_ms", float, "leave out findings saving less (ms)"),
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
            since=_when("since", args.since, now),
            until=_when("until", args.until, now),
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
    return (
        f"{f.pattern:<12} saves ~{duration(f.saving_ms):<9} span {f.span_id}: {f.message}  [{more}]"
    )


register("critical-path", critical_path, _critical_path_arguments)
register("compare", compare, _compare_arguments)
register("advise", advise, _advise_arguments)
