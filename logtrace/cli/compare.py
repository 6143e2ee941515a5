"""``logtrace compare``: A against B per span name, or two traces side by side.

A few lines over ``Reader.compare`` and ``Reader.compare_traces``
(:mod:`logtrace.read.analytics.compare`), and the table of a comparison; the handler's
docstring is its help.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from logtrace.cli.main import make_console, note, open_reader, print_json, register
from logtrace.cli.numbers import at_least, checked_by, probability
from logtrace.cli.visible import visible
from logtrace.format.shown import short_repr
from logtrace.read.arguments import threshold_pct
from logtrace.read.files import ReadError
from logtrace.read.filters import now_utc, when_option

if TYPE_CHECKING:  # imported where used: `logtrace --help` need not load the analytics
    from logtrace.read.analytics.compare import Comparison, NameChange
    from logtrace.read.analytics.methods import Side
    from logtrace.read.analytics.stats import Estimate


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
        type=checked_by(threshold_pct),
        default=5.0,
        metavar="PCT",
        help="a regression: slower by more than this %% with confidence (0 to 10000, default 5)",
    )
    parser.add_argument(
        "--alpha", type=probability, default=0.05, help="significance level (default 0.05)"
    )
    parser.add_argument(
        "--min-samples",
        type=at_least(0),
        default=50,
        metavar="N",
        help="fewer spans than this on a side are flagged as few (default 50)",
    )


def _pair(option: str, text: str) -> tuple[str, str]:
    first, sep, second = text.partition(",")
    if not sep or not first or not second or "," in second:
        raise ReadError(f"--{option} {short_repr(text)}: give two values, A,B")
    return first, second


def _sides(args: argparse.Namespace) -> tuple[Side, Side]:
    from logtrace.read.analytics.methods import Side

    now = now_utc()

    def at(option: str, value: str | None, fallback: str | None) -> Any:
        return when_option(option, value if value is not None else fallback, now)

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
            raise ReadError(f"--by {short_repr(args.by)}: give KEY=A,B")
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
    nothing = result.nothing_compared()
    if nothing is not None:
        # A gate in CI must not pass on a mistyped --by or window.
        note(
            f"logtrace compare: {nothing}; "
            "check the attribute and its values, the services, directories or times"
        )
        return 2
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
        visible(
            f"A: {result.a_label} ({result.a_traces} traces)   "
            f"B: {result.b_label} ({result.b_traces} traces)   alpha {result.alpha:g}"
        )
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
            f"regression: {visible(n.name)} {n.change_pct:+.1f}% "
            f"(shift {_interval(n.shift_ms, shift)}, "
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


register("compare", compare, _compare_arguments)
