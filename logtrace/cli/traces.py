"""The commands ``logtrace ls``, ``show``, ``stats``, ``sql`` and ``tail``.

Each is a few lines over ``logtrace.open`` and the files of ``queries/``; its handler's
docstring is its help. They register themselves on import; ``_cli`` imports this module when it
builds the parser.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
import time
from typing import Any

from logtrace.cli.main import (
    add_filters,
    filter_options,
    make_console,
    note,
    open_reader,
    print_json,
    register,
    report_skipped,
    skipped_counts,
    truncated_note,
)
from logtrace.cli.numbers import at_least, between, non_negative, seconds
from logtrace.cli.visible import visible
from logtrace.format import fields as f
from logtrace.format.shown import short_repr
from logtrace.read.files import ReadError
from logtrace.read.filters import attr_variant, filter_params, now_utc, parse_when


def _ls_arguments(parser: argparse.ArgumentParser) -> None:
    add_filters(parser, spans=False)
    parser.add_argument(
        "-n", "--limit", type=at_least(1), default=20, help="at most this many traces (default 20)"
    )


def ls(args: argparse.Namespace) -> int:
    """List recent traces, newest first, one line each.

    Each line: start time (UTC), trace id, status, duration, span counts, root span, services.
    Filters combine (all must hold). Example: logtrace ls --since 1h --errors
    """
    params = filter_options(args)
    name, given = attr_variant("recent_traces", params)
    scanned = None if args.verbose else newest_scanned(args, given)
    if scanned:
        _print_ls(scanned, args)
        return 0
    with open_reader(args, params["since"], params["until"]) as reader:
        rows = reader.query(name, limit=args.limit, **given)
        _print_ls(rows, args)
        if not rows and reader.all_files and not args.json:
            make_console().print(visible(f"no traces match, in {reader.describe()}"))
        if args.verbose:
            report_skipped(reader)
    return 0


def newest_scanned(args: argparse.Namespace, given: dict[str, Any]) -> Any:
    """The newest traces read from the ends of the newest files without DuckDB
    (``logtrace.read.scan_newest``): the rows of ``recent_traces_no_attr`` without a time
    window; None when only the Reader can answer (a window, --attr, --kind, shared history,
    compacted newest files, traces further back than the scan reads)."""
    from logtrace.read.scan import CannotScan
    from logtrace.read.scan_newest import newest_traces

    try:
        return newest_traces(getattr(args, "dirs", None) or args.dir, args.limit, given).traces
    except CannotScan:
        return None


def _print_ls(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if args.json:
        print_json(rows)  # without rich
    else:
        from logtrace.cli.render import trace_line

        console = make_console()
        for row in rows:
            console.print(trace_line(row))


# The widest duration bar `show --width` draws: wider than any terminal, small enough that a
# trace of many spans is not gigabytes of spaces (--width 99999999999 was a MemoryError).
MAX_BAR_WIDTH = 1000


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", help="a trace id, or its first 8 or more hex digits")
    parser.add_argument(
        "--width",
        type=between(5, MAX_BAR_WIDTH),
        default=40,
        help=f"width of the duration bars, from 5 to {MAX_BAR_WIDTH} (default 40)",
    )
    from logtrace.cli.analytics import show_arguments

    show_arguments(parser)


def show(args: argparse.Namespace) -> int:
    """Show one trace as a waterfall: its span tree, bars to scale, errors, its logs in place.

    Spans are indented under their parent (from parent ids, not clocks) and ordered by start
    time; each shows its service[pid], duration and a bar on the trace's time scale. Failed
    spans are red with their error, unfinished ones marked; log lines sit under their span in
    time order. The id may be abbreviated to a unique prefix of 8+ hex digits, as with git.
    --critical-path marks the spans on the critical path; --collapse folds repeated siblings
    into one row (N × name, p50/p95/max, failures), --expand NAME keeps a group open.
    """
    from logtrace.cli.analytics import show_trace

    found = None if args.verbose else scanned_trace(args)
    if found is not None:
        _print_trace(*show_trace(found, args), args)
        return 0
    with open_reader(args) as reader:
        _print_trace(*show_trace(reader.trace(args.trace_id), args), args)
        if args.verbose:
            report_skipped(reader)
    return 0


def scanned_trace(args: argparse.Namespace) -> Any:
    """The trace read without DuckDB (``logtrace.read.scan``), or None when only the Reader
    can answer: shared history, compacted files in the way, lines it cannot read alike."""
    from logtrace.read.scan import CannotScan, lookup

    try:
        return lookup(getattr(args, "dirs", None) or args.dir, args.trace_id)
    except CannotScan:
        return None


def _print_trace(trace: Any, extra: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        print_json({"trace": trace.summary, "spans": trace.spans, "logs": trace.logs, **extra})
        return
    from logtrace.cli.render import waterfall

    console = make_console()
    for line in waterfall(trace, bar_width=args.width):
        console.print(line)


def _stats_arguments(parser: argparse.ArgumentParser) -> None:
    from logtrace.cli.analytics import stats_arguments

    add_filters(parser, spans=True)
    stats_arguments(parser)


def stats(args: argparse.Namespace) -> int:
    """Count, error rate and p50/p95/p99 durations per span name, service and kind.

    A client span and the server span it calls share a name, not a row. Filters apply to
    spans. Example: logtrace stats --since 1d --service backend --kind server
    --every 5m: per time bucket instead (count, errors, error rate, p50/p95/p99, max).
    """
    from logtrace.cli.render import duration, table

    params = filter_options(args)
    if args.every is not None:
        from logtrace.cli.analytics import stats_every

        return stats_every(args, params)
    with open_reader(args, params["since"], params["until"]) as reader:
        name, given = attr_variant("span_percentiles", params)
        rows = reader.query(name, **given)
        skipped = reader.skipped()
        unreadable, other = skipped_counts(skipped)
        if args.json:
            print_json(
                {
                    "files": len(reader.files),
                    "skipped_lines": {"unreadable": unreadable, "other_json": other},
                    "truncated_files": [str(p) for p in reader.truncated_files],
                    "unreadable_files": [str(p) for p in reader.unreadable_files],
                    "refused_files": [str(p) for p in reader.refused_files],
                    "spans": rows,
                }
            )
            return 0
        console = make_console()
        spans = sum(row["count"] for row in rows)
        errors = sum(row["errors"] for row in rows)
        console.print(
            visible(f"{spans} spans, {errors} failed, in {reader.describe()}; ")
            + f"skipped {unreadable} unreadable lines, {other} JSON lines of other programs"
            + truncated_note(reader)
        )
        columns = ["name", "service", "kind", "count", "errors", "error rate", "p50", "p95"]
        columns += ["p99", "max"]
        body = [
            [
                row["name"],
                row["service"],
                row["kind"],
                row["count"],
                row["errors"],
                f"{row['error_rate']:.1%}",
                duration(row["p50_ms"]),
                duration(row["p95_ms"]),
                duration(row["p99_ms"]),
                duration(row["max_ms"]),
            ]
            for row in rows
        ]
        for line in table(columns, body):
            console.print(line)
        if args.verbose:
            report_skipped(reader, skipped)
    return 0


def _sql_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query", help="SQL text, or the name of a file of queries/ (slowest_traces)"
    )
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a $NAME parameter of the query (repeatable); unset ones are NULL",
    )


def sql(args: argparse.Namespace) -> int:
    """Run SQL over the views events, spans, traces, logs (and lines, the raw lines).

    QUERY is SQL text, or the name of a file of queries/ such as slowest_traces, error_traces,
    unfinished_spans, span_percentiles, trace_tree. Parameters ($name in the SQL) are given as
    -p name=value and passed to DuckDB as values, never pasted into the SQL; numbers are
    numbers, "null" is NULL, times are text DuckDB casts. Example:
      logtrace sql "select name, count(*) from spans group by 1 order by 2 desc"
      logtrace sql slowest_traces -p limit=5
    """
    from logtrace.cli.render import table
    from logtrace.read.queries import missing_parameters
    from logtrace.read.reader import parameters, query_text

    text = args.query.strip()
    # One word is a query's name: an unknown one is "no query named …", with the names.
    named = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) is not None
    if named:
        text = query_text(text)
    params: dict[str, Any] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ReadError(f"-p {short_repr(item)}: give NAME=VALUE")
        params[name] = _param_value(name, value)
    missing = missing_parameters(text, params) if named else []
    if missing:
        raise ReadError(f"{args.query} needs " + ", ".join(f"-p {name}=…" for name in missing))
    for name in parameters(text):
        params.setdefault(name, None)
    with open_reader(args) as reader:
        rows = reader.execute(text, params)
        if args.json:
            print_json(rows)
        else:
            columns = list(rows[0]) if rows else []
            console = make_console()
            for line in table(columns, [list(row.values()) for row in rows]):
                console.print(line)
        if args.verbose:
            report_skipped(reader)
    return 0


def _param_value(name: str, text: str) -> Any:
    if text.lower() == "null":
        return None
    if name in ("since", "until"):
        # As --since/--until read them: 10m ago, or a UTC time.
        with contextlib.suppress(ValueError):
            return parse_when(text, now_utc())
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(text)
    return text


def _tail_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", help="only lines of this service")
    parser.add_argument("--trace", metavar="ID", help="only lines of this trace (8+ hex digits)")
    parser.add_argument(
        "--for", dest="seconds", type=non_negative, help="stop after this many seconds"
    )
    parser.add_argument("--count", type=at_least(1), help="stop after printing this many lines")
    parser.add_argument(
        "--from-start", action="store_true", help="print what the files hold already, then follow"
    )
    parser.add_argument(
        "--interval", type=seconds, default=0.25, help="seconds between looks (default 0.25)"
    )


def tail(args: argparse.Namespace) -> int:
    """Print spans and log lines as they are written, by every process, until interrupted.

    Follows files as they grow, new files as they appear and live files through rotation.
    Span starts show as ▶, ends as ■ with the duration, log lines with their level. --json
    prints the lines as written.
    """
    from logtrace.cli.render import tail_line
    from logtrace.read.tail import Follower
    from logtrace.read.trace import normalize_trace_id

    trace = None if args.trace is None else normalize_trace_id(args.trace)
    follower = Follower(args.dir, from_start=args.from_start)
    if args.verbose:
        print(f"following {follower.file_count} files in {args.dir}", file=sys.stderr, flush=True)
    console = None if args.json else make_console()
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    printed = 0
    import orjson

    try:
        while True:
            for line in follower.poll():
                if line.get(f.EVENT) == f.FILE_EVENT and line.get(f.LOGGER) == "logtrace":
                    continue
                if args.service is not None and line.get(f.SERVICE) != args.service:
                    continue
                if trace is not None and not str(line.get(f.TRACE_ID) or "").startswith(trace):
                    continue
                if console is None:
                    sys.stdout.write(orjson.dumps(line).decode() + "\n")
                    sys.stdout.flush()
                else:
                    console.print(tail_line(line))
                    console.file.flush()
                printed += 1
                if args.count is not None and printed >= args.count:
                    return 0
            left = math.inf if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return 0
            time.sleep(min(args.interval, left))  # --for 1 --interval 60: one second
    finally:
        follower.close()
        if args.verbose:
            print(
                f"skipped {follower.skipped} lines that are not JSON objects, "
                f"{follower.unreadable} files that do not decode",
                file=sys.stderr,
            )


def _cat_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", metavar="WHEN", help="from this long ago (30s, 15m, 1h, 2d, 1w) or a UTC time"
    )
    parser.add_argument("--until", metavar="WHEN", help="before then (same forms as --since)")
    parser.add_argument("--trace", metavar="ID", help="only this trace (8+ hex digits will do)")
    parser.add_argument("--service", help="only lines of this service")


def cat(args: argparse.Namespace) -> int:
    """Print every line as JSONL, oldest first: live, rotated (.zst) and compacted files alike.

    What grep and jq need once history is compacted into Parquet. Examples:
      logtrace cat --since 1d | grep ValueError
      logtrace cat --trace 01a2339e6f12 | jq -c 'select(.level == "error")'
    """
    params = filter_params(since=args.since, until=args.until)
    with open_reader(args, params["since"], params["until"]) as reader:
        lines = reader.cat(
            since=params["since"], until=params["until"], trace=args.trace, service=args.service
        )
        write = sys.stdout.write
        for line in lines:
            write(line + "\n")
        sys.stdout.flush()
        if args.verbose:
            report_skipped(reader)
        elif files_left_out := truncated_note(reader):
            # Whole files left out are known without reading again; lines skipped inside the
            # files are counted by -v (a second pass over every file).
            note("logtrace cat: " + files_left_out.removeprefix("; "))
    return 0


register("cat", cat, _cat_arguments)
register("ls", ls, _ls_arguments)
register("show", show, _show_arguments)
register("stats", stats, _stats_arguments)
register("sql", sql, _sql_arguments)
register("tail", tail, _tail_arguments)
