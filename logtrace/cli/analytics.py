"""``show``'s and ``stats``' analytics options: ``show --critical-path``, ``--collapse``,
``stats --every``, imported by :mod:`logtrace.cli.traces` when those options are given.

The analytics commands are modules of their own: :mod:`logtrace.cli.critical_path`,
:mod:`logtrace.cli.compare`, :mod:`logtrace.cli.advise`, :mod:`logtrace.cli.check`; each
handler a few lines over a Reader method of :mod:`logtrace.read.analytics.methods`.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from logtrace.cli.main import make_console, open_reader, print_json
from logtrace.cli.numbers import at_least, bucket_width
from logtrace.read.files import ReadError


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
        type=at_least(1),
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
        type=bucket_width,
        metavar="WIDTH",
        help="per time bucket of this width (30s, 5m, 1h; 1us to 10000w): count, errors, "
        "p50/p95/p99, max",
    )


def stats_every(args: argparse.Namespace, params: dict[str, Any]) -> int:
    """``stats --every``: the time series of the spans chosen by the filters."""
    from logtrace.cli.render import duration, table

    given = [
        option
        for option, key in (
            ("--attr", "attr_key"),
            ("--status/--errors", "status"),
            ("--kind", "kind"),
            ("--min-duration", "min_duration_ms"),
        )
        if params.get(key) is not None
    ]
    if given:
        raise ReadError(
            f"stats --every: {', '.join(given)} not supported with it (it filters by --name "
            "and --service)"
        )
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
